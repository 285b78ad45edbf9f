/**
 * Sends what a list sends (copies to the members, notices) the way the MX delivers: each address through
 * the recipient policy (an admin configured the members, so relaying to them is allowed), local mailboxes
 * of this region into the mail store, everything else into the outbound queue; one copy per mailbox or
 * address however many members lead there.
 */
import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { type Destination, resolveRecipient } from '../policy.js';
import type { DeliveryStore, RecipientDirectory } from '../ports.js';
import type { OutboundQueue, QueuedRecipient } from '../queue/outbound-queue.js';

export interface DeliveryDeps {
  region: string;
  directory: RecipientDirectory;
  store: DeliveryStore;
  queue: OutboundQueue;
  now: () => Date;
}

/** `prefix` then the bytes of `file` (or of `text`), as one stream. */
export function prefixed(prefix: string, body: { file: string } | { text: string }): Readable {
  const out = new PassThrough();
  out.write(prefix);
  if ('text' in body) out.end(body.text);
  else {
    const file = createReadStream(body.file);
    file.on('error', (err) => out.destroy(err));
    file.pipe(out);
  }
  return out;
}

export interface Delivered {
  local: number;
  queued: number;
  /** Addresses the policy refused (unknown, disabled, over quota), with the reason. */
  skipped: Array<{ address: string; reason: string }>;
}

/**
 * Delivers `body` (with `headers` added at the top) to `recipients` with the envelope sender `sender`
 * (local copies get it as their `Return-Path:`, RFC 5321 §4.4).
 */
export async function deliverTo(
  deps: DeliveryDeps,
  recipients: readonly string[],
  sender: string,
  headers: string,
  body: { file: string } | { text: string },
): Promise<Delivered> {
  const local = new Map<string, string>();
  const queued = new Map<string, QueuedRecipient>();
  const skipped: Delivered['skipped'] = [];
  for (const rcpt of recipients) {
    let dests: Destination[];
    try {
      dests = await resolveRecipient(rcpt, {
        region: deps.region,
        relayAllowed: true,
        directory: deps.directory,
        quota: async (id) => {
          await deps.store.ensureUser(id);
          return deps.store.quota(id);
        },
      });
    } catch (err) {
      skipped.push({ address: rcpt, reason: (err as Error).message });
      continue;
    }
    for (const d of dests) {
      if (d.kind === 'local') local.set(d.mailboxId, d.address);
      else if (!queued.has(d.address.toLowerCase())) {
        queued.set(d.address.toLowerCase(), {
          address: d.address,
          route: d.route,
          ...(d.region ? { region: d.region } : {}),
          ...(d.address !== rcpt ? { orcpt: `rfc822;${rcpt}` } : {}),
        });
      }
    }
  }
  if (local.size > 0) {
    const users = [...local.keys()];
    for (const u of users) await deps.store.ensureUser(u);
    await deps.store.deliver({
      users,
      source: prefixed(`Return-Path: <${sender}>\r\n${headers}`, body),
      internalDate: deps.now(),
    });
  }
  if (queued.size > 0) {
    const spooled = await deps.queue.spool(prefixed(headers, body));
    try {
      await deps.queue.enqueue({ ...spooled, sender, recipients: [...queued.values()] });
    } catch (err) {
      deps.queue.discard(spooled.file);
      throw err;
    }
  }
  return { local: local.size, queued: queued.size, skipped };
}
