/**
 * Messages APPENDed with binary content (a literal8, RFC 3516 §4.4): a part holding NUL octets cannot be
 * returned in a BODY[] literal (RFC 9051 §4.3: literals are CHAR8, no NUL; RFC 3516 §4.3: the server must
 * not send binary data where the client did not ask for BINARY). As Dovecot, such parts are stored
 * base64-encoded: BODY[] shows base64, BINARY[] the original octets.
 */
import { type MimePart, parseMime } from './parser.js';

/** base64 line length (RFC 2045 §6.8: at most 76 characters). */
const BASE64_LINE = 76;
const CRLF = '\r\n';
const ENCODED_HEADER = Buffer.from(`Content-Transfer-Encoding: base64${CRLF}`);
/** Parts whose bytes are not transfer-encoded (the ones that may carry NUL as they are). */
const UNENCODED = new Set(['7bit', '8bit', 'binary']);

interface Edit {
  start: number;
  end: number;
  bytes: Buffer;
}

/** `raw` with every unencoded leaf part that contains NUL re-encoded as base64; `raw` itself without NUL. */
export function encodeNulParts(raw: Buffer): Buffer {
  if (!raw.includes(0)) return raw;
  const edits: Edit[] = [];
  collect(raw, parseMime(raw), edits);
  if (edits.length === 0) return raw;
  edits.sort((a, b) => a.start - b.start);
  const out: Buffer[] = [];
  let at = 0;
  for (const e of edits) {
    out.push(raw.subarray(at, e.start), e.bytes);
    at = e.end;
  }
  out.push(raw.subarray(at));
  return Buffer.concat(out);
}

function collect(raw: Buffer, part: MimePart, edits: Edit[]): void {
  if (part.children.length > 0) {
    for (const c of part.children) collect(raw, c, edits);
    return;
  }
  if (part.message) {
    collect(raw, part.message, edits);
    return;
  }
  const body = raw.subarray(part.bodyStart, part.end);
  if (!body.includes(0) || !UNENCODED.has((part.encoding ?? '7bit').toLowerCase())) return;
  // The header: Content-Transfer-Encoding fields dropped, base64 declared after the last field.
  let insertAt = part.start;
  for (const f of part.fields) {
    if (f.key === 'content-transfer-encoding')
      edits.push({ start: f.start, end: f.end, bytes: Buffer.alloc(0) });
    if (f.key !== '') insertAt = Math.max(insertAt, f.end);
  }
  edits.push({ start: insertAt, end: insertAt, bytes: ENCODED_HEADER });
  const b64 = body.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += BASE64_LINE) lines.push(b64.slice(i, i + BASE64_LINE));
  edits.push({ start: part.bodyStart, end: part.end, bytes: Buffer.from(lines.join(CRLF)) });
}
