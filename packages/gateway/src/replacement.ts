/**
 * What takes a replaced part's place: a `multipart/alternative` (RFC 2046 §5.1.4) of a `text/plain` and a
 * `text/html` part naming the file, its size, its type, the download URL and the expiry, and the header
 * fields that record what the gateway did. Bodies are UTF-8 in base64 (file names may be anything); every
 * header field is ASCII.
 */
import { randomBytes } from 'node:crypto';

export interface ReplacedPart {
  fileName: string;
  mediaType: string;
  size: number;
  sha256: string;
  url: string;
  expiresAt: Date;
  loginRequired: boolean;
}

/** 5242880 -> "5.0 MiB". */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** Printable ASCII only, no quotes or backslashes: safe inside a quoted header parameter. */
function asciiParam(s: string): string {
  return s.replace(/[^\x20-\x7e]|["\\]/g, '_').slice(0, 200);
}

function base64Lines(text: string, eol: string): string {
  const b64 = Buffer.from(text, 'utf8').toString('base64');
  return (b64.match(/.{1,76}/g) ?? []).join(eol);
}

export function replacementTexts(p: ReplacedPart): { text: string; html: string } {
  const expires = p.expiresAt.toISOString().slice(0, 10);
  const login = p.loginRequired ? ' Sign in with your mailbox address and password when asked.' : '';
  const text =
    `The attachment "${p.fileName}" (${humanSize(p.size)}, ${p.mediaType}) was too large to keep in ` +
    `this message.\nDownload it here until ${expires}:${login}\n\n${p.url}\n\nSHA-256: ${p.sha256}\n`;
  const html =
    '<!doctype html><html><head><meta charset="utf-8"></head><body>' +
    `<p>The attachment <strong>${escapeHtml(p.fileName)}</strong> (${humanSize(p.size)}, ` +
    `${escapeHtml(p.mediaType)}) was too large to keep in this message.</p>` +
    `<p><a href="${escapeHtml(p.url)}">Download ${escapeHtml(p.fileName)}</a> until ${expires}.${login}</p>` +
    `<p style="font-size:small">SHA-256: ${p.sha256}</p></body></html>`;
  return { text, html };
}

/** The replacement part, header and body, without a line break after its closing delimiter. */
export function replacementPart(p: ReplacedPart, eol: string): Buffer {
  const boundary = `=_gw_${randomBytes(12).toString('hex')}`;
  const { text, html } = replacementTexts(p);
  const lines = [
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    `X-Delegato-Gateway-Part: replaced; size=${p.size}; sha256=${p.sha256};`,
    ` type="${asciiParam(p.mediaType)}"; name="${asciiParam(p.fileName)}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(text, eol),
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(html, eol),
    `--${boundary}--`,
  ];
  return Buffer.from(lines.join(eol), 'latin1');
}

/**
 * The header field added to the message's root header: how many parts were replaced and, when the
 * original was DKIM-signed, that the signature no longer verifies (the MX recorded the results of its
 * checks in Authentication-Results before the gateway changed the body; docs/gateway.md).
 */
export function gatewayHeader(
  opts: { host: string; parts: ReplacedPart[]; dkimSigned: boolean },
  eol: string,
) {
  const lines = [
    `X-Delegato-Gateway: ${opts.parts.length} part(s) replaced by download links at ${asciiParam(opts.host)};`,
    ...opts.parts.map((p, i) => ` part=${i + 1}; size=${p.size}; sha256=${p.sha256};`),
    ` dkim=${opts.dkimSigned ? 'original-signature-broken-by-gateway' : 'none'}`,
  ];
  return Buffer.from(`${eol}${lines.join(eol)}`, 'latin1');
}
