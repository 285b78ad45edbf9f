/**
 * Downloads of stored parts, independent of the HTTP framework: the appliance's web listener turns the
 * answer into a response (appliance/src/services/gateway.ts).
 *
 * - unknown, malformed and expired tokens: 404, the same body for all (nothing revealed);
 * - a link of a domain that requires the mailbox login: HTTP Basic (RFC 7617) over the HTTPS listener;
 *   only the link's recipients may download, anyone else gets 401 again;
 * - `Content-Type` the part's media type, `Content-Disposition` per RFC 6266 (an ASCII `filename` and the
 *   UTF-8 `filename*` of RFC 8187), `Content-Length`, `ETag` (the content's SHA-256), `Accept-Ranges`;
 * - one byte range (RFC 9110 §14): 206 with `Content-Range`, 416 when it is not satisfiable; several
 *   ranges, or an `If-Range` that does not match, get the whole file (200), as §14.2 allows;
 * - the body is a file stream (never read into memory).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { GatewayStore, Link } from './store.js';

export interface DownloadRequest {
  token: string;
  range?: string | undefined;
  ifRange?: string | undefined;
  authorization?: string | undefined;
}

export interface DownloadAnswer {
  status: 200 | 206 | 401 | 404 | 416;
  headers: Record<string, string>;
  /** The bytes to send; null: a short text answer (`text`). */
  body: Readable | null;
  text?: string;
  /** For the log: the link's domain (never the token). */
  domain?: string;
}

/** Checks a mailbox login; the mailbox id, or null. */
export type MailboxLogin = (login: string, password: string) => Promise<string | null>;

const NOT_FOUND: DownloadAnswer = {
  status: 404,
  headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
  body: null,
  text: 'not found',
};

/** RFC 6266 §4.3 / RFC 8187: `attachment; filename="ascii"; filename*=UTF-8''percent-encoded`. */
export function contentDisposition(fileName: string): string {
  const name = fileName.replace(/[\r\n]/g, ' ');
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  // attr-char of RFC 8187 §3.2.1: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
  const encoded = [...Buffer.from(name, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9!#$&+\-.^_`|~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** A media type as sent: `type/subtype` tokens only, else application/octet-stream. */
function safeMediaType(type: string): string {
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i.test(type)
    ? type.toLowerCase()
    : 'application/octet-stream';
}

/** One `bytes=` range against `size`: [start, end] inclusive, 'unsatisfiable', or null (ignore it). */
export function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | null {
  const m = /^bytes=\s*(\d*)-(\d*)\s*$/i.exec(header.trim());
  if (!m) return null; // several ranges or another unit: the whole file
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(a);
  if (start >= size) return 'unsatisfiable';
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (end < start) return null; // invalid syntax (RFC 9110 §14.1.1): ignored
  return [start, end];
}

function basicCredentials(header: string | undefined): { login: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { login: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function allowed(link: Link, req: DownloadRequest, login?: MailboxLogin): Promise<boolean> {
  if (!link.loginRequired) return true;
  const creds = basicCredentials(req.authorization);
  if (!creds || !login) return false;
  const id = await login(creds.login, creds.password);
  return id !== null && link.mailboxes.includes(id);
}

export async function download(
  store: GatewayStore,
  req: DownloadRequest,
  login?: MailboxLogin,
): Promise<DownloadAnswer> {
  const link = await store.resolve(req.token);
  if (!link) return NOT_FOUND;
  if (!(await allowed(link, req, login))) {
    return {
      status: 401,
      headers: {
        'Content-Type': 'text/plain; charset=utf-8',
        'WWW-Authenticate': 'Basic realm="Attachment download", charset="UTF-8"',
        'Cache-Control': 'no-store',
      },
      body: null,
      text: 'sign in with your mailbox address and password\n',
      domain: link.domain,
    };
  }
  const etag = `"${link.sha256}"`;
  const headers: Record<string, string> = {
    'Content-Type': safeMediaType(link.mediaType),
    'Content-Disposition': contentDisposition(link.fileName),
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Cache-Control': 'private, no-store',
    'X-Content-Type-Options': 'nosniff',
  };
  const size = link.size;
  const path = store.filePath(link.sha256);
  // A file gone from under its link (removed by hand, a restored backup without it): nothing to send.
  if ((await stat(path).catch(() => null))?.size !== size) return NOT_FOUND;
  let range = req.range && (!req.ifRange || req.ifRange === etag) ? parseRange(req.range, size) : null;
  if (range === 'unsatisfiable') {
    return {
      status: 416,
      headers: { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Type': 'text/plain' },
      body: null,
      text: 'range not satisfiable\n',
      domain: link.domain,
    };
  }
  if (size === 0) range = null;
  if (range) {
    const [start, end] = range;
    return {
      status: 206,
      headers: {
        ...headers,
        'Content-Range': `bytes ${start}-${end}/${size}`,
        'Content-Length': String(end - start + 1),
      },
      body: createReadStream(path, { start, end }),
      domain: link.domain,
    };
  }
  return {
    status: 200,
    headers: { ...headers, 'Content-Length': String(size) },
    body: createReadStream(path),
    domain: link.domain,
  };
}
