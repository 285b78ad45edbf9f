/**
 * Response encoding (RFC 9051 §4, §9): strings go out quoted when they are short 7-bit text without
 * CR/LF, as literals otherwise (8-bit header bytes, long values); mailbox names in modified UTF-7
 * (RFC 3501 §5.1.3). A response is built as a tree of strings and buffers (`Wire`) and flattened once.
 */
import { encodeMutf7 } from './mutf7.js';

export type Wire = string | Buffer | readonly Wire[];

const CRLF = '\r\n';
/** Longest string sent quoted rather than as a literal. */
const MAX_QUOTED = 1024;

/** Whether text may go in a quoted string: 7-bit, no NUL, CR or LF (RFC 9051 §9 QUOTED-CHAR). */
function quotable(text: string): boolean {
  if (text.length > MAX_QUOTED) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d || c > 0x7f) return false;
  }
  return true;
}

function quotableBytes(bytes: Buffer): boolean {
  if (bytes.length > MAX_QUOTED) return false;
  for (const c of bytes) if (c === 0 || c === 0x0a || c === 0x0d || c > 0x7f) return false;
  return true;
}

/** `"text"` with `\` and `"` escaped. The caller knows the text is quotable. */
export function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&')}"`;
}

/** A literal: `{n}` CRLF and the octets. */
export function literal(bytes: Buffer): Wire {
  return [`{${bytes.length}}${CRLF}`, bytes];
}

/** A literal8 when the bytes hold NUL (RFC 3516 §4.2: `~{n}`), a literal otherwise. */
export function literal8(bytes: Buffer): Wire {
  return bytes.includes(0) ? [`~{${bytes.length}}${CRLF}`, bytes] : literal(bytes);
}

/** A string (RFC 9051 §9 `string`): quoted when possible, literal otherwise. */
export function str(value: string | Buffer): Wire {
  if (typeof value === 'string') return quotable(value) ? quoted(value) : literal(Buffer.from(value, 'utf8'));
  return quotableBytes(value) ? quoted(value.toString('latin1')) : literal(value);
}

/** `nstring`: NIL for null/undefined. */
export function nstring(value: string | Buffer | null | undefined): Wire {
  return value === null || value === undefined ? 'NIL' : str(value);
}

/**
 * A mailbox name as sent to the client: modified UTF-7 (RFC 3501 §5.1.3), or UTF-8 in a quoted string
 * once IMAP4rev2 is enabled (RFC 9051 §5.1, §9 quoted allows UTF-8).
 */
export function mailboxName(name: string, utf8 = false): Wire {
  if (!utf8) return str(encodeMutf7(name));
  return name.length <= MAX_QUOTED && !/[\0\r\n]/.test(name)
    ? quoted(name)
    : literal(Buffer.from(name, 'utf8'));
}

/** Items separated by single spaces. */
export function join(items: readonly Wire[], sep = ' '): Wire {
  const out: Wire[] = [];
  items.forEach((item, i) => {
    if (i > 0) out.push(sep);
    out.push(item);
  });
  return out;
}

/** `(a b c)`. */
export function paren(items: readonly Wire[]): Wire {
  return ['(', join(items), ')'];
}

/** Flattens a response into one buffer. */
export function toBuffer(w: Wire): Buffer {
  const parts: Buffer[] = [];
  let pendingText = '';
  const walk = (x: Wire): void => {
    if (typeof x === 'string') pendingText += x;
    else if (Buffer.isBuffer(x)) {
      if (pendingText) parts.push(Buffer.from(pendingText, 'utf8'));
      pendingText = '';
      parts.push(x);
    } else for (const y of x as readonly Wire[]) walk(y);
  };
  walk(w);
  if (pendingText) parts.push(Buffer.from(pendingText, 'utf8'));
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/** A tagged, untagged or continuation line as a buffer, CRLF added. */
export function line(w: Wire): Buffer {
  return toBuffer([w, CRLF]);
}
