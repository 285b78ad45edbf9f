/**
 * Submission (RFC 6409 §6.1, §8.1): an authenticated user's message must carry one of their own addresses
 * in From (and Sender, when present). This Transform passes the bytes through unchanged while it reads the
 * header block; at its end it checks the addresses and fails the stream with a 550 5.7.1 otherwise (the
 * delivery is atomic, so nothing is stored or queued).
 */
import { Transform } from 'node:stream';
import addressparser from 'nodemailer/lib/addressparser';
import { replyError } from './replies.js';

/** A header block larger than this is not inspected further (it is refused as not owned). */
export const MAX_HEADER_BYTES = 256 * 1024;

function unfold(headerBlock: string): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  for (const line of headerBlock.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) {
      const last = fields[fields.length - 1] as [string, string];
      last[1] += ` ${line.trim()}`;
    } else {
      const colon = line.indexOf(':');
      if (colon > 0) fields.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
    }
  }
  return fields;
}

function addressesIn(value: string): string[] {
  const out: string[] = [];
  const walk = (list: ReturnType<typeof addressparser>) => {
    for (const a of list) {
      if ('group' in a && a.group) walk(a.group);
      else if ('address' in a && a.address) out.push(a.address.toLowerCase());
    }
  };
  walk(addressparser(value));
  return out;
}

/** The From/Sender addresses of a header block that are not in `owned`. */
export function foreignSenders(headerBlock: string, owned: ReadonlySet<string>): string[] {
  const bad: string[] = [];
  for (const [name, value] of unfold(headerBlock)) {
    if (name !== 'from' && name !== 'sender') continue;
    for (const a of addressesIn(value)) if (!owned.has(a)) bad.push(a);
  }
  return bad;
}

/**
 * The guard never errors itself (pipe() would not forward it): on a violation it calls `onViolation`,
 * which fails the consumer, and stops passing data.
 */
export function fromHeaderGuard(owned: ReadonlySet<string>, onViolation: (err: Error) => void): Transform {
  let refused = false;
  let head = '';
  let checked = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (refused) {
        cb();
        return;
      }
      if (!checked) {
        head += chunk.toString('latin1');
        const end = head.search(/\r?\n\r?\n/);
        if (end >= 0 || head.length > MAX_HEADER_BYTES) {
          checked = true;
          const bad = end >= 0 ? foreignSenders(head.slice(0, end), owned) : ['(header block too large)'];
          head = '';
          if (bad.length > 0) {
            refused = true;
            onViolation(replyError('senderNotOwned', bad.join(', ')));
            cb();
            return;
          }
        }
      }
      cb(null, chunk);
    },
    flush(cb) {
      // A message that is all header (no blank line): check what there is.
      if (!checked) {
        const bad = foreignSenders(head, owned);
        if (bad.length > 0) onViolation(replyError('senderNotOwned', bad.join(', ')));
      }
      cb();
    },
  });
}
