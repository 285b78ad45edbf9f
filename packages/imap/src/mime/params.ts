/**
 * Structured MIME header values: `type/subtype; name=value; ...` (RFC 2045 §5.1) and Content-Disposition
 * (RFC 2183), with comments, quoted strings, and RFC 2231 parameter continuations and charsets
 * (`name*0*=utf-8''%E2%82%AC; name*1=.pdf`). Works on latin1 strings (one char per byte), so 8-bit
 * values survive unchanged.
 */
import { decodeCharset, decodeEncodedWords, decodeUnknown } from './decode.js';

export interface MimeParam {
  /** As sent to clients in BODYSTRUCTURE (continuations joined; `name*` when RFC 2231 encoded). */
  wireName: string;
  /** Latin1 string of the wire value's bytes. */
  wireValue: string;
  /** Lower-case base name, for lookups. */
  key: string;
  /** The decoded value (charsets, RFC 2231, encoded words). */
  value: string;
}

export interface StructuredValue {
  /** The value before the first `;`, comments and whitespace removed (e.g. `text/plain`, `attachment`). */
  value: string;
  params: MimeParam[];
}

/** Removes comments (nested, RFC 5322 §3.2.2) outside quoted strings. */
function stripComments(text: string): string {
  let out = '';
  let depth = 0;
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inQuote) {
      out += c;
      if (c === '\\' && i + 1 < text.length) out += text[++i];
      else if (c === '"') inQuote = false;
    } else if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
    } else if (c === '(') depth++;
    else {
      if (c === '"') inQuote = true;
      out += c;
    }
  }
  return out;
}

/** Splits on `;` outside quoted strings. */
function splitParams(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inQuote) {
      cur += c;
      if (c === '\\' && i + 1 < text.length) cur += text[++i];
      else if (c === '"') inQuote = false;
    } else if (c === '"') {
      inQuote = true;
      cur += c;
    } else if (c === ';') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unquote(text: string): string {
  const t = text.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1).replace(/\\(.)/g, '$1');
  if (t.startsWith('"')) return t.slice(1).replace(/\\(.)/g, '$1');
  return t;
}

interface Segment {
  index: number;
  extended: boolean;
  text: string;
}

function percentDecode(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c.charCodeAt(0) & 0xff);
  }
  return Buffer.from(bytes);
}

/** RFC 2231 §7 attribute-char: what may stay unencoded in an extended value. */
function percentEncode(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    out +=
      code > 0x20 && code < 0x7f && !'*\'%()<>@,;:\\"/[]?='.includes(c)
        ? c
        : `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Parses a structured value (a latin1 string of the unfolded header value). */
export function parseStructured(raw: string): StructuredValue {
  const parts = splitParams(stripComments(raw));
  const value = (parts.shift() ?? '').replace(/\s+/g, '');
  const groups = new Map<string, { name: string; segments: Segment[] }>();
  const order: string[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const attr = part.slice(0, eq).trim();
    if (attr === '') continue;
    const m = /^(.*?)\*(?:(\d{1,3})(\*)?)?$/.exec(attr);
    let base = attr;
    let seg: Segment;
    const text = unquote(part.slice(eq + 1));
    if (m && m[1] !== '') {
      base = m[1] as string;
      if (m[2] === undefined) seg = { index: 0, extended: true, text };
      else seg = { index: Number(m[2]), extended: m[3] === '*', text };
    } else {
      seg = { index: -1, extended: false, text };
    }
    const key = base.toLowerCase();
    let g = groups.get(key);
    if (!g) {
      g = { name: base, segments: [] };
      groups.set(key, g);
      order.push(key);
    }
    // A plain `name=` and a continuation `name*0=` both present: keep the first seen kind only.
    if (g.segments.some((s) => s.index === seg.index)) continue;
    g.segments.push(seg);
  }
  const params: MimeParam[] = [];
  for (const key of order) {
    const g = groups.get(key) as { name: string; segments: Segment[] };
    const segs = g.segments.sort((a, b) => a.index - b.index);
    const plain = segs.length === 1 && segs[0]?.index === -1;
    if (plain || !segs.some((s) => s.extended)) {
      const wireValue = segs.map((s) => s.text).join('');
      params.push({
        wireName: g.name,
        wireValue,
        key,
        value: decodeEncodedWords(decodeUnknown(Buffer.from(wireValue, 'latin1'))),
      });
      continue;
    }
    // RFC 2231 §4: the first segment carries charset'language'.
    let charset = '';
    let language = '';
    const bytes: Buffer[] = [];
    let wire = '';
    segs.forEach((s, i) => {
      let text = s.text;
      if (i === 0 && s.extended) {
        const q1 = text.indexOf("'");
        const q2 = q1 >= 0 ? text.indexOf("'", q1 + 1) : -1;
        if (q2 >= 0) {
          charset = text.slice(0, q1);
          language = text.slice(q1 + 1, q2);
          text = text.slice(q2 + 1);
        }
      }
      if (s.extended) {
        bytes.push(percentDecode(text));
        wire += text;
      } else {
        bytes.push(Buffer.from(text, 'latin1'));
        wire += percentEncode(text);
      }
    });
    params.push({
      wireName: `${g.name}*`,
      wireValue: `${charset}'${language}'${wire}`,
      key,
      value: decodeCharset(Buffer.concat(bytes), charset || null),
    });
  }
  return { value, params };
}

/** A parameter's decoded value by (lower-case) name. */
export function paramValue(params: readonly MimeParam[], key: string): string | undefined {
  return params.find((p) => p.key === key)?.value;
}
