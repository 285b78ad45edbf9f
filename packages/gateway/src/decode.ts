/**
 * Streaming decoders of the content transfer encodings (RFC 2045 §6): base64 (characters outside the
 * alphabet ignored, §6.8), quoted-printable (soft line breaks and `=XX`, §6.7; a malformed `=` kept as it
 * is), and the identity encodings (7bit, 8bit, binary, and anything unknown: taken as they are).
 */
import { PassThrough, Transform, type TransformCallback } from 'node:stream';

/** 1 for the characters of the base64 alphabet (RFC 2045 §6.8, Table 1). */
const ALPHABET = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  ALPHABET[c.charCodeAt(0)] = 1;

class Base64Decoder extends Transform {
  #carry: Buffer = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const data = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    // Node's base64 decoding skips line breaks and white space; anything else outside the alphabet is
    // dropped here first (the slow path, for damaged input only).
    let count = 0;
    let clean = true;
    for (let i = 0; i < data.length; i++) {
      const c = data[i] as number;
      if (ALPHABET[c] === 1) count++;
      else if (c !== 0x0d && c !== 0x0a && c !== 0x20 && c !== 0x09 && c !== 0x3d) clean = false;
    }
    const text = clean ? data : Buffer.from(data.toString('latin1').replace(/[^A-Za-z0-9+/]/g, ''), 'latin1');
    if (!clean) count = text.length;
    // The last count % 4 characters wait for the next chunk (4 characters make 3 bytes).
    let keep = count % 4;
    let cut = text.length;
    while (keep > 0 && cut > 0) {
      cut--;
      if (ALPHABET[text[cut] as number] === 1) keep--;
    }
    this.#carry = Buffer.from(text.subarray(cut));
    cb(null, cut > 0 ? Buffer.from(text.toString('latin1', 0, cut), 'base64') : undefined);
  }

  override _flush(cb: TransformCallback): void {
    // 2 or 3 characters left: the last 1 or 2 bytes (padding absent or stripped); 1 alone encodes nothing.
    const rest = this.#carry.toString('latin1').replace(/[^A-Za-z0-9+/]/g, '');
    cb(null, rest.length > 1 ? Buffer.from(rest, 'base64') : undefined);
  }
}

const HEX: Record<number, number> = {};
for (let i = 0; i < 16; i++) {
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
}

class QuotedPrintableDecoder extends Transform {
  #carry: Buffer = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const data = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    // An `=` in the last two bytes may start an escape or a soft break that the next chunk completes.
    let end = data.length;
    const eq = data.lastIndexOf(0x3d, data.length - 1);
    if (eq >= 0 && eq >= data.length - 2) end = eq;
    this.#carry = Buffer.from(data.subarray(end));
    cb(null, decodeQp(data.subarray(0, end)));
  }

  override _flush(cb: TransformCallback): void {
    cb(null, this.#carry.length > 0 ? decodeQp(this.#carry) : undefined);
  }
}

function decodeQp(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i] as number;
    if (c !== 0x3d) {
      out[o++] = c;
      continue;
    }
    const a = data[i + 1];
    const b = data[i + 2];
    if (a === 0x0a) {
      i += 1; // soft line break (bare LF)
    } else if (a === 0x0d && b === 0x0a) {
      i += 2; // soft line break
    } else if (a !== undefined && b !== undefined && HEX[a] !== undefined && HEX[b] !== undefined) {
      out[o++] = ((HEX[a] as number) << 4) | (HEX[b] as number);
      i += 2;
    } else {
      out[o++] = c; // not an escape: kept as it is (RFC 2045 §6.7, note 1)
    }
  }
  return out.subarray(0, o);
}

/** The decoder of a `Content-Transfer-Encoding` value (lower case). */
export function decoderFor(encoding: string): Transform {
  if (encoding === 'base64') return new Base64Decoder();
  if (encoding === 'quoted-printable') return new QuotedPrintableDecoder();
  return new PassThrough();
}
