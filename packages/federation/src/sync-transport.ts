/**
 * How a region's directory replica reaches the hub: the options for `connect()` of @tursodatabase/sync.
 *
 * @tursodatabase/sync 0.7.2 takes `fetch?: typeof fetch` (DatabaseOpts) and calls it for every request
 * (bootstrap, pull, push) as `fetch(url + path, { method, headers, body: Uint8Array | null })`, then reads
 * `response.status` and `response.body` as a stream. `libsql://` and `turso://` URLs are rewritten to
 * `https://` before the call.
 *
 * Two shapes of remote:
 * - `federation`: our own hub behind the sync endpoint of the hub region. The fetch built here presents
 *   this region's certificate, trusts only the federation CA, and accepts only the hub region's
 *   certificate (by its `<region>.federation.invalid` name, not the host name: the CA is private).
 * - `turso-cloud`: a Turso Cloud database URL (`libsql://<db>-<org>.turso.io`) and its auth token, over
 *   the platform's own fetch and public CAs.
 */

import type { IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
import { type RegionTls, regionOfPeerCertificate } from './pki.js';

export interface FederationRemote {
  kind: 'federation';
  /** The hub region's sync endpoint, `https://<host>:<port>`. */
  url: string;
  /** The region that runs the hub: its certificate is the only one accepted on the other end. */
  hubRegion: string;
  /** This region's certificate, key and the federation CA. */
  tls: RegionTls;
}

export interface TursoCloudRemote {
  kind: 'turso-cloud';
  /** `libsql://<database>-<organisation>.turso.io` */
  url: string;
  /** A database auth token (`turso db tokens create <database>`). */
  authToken: string;
}

export type SyncRemote = FederationRemote | TursoCloudRemote;

/** What to spread into `connect({ path, ...options })`; `close()` releases the connections. */
export interface SyncConnectOptions {
  options: { url: string; authToken?: string; fetch?: typeof fetch };
  close(): void;
}

export function syncConnectOptions(remote: SyncRemote): SyncConnectOptions {
  if (remote.kind === 'turso-cloud') {
    return { options: { url: remote.url, authToken: remote.authToken }, close: () => undefined };
  }
  const transport = federationFetch(remote);
  return { options: { url: remote.url, fetch: transport.fetch }, close: transport.close };
}

export interface FederationFetch {
  fetch: typeof fetch;
  close(): void;
}

/**
 * A `fetch` over mutually authenticated TLS: node:https with this region's certificate, the federation CA
 * as the only trust anchor, keep-alive connections, streamed response bodies.
 */
export function federationFetch(remote: Pick<FederationRemote, 'hubRegion' | 'tls'>): FederationFetch {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 8,
    cert: remote.tls.certPem,
    key: remote.tls.keyPem,
    ca: [remote.tls.caCertPem],
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const region = regionOfPeerCertificate(cert);
      if (region === remote.hubRegion) return undefined;
      return new Error(
        `the sync endpoint presented ${region ? `region ${region}'s certificate` : 'a certificate of no region'}, not the hub region ${remote.hubRegion}'s`,
      );
    },
  });

  const federatedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    if (url.protocol !== 'https:') throw new TypeError(`federation sync needs https, not ${url.protocol}`);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const body = await bodyBytes(init?.body);
    if (body) headers.set('content-length', String(body.length));
    const signal = init?.signal ?? undefined;
    signal?.throwIfAborted();
    return new Promise<Response>((done, fail) => {
      const req = httpsRequest(
        url,
        {
          method: init?.method ?? 'GET',
          headers: Object.fromEntries(headers.entries()),
          agent,
          ...(signal ? { signal } : {}),
        },
        (res: IncomingMessage) => done(toResponse(res)),
      );
      req.on('error', (err) => fail(new TypeError('fetch failed', { cause: err })));
      req.end(body);
    });
  };

  return { fetch: federatedFetch as typeof fetch, close: () => agent.destroy() };
}

/** The sync client sends `Uint8Array` or null; strings and buffers are accepted too. */
async function bodyBytes(body: RequestInit['body']): Promise<Buffer | undefined> {
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // Anything else (streams, forms): let the platform encode it.
  return Buffer.from(await new Response(body).arrayBuffer());
}

const NULL_BODY = new Set([101, 204, 205, 304]);

function toResponse(res: IncomingMessage): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const status = res.statusCode ?? 502;
  const body = NULL_BODY.has(status) ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
  if (body === null) res.resume();
  return new Response(body, { status, statusText: res.statusMessage ?? '', headers });
}
