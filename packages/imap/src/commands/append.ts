/**
 * APPEND mailbox [(flags)] [date-time] message: RFC 9051 §6.3.12 with LITERAL+ (RFC 7888) and UIDPLUS
 * (RFC 4315 §3: `[APPENDUID uidvalidity uid]`). A missing mailbox answers `NO [TRYCREATE]`; the size limit
 * is the reader's (`NO [TOOBIG]` before the literal is sent) and the store's; quota `NO [OVERQUOTA]`.
 */
import { Readable } from 'node:stream';
import { isStoreError } from '../backend.js';
import { command } from '../context.js';
import { badCommand, refused } from '../errors.js';
import { parseFlagList } from '../flags.js';
import { encodeNulParts } from '../mime/nul-parts.js';
import { ArgReader } from '../parser/args.js';
import { parseDateTime } from '../parser/datetime.js';

export interface AppendArgs {
  mailbox: string;
  flags: string[];
  internalDate: Date | undefined;
  message: Buffer;
}

export const append = command<AppendArgs>({
  name: 'APPEND',
  states: ['authenticated', 'selected'],
  parse(args, env) {
    const r = new ArgReader(args, env);
    const mailbox = r.mailbox();
    let flags: string[] = [];
    if (r.peek()?.kind === 'list') flags = parseFlagList(r.list('flag list'));
    let internalDate: Date | undefined;
    if (r.remaining > 1) {
      const d = r.any('date-time');
      if (d.kind !== 'string') throw badCommand('Invalid date-time');
      internalDate = parseDateTime(d.value.toString('latin1'));
      if (!internalDate) throw badCommand('Invalid date-time');
    }
    const m = r.any('message literal');
    if (m.kind !== 'string') throw badCommand('Message literal expected');
    r.end();
    return { mailbox, flags, internalDate, message: m.value };
  },
  async handle(ctx, { mailbox, flags, internalDate, message }) {
    if (message.length === 0) throw refused('CANNOT', "Can't save a zero byte message.");
    try {
      // Binary parts (NUL octets) are stored base64-encoded (RFC 3516 §4.3, as Dovecot).
      const stored = encodeNulParts(message);
      const r = await ctx.services.backend.append(ctx.user.id, mailbox, Readable.from([stored]), {
        flags,
        internalDate,
        maxBytes: ctx.services.limits.maxLiteralSize,
      });
      return { code: `APPENDUID ${r.uidValidity} ${r.uid}`, text: 'Append completed.' };
    } catch (error) {
      if (isStoreError(error, 'no-such-folder')) {
        // RFC 9051 §6.3.12: the client may CREATE it and try again.
        throw refused('TRYCREATE', "Mailbox doesn't exist");
      }
      throw error;
    }
  },
});
