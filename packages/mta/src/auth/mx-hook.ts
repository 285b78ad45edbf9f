/**
 * The MX's side of message authentication (inbound.ts does the checks): which sessions are checked (mail
 * from outside: not authenticated, not from the internal networks, not on a channel such as the federation
 * listener), and where a quarantined message goes (every local recipient's Junk folder, RFC 6154 `\Junk`).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SMTPServerSession } from 'smtp-server';
import { TooLargeError } from '../fsync.js';
import { type Cidr, inNetworks } from '../networks.js';
import type { DeliveryStore } from '../ports.js';
import { replyError } from '../replies.js';
import type { InboundAuth } from './inbound.js';

/** The mail store with IMAP APPEND (the MailStore has it): how a quarantined message reaches Junk. */
type AppendingStore = DeliveryStore & {
  append?(
    userId: string,
    folder: string,
    source: Readable,
    opts?: { internalDate?: Date; maxBytes?: number },
  ): Promise<{ uid: number }>;
};

export interface MxChecked {
  /** Our `Authentication-Results:` field, to go on top of the trace header ('' when not checked). */
  headers: string;
  /** The message: as received with forged results removed (its work file goes once it is read), or DATA itself. */
  source(): Readable;
  /** Where local copies go: the store itself, or one that files them in Junk. */
  store: DeliveryStore;
}

/**
 * Checks the DATA of a session from outside (inbound.ts); a session that is not checked (no `auth`, an
 * authenticated client, an internal network, a channel) gets its DATA stream as it is. Throws
 * SmtpReplyError: 550 5.7.1 for a rejected message, 552 5.3.4 beyond `maxMessageBytes`.
 */
export async function mxAuthenticate(
  opts: { auth?: InboundAuth; channel?: unknown; store: DeliveryStore },
  session: SMTPServerSession,
  stream: Readable,
  internal: Cidr[],
  limits: { maxMessageBytes: number },
): Promise<MxChecked> {
  const auth = opts.auth;
  if (!auth || opts.channel || session.user || inNetworks(session.remoteAddress, internal))
    return { headers: '', source: () => stream, store: opts.store };
  const from = session.envelope.mailFrom;
  let checked: Awaited<ReturnType<InboundAuth['check']>>;
  try {
    checked = await auth.check(stream, {
      ip: session.remoteAddress,
      helo: session.hostNameAppearsAs ?? '',
      sender: from ? from.address : '',
      maxBytes: limits.maxMessageBytes,
    });
  } catch (err) {
    if (err instanceof TooLargeError) throw replyError('messageTooBig');
    throw err;
  }
  return {
    headers: checked.headers,
    source: () => {
      const s = checked.source();
      s.once('close', () => void checked.discard());
      return s;
    },
    store: checked.verdict === 'quarantine' ? junkStore(opts.store, auth.o.workDir) : opts.store,
  };
}

/** A DeliveryStore that files every copy in the user's Junk folder (INBOX when the user has none). */
export function junkStore(store: AppendingStore, workDir: string): DeliveryStore {
  return {
    ensureUser: (id) => store.ensureUser(id),
    quota: (id) => store.quota(id),
    openMessage: (id, _folder, uid) => store.openMessage(id, 'Junk', uid),
    async deliver(req) {
      const append = store.append?.bind(store);
      if (!append) return store.deliver(req);
      const file = join(workDir, `junk-${Date.now()}-${randomBytes(6).toString('hex')}.eml`);
      try {
        await pipeline(req.source, createWriteStream(file, { mode: 0o600 }));
        const uids = new Map<string, number>();
        for (const user of req.users) {
          const opts = {
            ...(req.internalDate ? { internalDate: req.internalDate } : {}),
            ...(req.maxBytes ? { maxBytes: req.maxBytes } : {}),
          };
          try {
            uids.set(user, (await append(user, 'Junk', createReadStream(file), opts)).uid);
          } catch (err) {
            if ((err as { code?: string }).code !== 'no-such-folder') throw err;
            const r = await store.deliver({ ...req, users: [user], source: createReadStream(file) });
            uids.set(user, r.uids.get(user) ?? 0);
          }
        }
        return { size: (await stat(file)).size, uids };
      } finally {
        await unlink(file).catch(() => undefined);
      }
    },
  };
}
export type { InboundAuth } from './inbound.js';
