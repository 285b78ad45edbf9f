/**
 * Decoding for SEARCH (RFC 9051 §6.4.4: string keys match the decoded text): content transfer encodings
 * (RFC 2045 §6.7 quoted-printable, §6.8 base64), charsets (WHATWG TextDecoder, so every charset Node's ICU
 * knows), and RFC 2047 encoded words in headers.
 */

import { TextDecoder } from 'node:util';

const B64 = new Uint8Array(256).fill(255);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) {
  B64[c.charCodeAt(0)] = i;
}

/** Lenient base64: characters outside the alphabet are skipped, decoding stops at `=`. */
export function decodeBase64(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(Math.floor((data.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (const c of data) {
    if (c === 0x3d) break;
    const v = B64[c] as number;
    if (v === 255) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Quoted-printable (RFC 2045 §6.7): `=XX`, soft line breaks `=` CRLF; invalid escapes kept as is.
 * Rule (3): whitespace at the end of an encoded line is transport padding and is deleted on decoding
 * (before a hard line break, after the `=` of a soft one, and at the end of the data).
 */
export function decodeQuotedPrintable(data: Buffer, underscoreIsSpace = false): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  let n = 0;
  /** `out` length before the run of literal (not `=20`-encoded) blanks that ends it, or -1. */
  let blanksFrom = -1;
  for (let i = 0; i < data.length; i++) {
    const c = data[i] as number;
    if (c === 0x20 || c === 0x09) {
      if (blanksFrom < 0) blanksFrom = n;
      out[n++] = c;
      continue;
    }
    if (c === 0x0d || c === 0x0a) {
      if (blanksFrom >= 0) n = blanksFrom;
      blanksFrom = -1;
      out[n++] = c;
      continue;
    }
    // Blanks before a `=` (escape or soft line break) are data.
    blanksFrom = -1;
    if (c === 0x3d) {
      const a = hexValue(data[i + 1] ?? -1);
      const b = hexValue(data[i + 2] ?? -1);
      if (a >= 0 && b >= 0) {
        out[n++] = (a << 4) | b;
        i += 2;
        continue;
      }
      // Soft line break: "=" then optional whitespace then CRLF or LF.
      let j = i + 1;
      while (data[j] === 0x20 || data[j] === 0x09) j++;
      if (data[j] === 0x0d && data[j + 1] === 0x0a) {
        i = j + 1;
        continue;
      }
      if (data[j] === 0x0a) {
        i = j;
        continue;
      }
      if (j >= data.length) break;
    }
    out[n++] = underscoreIsSpace && c === 0x5f ? 0x20 : c;
  }
  if (blanksFrom >= 0) n = blanksFrom;
  return out.subarray(0, n);
}

/** The body of a part with its transfer encoding removed. */
export function decodeTransfer(body: Buffer, encoding: string): Buffer {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return decodeBase64(body);
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default:
      return body;
  }
}

const decoders = new Map<string, TextDecoder | null>();

function decoderFor(charset: string): TextDecoder | null {
  const key = charset.trim().toLowerCase();
  let d = decoders.get(key);
  if (d === undefined) {
    try {
      d = new TextDecoder(key === 'us-ascii' || key === 'ascii' ? 'windows-1252' : key);
    } catch {
      d = null;
    }
    if (decoders.size < 256) decoders.set(key, d);
  }
  return d;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

/** Bytes of unknown charset: UTF-8 when they are valid UTF-8, else Latin-1 (RFC 6532 headers, 8-bit mail). */
export function decodeUnknown(bytes: Buffer): string {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** Bytes in a declared charset; unknown charsets fall back to `decodeUnknown`. */
export function decodeCharset(bytes: Buffer, charset: string | null | undefined): string {
  if (!charset) return decodeUnknown(bytes);
  const d = decoderFor(charset);
  return d ? d.decode(bytes) : decodeUnknown(bytes);
}

/** RFC 2047 §2: =?charset[*lang]?B|Q?text?= */
const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

/**
 * Decodes RFC 2047 encoded words in a header value (already unfolded text). Whitespace between two
 * adjacent encoded words is dropped (RFC 2047 §6.2); adjacent words in the same charset are joined before
 * decoding, so a multi-byte character split across words survives.
 */
export function decodeEncodedWords(text: string): string {
  if (!text.includes('=?')) return text;
  let out = '';
  let last = 0;
  let pending: { charset: string; bytes: Buffer[] } | null = null;
  const flush = () => {
    if (pending) out += decodeCharset(Buffer.concat(pending.bytes), pending.charset);
    pending = null;
  };
  for (const m of text.matchAll(ENCODED_WORD)) {
    const between = text.slice(last, m.index);
    const adjacent = pending !== null && /^[ \t\r\n]*$/.test(between);
    if (!adjacent) {
      flush();
      out += between;
    }
    const charset = (m[1] as string).split('*')[0] as string;
    const data = Buffer.from(m[3] as string, 'latin1');
    const bytes =
      (m[2] as string).toUpperCase() === 'B' ? decodeBase64(data) : decodeQuotedPrintable(data, true);
    const current = pending as { charset: string; bytes: Buffer[] } | null;
    if (current && current.charset.toLowerCase() === charset.toLowerCase()) current.bytes.push(bytes);
    else {
      flush();
      pending = { charset, bytes: [bytes] };
    }
    last = (m.index as number) + m[0].length;
  }
  flush();
  return out + text.slice(last);
}

/** A raw header value (bytes) as text: unfolded, 8-bit decoded, encoded words decoded. */
export function decodeHeaderValue(raw: Buffer): string {
  return decodeEncodedWords(unfold(decodeUnknown(raw)));
}

/** RFC 5322 §2.2.3: removes the CRLF of folded lines (keeping the whitespace). */
export function unfold(text: string): string {
  return text.replace(/\r?\n(?=[ \t])/g, '').replace(/\r?\n$/, '');
}
