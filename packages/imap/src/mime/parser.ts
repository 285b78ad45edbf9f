/**
 * The MIME structure of a stored message (RFC 2045, RFC 2046, RFC 5322), as byte ranges into its bytes:
 * every part's header and body, multipart children split on their boundary (RFC 2046 §5.1.1: the CRLF
 * before a delimiter line belongs to the delimiter), and the message encapsulated in a message/rfc822 part
 * (RFC 2046 §5.2.1). FETCH sections, BODYSTRUCTURE and ENVELOPE are computed from this.
 *
 * Lenient like Dovecot: a missing or unparsable Content-Type is text/plain; charset=us-ascii (RFC 2045
 * §5.2), message/rfc822 inside multipart/digest (RFC 2046 §5.1.5); a multipart without boundary is
 * text/plain; a missing close delimiter ends the multipart at the end of its body; an encoded
 * (base64/quoted-printable) message/rfc822 part is not looked into.
 */
import { findField, type HeaderField, parseHeader, unfoldedValue } from './header.js';
import { type MimeParam, paramValue, parseStructured } from './params.js';

export interface MimePart {
  /** First byte of the part's header. */
  start: number;
  /** First byte of the part's body. */
  bodyStart: number;
  /** After the part's last byte. */
  end: number;
  fields: HeaderField[];
  /** Lower-case media type and subtype (defaults applied). */
  type: string;
  subtype: string;
  /** Whether the part had a usable Content-Type (else the defaults above, with charset us-ascii). */
  explicitType: boolean;
  params: MimeParam[];
  disposition: { value: string; params: MimeParam[] } | null;
  /** Content-Transfer-Encoding as written (trimmed), or null. */
  encoding: string | null;
  /** Multipart children (empty otherwise). */
  children: MimePart[];
  /** The encapsulated message of a message/rfc822 part. */
  message: MimePart | null;
  /** Lines of the body (RFC 9051 §7.5.2 body-fld-lines). */
  lines: number;
}

/** Beyond this nesting depth, parts are not looked into (a hostile message cannot recurse us away). */
const MAX_DEPTH = 64;
const LF = 0x0a;

export function parseMime(raw: Buffer): MimePart {
  return parsePart(raw, lineIndex(raw), 0, raw.length, false, 0);
}

/** The offsets of every LF, once per message: line counts of nested parts then cost O(log n) each. */
function lineIndex(buf: Buffer): Uint32Array {
  let count = 0;
  for (let i = buf.indexOf(LF); i >= 0; i = buf.indexOf(LF, i + 1)) count++;
  const out = new Uint32Array(count);
  let n = 0;
  for (let i = buf.indexOf(LF); i >= 0; i = buf.indexOf(LF, i + 1)) out[n++] = i;
  return out;
}

