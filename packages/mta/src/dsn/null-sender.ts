/**
 * Delivers a message the appliance wrote itself (a DSN, an expiry or certificate warning) with the null
 * reverse-path (RFC 5321 §4.5.5): resolved like any other mail (the address may be an alias, in another
 * region, or elsewhere; relaying is authorized, the appliance is the author), into mailboxes here, or
 * through the outbound queue with NOTIFY=NEVER, so that it never causes another notice. Quota is not
 * checked at resolution: the store's own check at delivery applies.
 */
import type { Readable } from 'node:stream';
import { resolveRecipient } from '../policy.js';
import type { DeliveryStore, RecipientDirectory } from '../ports.js';
import type { OutboundQueue } from '../queue/outbound-queue.js';

export interface NullSenderTargets {
  region: string;
  directory: RecipientDirectory;
  store: Pick<DeliveryStore, 'ensureUser' | 'deliver'>;
  queue: OutboundQueue;
}

/** Delivers `source()` (called once per destination kind) to `to`, as of `at`. */
export async function deliverWithNullSender(
  targets: NullSenderTargets,
  to: string,
  source: () => Readable,
  at: Date,
): Promise<void> {
  const dests = await resolveRecipient(to, {
    region: targets.region,
    relayAllowed: true,
    directory: targets.directory,
    quota: async () => ({ usedBytes: 0 }),
  });
  const local = [...new Set(dests.flatMap((d) => (d.kind === 'local' ? [d.mailboxId] : [])))];
  const remote = dests.flatMap((d) => (d.kind === 'queue' ? [d] : []));
  if (local.length > 0) {
    for (const u of local) await targets.store.ensureUser(u);
    await targets.store.deliver({ users: local, source: source(), internalDate: at });
  }
  if (remote.length > 0) {
    const spooled = await targets.queue.spool(source());
    await targets.queue.enqueue({
      ...spooled,
      sender: '',
      recipients: remote.map((d) => ({
        address: d.address,
        route: d.route,
        ...(d.region ? { region: d.region } : {}),
        notify: ['NEVER'],
      })),
    });
  }
}
