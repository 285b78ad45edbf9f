/**
 * The bytes of a body section (RFC 9051 §6.4.5 BODY[section]): part numbers address the children of a
 * multipart, the body of a non-multipart (`1` of a single-part message), and, after a message/rfc822
 * part, the parts of the encapsulated message; HEADER, HEADER.FIELDS[.NOT] and TEXT apply to the message
 * or to an encapsulated message; MIME to the header of a part. Null when the part does not exist.
 */
import { refused } from '../errors.js';
import { decodeBase64, decodeQuotedPrintable } from '../mime/decode.js';
import type { HeaderField } from '../mime/header.js';
import type { MimePart } from '../mime/parser.js';
import type { Section } from './items.js';

const CRLF = Buffer.from('\r\n');

/** The part a list of part numbers names, or null. */
export function findPart(root: MimePart, numbers: readonly number[]): MimePart | null {
  let cur: MimePart = root;
  /** Whether `cur` is a message (the root, or one encapsulated in message/rfc822). */
  let atMessage = true;
  for (let i = 0; i < numbers.length; i++) {
    const n = numbers[i] as number;
    if (i > 0 && cur.message) {
      cur = cur.message;
      atMessage = true;
    }
    if (cur.type === 'multipart' && cur.children.length > 0) {
      const child = cur.children[n - 1];
      if (!child) return null;
      cur = child;
    } else if (n !== 1 || !atMessage) {
      // RFC 9051 §6.4.5: a non-multipart message has only part 1 (its body); other leaves have none.
      return null;
    }
    atMessage = false;
  }
  return cur;
}

function headerBytes(raw: Buffer, part: MimePart): Buffer {
  return raw.subarray(part.start, part.bodyStart);
}

function selectFields(
  raw: Buffer,
  fields: readonly HeaderField[],
  names: readonly string[],
  not: boolean,
): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const parts: Buffer[] = [];
  for (const f of fields) {
    if (f.key === '') continue;
    if (wanted.has(f.key) !== not) {
      const bytes = raw.subarray(f.start, f.end);
      parts.push(bytes);
      if (bytes[bytes.length - 1] !== 0x0a) parts.push(CRLF);
    }
  }
  parts.push(CRLF);
  return Buffer.concat(parts);
}

export function sectionBytes(raw: Buffer, root: MimePart, section: Section): Buffer | null {
  const part = findPart(root, section.part);
  if (!part) return null;
  if (section.text === '') {
    return section.part.length === 0 ? raw : raw.subarray(part.bodyStart, part.end);
  }
  if (section.text === 'MIME') return headerBytes(raw, part);
  // HEADER, HEADER.FIELDS[.NOT], TEXT: of the message, or of a message/rfc822 part's message.
  let msg: MimePart | null = part;
  if (section.part.length > 0) msg = part.message;
  if (!msg) return null;
  switch (section.text) {
    case 'HEADER':
      return headerBytes(raw, msg);
    case 'TEXT':
      return raw.subarray(msg.bodyStart, msg.end);
    case 'HEADER.FIELDS':
      return selectFields(raw, msg.fields, section.fields, false);
    case 'HEADER.FIELDS.NOT':
      return selectFields(raw, msg.fields, section.fields, true);
  }
}

/**
 * The content of a part with its transfer encoding removed (BINARY, RFC 3516 §4.2). The whole message
 * (no part number), multiparts and messages come as they are; an encoding we do not know is
 * `NO [UNKNOWN-CTE]` (RFC 3516 §4.3). Null when the part does not exist.
 */
export function binaryBytes(raw: Buffer, root: MimePart, part: readonly number[]): Buffer | null {
  if (part.length === 0) return raw;
  const p = findPart(root, part);
  if (!p) return null;
  const body = raw.subarray(p.bodyStart, p.end);
  if (p.type === 'multipart' || p.message) return body;
  const encoding = (p.encoding ?? '7bit').toLowerCase();
  switch (encoding) {
    case 'base64':
      return decodeBase64(body);
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    case '7bit':
    case '8bit':
    case 'binary':
      return body;
    default:
      throw refused('UNKNOWN-CTE', `Unknown Content-Transfer-Encoding: ${encoding.slice(0, 40)}`);
  }
}
