/**
 * Modified UTF-7 mailbox names (RFC 3501 §5.1.3, kept by RFC 9051 §5.1.3 for clients that do not enable
 * UTF-8): printable US-ASCII stands for itself, `&` is `&-`, anything else is `&` + modified base64 of
 * UTF-16BE (`,` for `/`, no padding) + `-`.
 */

export function encodeMutf7(name: string): string {
  let out = '';
  let pending = '';
  const flush = () => {
    if (pending === '') return;
    const utf16 = Buffer.alloc(pending.length * 2);
    for (let i = 0; i < pending.length; i++) utf16.writeUInt16BE(pending.charCodeAt(i), i * 2);
    out += `&${utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    pending = '';
  };
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    if (c >= 0x20 && c <= 0x7e && ch.length === 1) {
      flush();
      out += ch === '&' ? '&-' : ch;
    } else {
      pending += ch;
    }
  }
  flush();
  return out;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Decodes a modified UTF-7 name; null when it is not valid modified UTF-7. */
export function decodeMutf7(text: string): string | null {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    const c = ch.charCodeAt(0);
    if (c < 0x20 || c > 0x7e) return null;
    if (ch !== '&') {
      out += ch;
      i++;
      continue;
    }
    const end = text.indexOf('-', i + 1);
    if (end < 0) return null;
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      continue;
    }
    const b64 = text.slice(i + 1, end);
    if (!/^[A-Za-z0-9+,]+$/.test(b64) || b64.length % 4 === 1) return null;
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    if (bytes.length % 2 !== 0 || bytes.length === 0) return null;
    let chunk = '';
    for (let j = 0; j < bytes.length; j += 2) chunk += String.fromCharCode(bytes.readUInt16BE(j));
    // RFC 3501 §5.1.3: printable US-ASCII must not be encoded; and the UTF-16 must be well formed.
    if (/[\x20-\x7e]/.test(chunk) || LONE_SURROGATE.test(chunk)) return null;
    out += chunk;
    i = end + 1;
  }
  return out;
}
