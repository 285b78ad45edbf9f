/**
 * The plain-HTTP listener (port.http, 80 in production): the ACME HTTP-01 challenge responses
 * (RFC 8555 §8.3: `GET /.well-known/acme-challenge/<token>`, the key authorization as the body) and a
 * redirect to HTTPS for anything else. Nothing else is served over plain HTTP, and no body is read.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpChallenges } from './acme.js';

const CHALLENGE_PATH = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]{1,256})$/;

export interface RunningHttp {
  address: AddressInfo;
  close(): Promise<void>;
}

/** The host part of a Host header (without the port), or null when it is not a plain host name. */
function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d+)?$/i.exec(header.trim());
  return m?.[1] ?? null;
}

export function handleHttp(
  challenges: HttpChallenges,
  httpsPort: number,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const challenge = CHALLENGE_PATH.exec(path);
    if (challenge && (req.method === 'GET' || req.method === 'HEAD')) {
      const keyAuthorization = challenges.get(challenge[1] ?? '');
      if (keyAuthorization === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('unknown challenge\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(keyAuthorization);
      return;
    }
    const host = hostOf(req.headers.host);
    if (host === null) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Host header needed\n');
      return;
    }
    const port = httpsPort === 443 ? '' : `:${httpsPort}`;
    res
      .writeHead(301, { location: `https://${host}${port}${req.url?.startsWith('/') ? req.url : '/'}` })
      .end();
  };
}

export function listenHttp(opts: {
  host: string;
  port: number;
  challenges: HttpChallenges;
  /** Where redirects point: the web listener's port. */
  httpsPort: number;
}): Promise<RunningHttp> {
  const server = createServer(
    { requestTimeout: 10_000, headersTimeout: 10_000, maxHeaderSize: 8192 },
    handleHttp(opts.challenges, opts.httpsPort),
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve({
        address: server.address() as AddressInfo,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
