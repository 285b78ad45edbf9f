/**
 * Submission (RFC 6409 §6.1, §8.1): an authenticated user's message must carry one of their own addresses
 * in From (and Sender, when present). This Transform passes the bytes through unchanged while it reads the
 * header block; at its end it checks the sender fields and fails the stream with a 550 5.7.1 otherwise (the
 * delivery is atomic, so nothing is stored or queued).
 *
 * The fields are found and unfolded as IMAP finds them (lines end at LF, a CR before it dropped; a line
 * starting with white space continues the field) and their values read by the one strict RFC 5322 §3.4
 * parser (`parseAddressList` of @delegato/sasl) that IMAP's ENVELOPE uses, so the address a client shows
 * is the address checked here. Beyond ownership, anything a client could show differently is refused:
 *
 * - a value that is not a strict RFC 5322 address-list (obsolete syntax, routes, unterminated quotes,
 *   encoded words in an address, control characters);
 * - more than one From or Sender field (RFC 5322 §3.6: at most one each), more than one mailbox in either,
 *   group syntax (RFC 6854) in either;
 * - comments anywhere in them (some clients show a comment as the name);
 * - a display name that, decoded as a client decodes it (RFC 2047 encoded words, also inside quotes, and
 *   UTF-8), contains an `@` or a look-alike of one (`postmaster@b.example <alice@a.example>`), or uses a
 *   charset we cannot decode;
 * - a bare CR anywhere in the header block (clients that split lines at CR would see other fields).
 */
import { Transform } from 'node:stream';
import { decodeDisplayName, mailboxAddress, parseAddressList } from '@delegato/sasl';
import { replyError, type SmtpReplyError } from './replies.js';

/** A header block larger than this is not inspected further (it is refused as not owned). */
export const MAX_HEADER_BYTES = 256 * 1024;

/** The fields whose addresses a client shows as the message's author (RFC 5322 §3.6.2). */
const SENDER_FIELDS = ['from', 'sender'] as const;

/** `@` and the characters clients render like one (FULLWIDTH and SMALL COMMERCIAL AT). */
const AT_SIGNS = /[@\uFF20\uFE6B]/;

/** Header fields as IMAP reads them (packages/imap/src/mime/header.ts): lower-case name, unfolded value. */
function headerFields(headerBlock: string): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  for (const raw of headerBlock.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const last = fields[fields.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last[1] += line;
      continue;
    }
    const colon = line.indexOf(':');
    fields.push(
      colon >= 0 ? [line.slice(0, colon).trimEnd().toLowerCase(), line.slice(colon + 1)] : ['', line],
    );
  }
  return fields.map(([name, value]) => [name, value.replace(/^[ \t]+|[ \t]+$/g, '')]);
}

/** What is wrong with one From or Sender value for a user owning `owned` (lower-case), or null. */
function senderValueProblem(field: string, value: string, owned: ReadonlySet<string>): string | null {
  const parsed = parseAddressList(value);
  if (parsed.problem !== null) return `${field}: not a plain RFC 5322 address (${parsed.problem})`;
  if (parsed.comments.length > 0) return `${field}: comments are not allowed`;
  const [only, ...more] = parsed.addresses;
  if (!only || more.length > 0) return `${field}: exactly one address is allowed`;
  if (only.kind === 'group') return `${field}: group syntax is not allowed`;
  if (only.name !== null) {
    const shown = decodeDisplayName(only.name);
    if (shown === null) return `${field}: display name in an unknown charset`;
    if (AT_SIGNS.test(shown)) return `${field}: display name looks like an address`;
  }
  const address = Buffer.from(mailboxAddress(only), 'latin1').toString('utf8').toLowerCase();
  return owned.has(address) ? null : address;
}

/**
 * The reasons a header block's sender fields are refused for a user owning `owned` (lower-case
 * addresses): a foreign address itself, or what makes the fields ambiguous. Empty: accepted.
 */
export function senderProblems(headerBlock: string, owned: ReadonlySet<string>): string[] {
  if (/\r(?!\n)/.test(headerBlock)) return ['bare CR in the header'];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const [name, value] of headerFields(headerBlock)) {
    const field = SENDER_FIELDS.find((f) => f === name);
    if (!field) continue;
    seen.set(field, (seen.get(field) ?? 0) + 1);
    const problem = senderValueProblem(field, value, owned);
    if (problem) problems.push(problem);
  }
  for (const [field, n] of seen) if (n > 1) problems.push(`${field}: ${n} fields, at most one is allowed`);
  return problems;
}

function refusal(problems: string[]): SmtpReplyError {
  return replyError('senderNotOwned', problems.join(', '));
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
          const bad = end >= 0 ? senderProblems(head.slice(0, end), owned) : ['(header block too large)'];
          head = '';
          if (bad.length > 0) {
            refused = true;
            onViolation(refusal(bad));
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
        const bad = senderProblems(head, owned);
        if (bad.length > 0) onViolation(refusal(bad));
      }
      cb();
    },
  });
}
