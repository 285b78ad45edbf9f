/**
 * How a mailbox's life ends: its expiration date (inclusive, in the appliance's time zone; the date rules
 * are in ../expiry.ts), its removal (disabled at once, mail kept for `retentionDays`), and the purge, at
 * once or by the scheduled job once the retention has passed. Each of these may end the mailbox's
 * sessions, so each announces the mailbox (writer.ts).
 */
import { and, eq, lte } from 'drizzle-orm';
import { conflict } from '../errors.js';
import { parseIsoDate } from '../expiry.js';
import { addresses, domains, mailboxes } from '../schema.js';
import { requireOperator } from '../scope.js';
import { type DirectoryContext, mailboxByOfficial, POSTMASTER, scopedAddress } from './context.js';
import { detachMailbox } from './rows.js';
import type { ChangeContext } from './writer.js';

/** `mailbox.expire`: sets (or with null, clears) a mailbox's last day. */
export async function setExpiry(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { address: string; expiresOn: string | null },
): Promise<{ expiresOn: string | null }> {
  const date = input.expiresOn === null ? null : parseIsoDate(input.expiresOn);
  const { address, domainRow } = await scopedAddress(ctx.db, change.actor, input.address);
  const mb = await mailboxByOfficial(ctx.db, address);
  return change.commit({ action: 'mailbox.expire', target: address, domain: domainRow.name }, async (tx) => {
    await tx
      .update(mailboxes)
      .set({ expiresOn: date, updatedAt: ctx.nowIso() })
      .where(eq(mailboxes.id, mb.id));
    return { result: { expiresOn: date }, details: { from: mb.expiresOn, to: date }, accounts: [mb.id] };
  });
}

/**
 * `mailbox.remove`: disabled at once (mail to it gets 5.2.1), its aliases let go of it, its mail kept
 * for the retention period. `purge` deletes it now. Returns the mailbox id the mail store must purge
 * (when purged) and when it will be purged otherwise.
 */
export async function removeMailbox(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { address: string; purge?: boolean },
): Promise<{ address: string; mailboxId: string; purged: boolean; purgeAfter: string | null }> {
  const { address, domainRow } = await scopedAddress(ctx.db, change.actor, input.address);
  const mb = await mailboxByOfficial(ctx.db, address);
  if (mb.localPart === POSTMASTER) {
    throw conflict(`${address} cannot be removed: every domain must accept postmaster@ (RFC 5321 §4.5.1)`);
  }
  if (mb.state === 'removed' && !input.purge) {
    throw conflict(
      `${address} is already removed; its mail is purged after ${mb.purgeAfter} (or use --purge)`,
    );
  }
  const now = ctx.now();
  if (input.purge) {
    return change.commit({ action: 'mailbox.purge', target: address, domain: domainRow.name }, async (tx) => {
      await detachMailbox(tx, mb.id);
      await tx.delete(addresses).where(eq(addresses.mailboxId, mb.id));
      await tx.delete(mailboxes).where(eq(mailboxes.id, mb.id));
      return { result: { address, mailboxId: mb.id, purged: true, purgeAfter: null }, accounts: [mb.id] };
    });
  }
  const purgeAfter = new Date(now.getTime() + ctx.options.retentionDays * 86_400_000).toISOString();
  return change.commit({ action: 'mailbox.remove', target: address, domain: domainRow.name }, async (tx) => {
    await detachMailbox(tx, mb.id);
    await tx
      .update(mailboxes)
      .set({
        state: 'removed',
        removedAt: now.toISOString(),
        purgeAfter,
        updatedAt: now.toISOString(),
        sessionsValidAfter: now.toISOString(),
      })
      .where(eq(mailboxes.id, mb.id));
    return {
      result: { address, mailboxId: mb.id, purged: false, purgeAfter },
      details: { purgeAfter },
      accounts: [mb.id],
    };
  });
}

/**
 * `mailbox.purge-due`, the purge job: deletes removed mailboxes whose retention has passed, one change
 * each; returns their ids (the mail store purges their mail).
 */
export async function purgeExpiredRemovals(
  ctx: DirectoryContext,
  change: ChangeContext,
  _input: Record<string, never>,
): Promise<Array<{ address: string; mailboxId: string }>> {
  requireOperator(change.actor, 'purge mailboxes');
  const due = await ctx.db
    .select()
    .from(mailboxes)
    .where(and(eq(mailboxes.state, 'removed'), lte(mailboxes.purgeAfter, ctx.nowIso())));
  const out = [];
  for (const mb of due) {
    const [domain] = await ctx.db.select().from(domains).where(eq(domains.id, mb.domainId));
    const entry = { action: 'mailbox.purge', target: mb.address, domain: domain?.name ?? null };
    await change.commit(entry, async (tx) => {
      await tx.delete(addresses).where(eq(addresses.mailboxId, mb.id));
      await tx.delete(mailboxes).where(eq(mailboxes.id, mb.id));
      return { result: undefined, details: { reason: 'retention' }, accounts: [mb.id] };
    });
    out.push({ address: mb.address, mailboxId: mb.id });
  }
  return out;
}
