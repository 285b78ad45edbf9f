/**
 * The HTTPS admin listener (DELEGATO_PORT_ADMIN): `GET /healthz`, and the admin web UI with its JSON API
 * (`@delegato/admin`).
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type AdminOptions, adminApp as adminUi } from '@delegato/admin';
import type { Directory } from '@delegato/directory';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { healthz } from './healthz.js';

export function adminApp(
  opts: { directory: Directory; region: string } & Partial<Omit<AdminOptions, 'directory' | 'region'>>,
): Hono {
  const app = new Hono();
  // The UI sets its own security headers (a stricter CSP, Referrer-Policy same-origin: its CSRF check needs
  // the Origin header of same-site form posts); the defaults apply to /healthz only.
  app.use('/healthz', secureHeaders());
  app.get('/healthz', healthz(opts.directory, opts.region));
  app.route(
    '/',
    adminUi({
      ...opts,
      sessionSecret: opts.sessionSecret ?? opts.directory.options.key.derive('admin-session'),
    }),
  );
  app.notFound((c) => c.json({ error: 'not found' }, 404));
  return app;
}

export interface RunningHttps {
  address: AddressInfo;
  close(): Promise<void>;
}

export function listenHttps(
  app: Hono,
  opts: { host: string; port: number; cert: string; key: string },
): Promise<RunningHttps> {
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: app.fetch,
        hostname: opts.host,
        port: opts.port,
        createServer,
        serverOptions: { cert: opts.cert, key: opts.key, minVersion: 'TLSv1.2' },
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
