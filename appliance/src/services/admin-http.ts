/**
 * The HTTPS admin listener (DELEGATO_PORT_ADMIN): `GET /healthz`, and the admin web UI with its JSON API
 * (`@delegato/admin`).
 *
 * TLS client certificates (`admin.clientCertificates`): with a CA bundle the listener asks every client
 * for a certificate and verifies it against the bundle, but lets the TLS handshake finish either way
 * (`rejectUnauthorized: false`), so the decision is made per request: in `required` mode everything but
 * /healthz answers 403 without a valid certificate; in `optional` mode only admins with a pinned
 * certificate fingerprint need one (the directory checks it, `actorForAdmin`).
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TlsOptions } from 'node:tls';
import { type AdminOptions, adminApp as adminUi, nodeClientCertificate } from '@delegato/admin';
import type { Directory } from '@delegato/directory';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { Config } from '../config/schema.js';
import { healthz } from './healthz.js';
import { metricsHandler } from './metrics-http.js';

export type ClientCertificateMode = 'off' | 'optional' | 'required';

export function adminApp(
  opts: {
    directory: Directory;
    region: string;
    clientCertificates?: ClientCertificateMode;
    /** `GET /metrics` for clients in `networks` (metrics-http.ts). */
    metrics?: Parameters<typeof metricsHandler>[0];
  } & Partial<Omit<AdminOptions, 'directory' | 'region'>>,
): Hono & { close: () => Promise<void> } {
  const app = new Hono();
  // The UI sets its own security headers (a stricter CSP, Referrer-Policy same-origin: its CSRF check needs
  // the Origin header of same-site form posts); the defaults apply to /healthz only.
  app.use('/healthz', secureHeaders());
  app.get('/healthz', healthz(opts.directory, opts.region));
  const { clientCertificates: mode = 'off', metrics, ...uiOpts } = opts;
  if (metrics) {
    app.use('/metrics', secureHeaders());
    app.get('/metrics', metricsHandler(metrics));
  }
  const certificateOf = uiOpts.clientCertificate ?? nodeClientCertificate;
  if (mode === 'required') {
    app.use('*', async (c, next) => {
      // /metrics is guarded by its own networks (Prometheus presents no client certificate).
      if (c.req.path !== '/healthz' && c.req.path !== '/metrics' && certificateOf(c) === null) {
        return c.text('Forbidden: this interface needs a valid client certificate.', 403);
      }
      return next();
    });
  }
  const ui = adminUi({
    ...uiOpts,
    // Off: no certificate is ever asked for, so none counts (an admin with a pinned one cannot sign in).
    clientCertificate: mode === 'off' ? () => null : certificateOf,
    sessionSecret: uiOpts.sessionSecret ?? uiOpts.directory.options.key.derive('admin-session'),
  });
  app.route('/', ui);
  app.notFound((c) => c.json({ error: 'not found' }, 404));
  return Object.assign(app, { close: () => ui.close() });
}

/**
 * The CA bundle for admin client certificates (`admin.clientCa`), read and checked at start; undefined
 * when `admin.clientCertificates` is off. Throws with the setting's name when it is missing or unreadable.
 */
export async function adminClientCa(config: Pick<Config, 'admin'>): Promise<string | undefined> {
  const { clientCertificates: mode, clientCa: file } = config.admin;
  if (mode === 'off') return undefined;
  if (!file)
    throw new Error(`admin.clientCertificates is ${mode}: admin.clientCa (a PEM CA bundle) is needed`);
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`admin.clientCa: cannot read ${file}: ${(err as Error).message}`);
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`admin.clientCa: ${file} holds no PEM certificate`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new Error(`admin.clientCa: ${file}: ${(err as Error).message}`);
    }
  }
  return pem;
}

/**
 * The largest request body either HTTPS listener (admin, web) reads, bytes. The admin UI's forms and JSON
 * API send a few KiB; the sign-in form is read before anyone is known, so this is what a stranger can make
 * the appliance hold per request.
 */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

function refusal(status: number, text: string): Response {
  // `Connection: close`: the rest of the body is not read; the connection ends after the answer.
  return new Response(`${text}\n`, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', connection: 'close' },
  });
}

/**
 * A request body must declare its length, at most MAX_REQUEST_BODY_BYTES, before anything reads it:
 * 411 for a body of unknown length (RFC 9110 §15.5.12; browsers and API clients send Content-Length) and
 * 413 for a larger one (RFC 9110 §15.5.14), answered without reading the body.
 */
export function boundedRequestBodies(fetch: Hono['fetch']): Hono['fetch'] {
  return (req, ...rest) => {
    // RFC 9112 §6.3: without Transfer-Encoding or Content-Length a request has no body.
    if (req.headers.has('transfer-encoding')) return refusal(411, 'Length Required');
    const length = req.headers.get('content-length');
    if (length !== null && (!/^\d{1,15}$/.test(length) || Number(length) > MAX_REQUEST_BODY_BYTES))
      return refusal(413, 'Content Too Large');
    return fetch(req, ...rest);
  };
}

export interface RunningHttps {
  address: AddressInfo;
  close(): Promise<void>;
}

export function listenHttps(
  app: Hono,
  opts: {
    host: string;
    port: number;
    cert: string;
    key: string;
    /** A certificate per SNI server name (tls/certificates.ts); the default otherwise. */
    SNICallback?: TlsOptions['SNICallback'];
    /** PEM CA bundle: clients are asked for a certificate, verified against it (never refused by TLS). */
    clientCa?: string;
  },
): Promise<RunningHttps> {
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: boundedRequestBodies(app.fetch),
        hostname: opts.host,
        port: opts.port,
        createServer,
        serverOptions: {
          cert: opts.cert,
          key: opts.key,
          ...(opts.SNICallback ? { SNICallback: opts.SNICallback } : {}),
          minVersion: 'TLSv1.2',
          ...(opts.clientCa ? { ca: opts.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
        },
      },
      (info) =>
        resolve({
          address: info,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              // Idle keep-alive connections would hold close() open.
              (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
            }),
        }),
    );
    server.once('error', reject);
  });
}