/** Index of the first entry >= value. */
function lowerBound(a: Uint32Array, value: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Lines in [start, end): the LFs, plus a last line without one. */
function countLines(buf: Buffer, lfs: Uint32Array, start: number, end: number): number {
  if (end <= start) return 0;
  const n = lowerBound(lfs, end) - lowerBound(lfs, start);
  return buf[end - 1] === LF ? n : n + 1;
}

function parsePart(
  buf: Buffer,
  lfs: Uint32Array,
  start: number,
  end: number,
  inDigest: boolean,
  depth: number,
): MimePart {
  const header = parseHeader(buf, start, end);
  const fields = header.fields;
  const value = (key: string) => {
    const f = findField(fields, key);
    return f ? unfoldedValue(buf, f).toString('latin1') : undefined;
  };
  let type = inDigest ? 'message' : 'text';
  let subtype = inDigest ? 'rfc822' : 'plain';
  let params: MimeParam[] = [];
  let explicitType = false;
  const ct = value('content-type');
  if (ct !== undefined) {
    const parsed = parseStructured(ct);
    const m = /^([^/\s]+)\/([^/\s]+)$/.exec(parsed.value);
    if (m) {
      type = (m[1] as string).toLowerCase();
      subtype = (m[2] as string).toLowerCase();
      params = parsed.params;
      explicitType = true;
    }
  }
  const cd = value('content-disposition');
  let disposition: MimePart['disposition'] = null;
  if (cd !== undefined) {
    const parsed = parseStructured(cd);
    if (parsed.value !== '') disposition = { value: parsed.value, params: parsed.params };
  }
  const encodingText = value('content-transfer-encoding')?.trim();
  const part: MimePart = {
    start,
    bodyStart: header.bodyStart,
    end,
    fields,
    type,
    subtype,
    explicitType,
    params,
    disposition,
    encoding: encodingText ? encodingText : null,
    children: [],
    message: null,
    lines: 0,
  };
  if (!explicitType && !inDigest) {
    part.params = [{ wireName: 'charset', wireValue: 'us-ascii', key: 'charset', value: 'us-ascii' }];
  }
  part.lines = countLines(buf, lfs, part.bodyStart, end);
  if (depth >= MAX_DEPTH) return part;

  if (type === 'multipart') {
    const boundary = paramValue(params, 'boundary');
    if (!boundary) {
      part.type = 'text';
      part.subtype = 'plain';
      part.explicitType = false;
      part.params = [{ wireName: 'charset', wireValue: 'us-ascii', key: 'charset', value: 'us-ascii' }];
      return part;
    }
    const digest = subtype === 'digest';
    for (const [s, e] of splitMultipart(buf, part.bodyStart, end, boundary)) {
      part.children.push(parsePart(buf, lfs, s, e, digest, depth + 1));
    }
  } else if (type === 'message' && (subtype === 'rfc822' || subtype === 'global')) {
    const enc = (part.encoding ?? '7bit').toLowerCase();
    if (enc === '7bit' || enc === '8bit' || enc === 'binary') {
      part.message = parsePart(buf, lfs, part.bodyStart, end, false, depth + 1);
    }
  }
  return part;
}

/**
 * The [start, end) ranges of a multipart body's parts. A delimiter line is `--boundary` followed only by
 * optional whitespace (RFC 2046 §5.1.1 transport padding); the close delimiter is `--boundary--`.
 * Without any delimiter, the whole body is the one part.
 */
function splitMultipart(buf: Buffer, start: number, end: number, boundary: string): Array<[number, number]> {
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const ranges: Array<[number, number]> = [];
  let partStart = -1;
  let pos = start;
  while (pos < end) {
    let nl = buf.indexOf(LF, pos);
    if (nl < 0 || nl >= end) nl = end;
    const lineEnd = nl;
    if (
      buf[pos] === 0x2d &&
      buf[pos + 1] === 0x2d &&
      lineEnd - pos >= delim.length &&
      buf.compare(delim, 0, delim.length, pos, pos + delim.length) === 0
    ) {
      let i = pos + delim.length;
      const close = buf[i] === 0x2d && buf[i + 1] === 0x2d && i + 2 <= lineEnd;
      if (close) i += 2;
      let j = i;
      while (j < lineEnd && (buf[j] === 0x20 || buf[j] === 0x09 || buf[j] === 0x0d)) j++;
      if (close || j === lineEnd) {
        if (partStart >= 0) {
          // The CRLF (or LF) before the delimiter belongs to the delimiter.
          let e = pos;
          if (e > partStart && buf[e - 1] === LF) e--;
          if (e > partStart && buf[e - 1] === 0x0d) e--;
          ranges.push([partStart, Math.max(partStart, e)]);
        }
        if (close) return ranges.length > 0 ? ranges : [[start, end]];
        partStart = Math.min(nl + 1, end);
      }
    }
    pos = nl + 1;
  }
  if (partStart >= 0) ranges.push([partStart, end]);
  return ranges.length > 0 ? ranges : [[start, end]];
}
