/**
 * Job: purge mailboxes whose retention has passed (`directory.retentionDays` after their removal): the
 * directory rows go, then their mail in the store.
 */
import type { Actor, Directory } from '@delegato/directory';
import type { MailStore } from '@delegato/mailstore';

const JOB_ACTOR: Actor = { kind: 'system', name: 'job:purge-removed', from: 'local' };

export async function purgeRemovedMailboxes(directory: Directory, store: Pick<MailStore, 'purgeUser'>) {
  const purged = await directory.purgeExpiredRemovals(JOB_ACTOR);
  for (const p of purged) await store.purgeUser(p.mailboxId);
  return purged;
}
