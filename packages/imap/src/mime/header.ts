/**
 * Header fields (RFC 5322 §2.2) located in the message bytes: the fields of one header section, each with
 * its byte range, so FETCH can return them exactly as stored (HEADER.FIELDS, RFC 9051 §6.4.5) and ENVELOPE
 * can return raw values (RFC 9051 §7.5.2).
 */

export interface HeaderField {
  /** The field name as written. */
  name: string;
  /** Lower-case name for matching; '' for a line that is not a field (no colon). */
  key: string;
  /** The field's first byte. */
  start: number;
  /** After the field's last line terminator. */
  end: number;
  /** First byte after the colon. */
  valueStart: number;
  /** End of the value, before the final line terminator. */
  valueEnd: number;
}

export interface ParsedHeader {
  fields: HeaderField[];
  /** First byte of the body: after the empty line, or the end of the range when there is none. */
  bodyStart: number;
  /** Whether an empty line ended the header (false: the whole range is header). */
  hasSeparator: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

/** Parses the header section starting at `start`, looking no further than `limit`. */
export function parseHeader(buf: Buffer, start: number, limit: number): ParsedHeader {
  const fields: HeaderField[] = [];
  let pos = start;
  let current: HeaderField | null = null;
  while (pos < limit) {
    let nl = buf.indexOf(LF, pos);
    if (nl < 0 || nl >= limit) nl = limit - 1;
    const next = nl + 1;
    const contentEnd = buf[nl] === LF ? (nl > pos && buf[nl - 1] === CR ? nl - 1 : nl) : next;
    const first = buf[pos];
    if (contentEnd === pos && buf[nl] === LF) {
      // The empty line.
      return { fields, bodyStart: next, hasSeparator: true };
    }
    if ((first === 0x20 || first === 0x09) && current) {
      current.end = next;
      current.valueEnd = contentEnd;
    } else {
      const colon = buf.indexOf(0x3a, pos);
      if (colon >= 0 && colon < contentEnd) {
        const name = buf.toString('latin1', pos, colon).trimEnd();
        current = {
          name,
          key: name.toLowerCase(),
          start: pos,
          end: next,
          valueStart: colon + 1,
          valueEnd: contentEnd,
        };
      } else {
        current = { name: '', key: '', start: pos, end: next, valueStart: pos, valueEnd: contentEnd };
      }
      fields.push(current);
    }
    pos = next;
  }
  return { fields, bodyStart: limit, hasSeparator: false };
}

/** The raw value of a field (folding kept). */
export function fieldValue(buf: Buffer, f: HeaderField): Buffer {
  return buf.subarray(f.valueStart, f.valueEnd);
}

/** The value unfolded (CRLF of folded lines removed), leading whitespace trimmed, as bytes. */
export function unfoldedValue(buf: Buffer, f: HeaderField): Buffer {
  const raw = fieldValue(buf, f);
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === LF) {
      const end = i > 0 && raw[i - 1] === CR ? i - 1 : i;
      parts.push(raw.subarray(from, end));
      from = i + 1;
    }
  }
  parts.push(raw.subarray(from));
  const joined = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  let s = 0;
  while (s < joined.length && (joined[s] === 0x20 || joined[s] === 0x09)) s++;
  let e = joined.length;
  while (e > s && (joined[e - 1] === 0x20 || joined[e - 1] === 0x09)) e--;
  return joined.subarray(s, e);
}

/** The first field named `key` (lower-case). */
export function findField(fields: readonly HeaderField[], key: string): HeaderField | undefined {
  return fields.find((f) => f.key === key);
}
