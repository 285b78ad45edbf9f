/**
 * The federation sync endpoint: HTTPS with mandatory client certificates of the federation CA, in front of
 * the loopback replication hub (tursodb has no authentication of its own). Requests are streamed to the
 * hub and the answers streamed back; no body is held whole.
 *
 * Only the sync protocol's requests pass ({@link SYNC_PATHS}, measured with @tursodatabase/sync 0.7.2):
 * `POST /pull-updates` (protobuf; bootstrap and pull) and `POST /v2/pipeline` (Hrana JSON; push). A region
 * that holds a federation certificate can therefore run SQL on the hub through `/v2/pipeline`: every region
 * is trusted with the directory, and the certificate is what separates regions from everyone else.
 */
import {
  Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { type Logger, logEvent, logEventAt } from '@delegato/observability';
import { type RegionTls, regionOfPeerCertificate } from './pki.js';

/** The requests of the sync client (method + path) that the endpoint forwards. */
export const SYNC_PATHS: readonly string[] = ['POST /pull-updates', 'POST /v2/pipeline'];

/** Request headers not forwarded: hop-by-hop (RFC 9110 §7.6.1) and client-supplied forwarding claims. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-delegato-region',
]);

export interface SyncGatewayOptions {
  /** This region's certificate and key (its server identity) and the federation CA (the only trusted one). */
  tls: RegionTls;
  /** The hub's loopback URL (`HubSupervisor.url`), or a function returning it. */
  upstream: string | (() => string);
  logger: Logger;
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (the system chooses). */
  port?: number;
  /** Forwarded requests ("METHOD /path"); default {@link SYNC_PATHS}. */
  allowed?: readonly string[];
  /**
   * Requests answered here instead of forwarded ("METHOD /path" → handler), for verified regions only: the
   * writer region's `/directory/mutate` (decision 0009). `region` is the peer's, from its certificate.
   */
  routes?: Readonly<Record<string, (req: IncomingMessage, res: ServerResponse, region: string) => void>>;
  /** Whether the verified certificate of `region` is revoked (decision 0013): 403, nothing forwarded. */
  revoked?: (region: string, cert: PeerCertificate) => boolean;
}

export interface SyncGateway {
  readonly host: string;
  readonly port: number;
  /** `https://<host>:<port>`: the sync URL for remote regions. */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Starts the endpoint; resolves once it listens. */
export async function startSyncGateway(opts: SyncGatewayOptions): Promise<SyncGateway> {
  const logger = opts.logger;
  const allowed = new Set(opts.allowed ?? SYNC_PATHS);
  const upstreamUrl = typeof opts.upstream === 'function' ? opts.upstream : () => opts.upstream as string;
  const hubAgent = new Agent({ keepAlive: true, maxSockets: 32 });

  const server = createServer({
    cert: opts.tls.certPem,
    key: opts.tls.keyPem,
    ca: [opts.tls.caCertPem],
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  });

  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    // A certificate that fails verification ends the handshake with a bare reset; the reason is on the socket.
    const verifyError = (socket as TLSSocket & { authorizationError?: string }).authorizationError;
    logEvent(logger, 'federation.gateway_refused', {
      peer: socket.remoteAddress,
      reason: verifyError ? 'certificate not trusted' : refusalReason(err),
      detail: verifyError ?? err.code ?? err.message,
    });
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const began = Date.now();
    const socket = req.socket as TLSSocket;
    const cert = socket.getPeerCertificate();
    const region = regionOfPeerCertificate(cert);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const done = (status: number) =>
      logEventAt(logger, 'debug', 'federation.gateway_request', {
        region,
        method: req.method,
        path,
        status,
        ms: Date.now() - began,
      });
    if (!socket.authorized || region === undefined) {
      // A certificate of the CA that is not a region certificate.
      logEvent(logger, 'federation.gateway_refused', { peer: socket.remoteAddress, reason: 'not a region' });
      reply(res, 403, 'not a federation region certificate');
      return;
    }
    if (opts.revoked?.(region, cert)) {
      logEvent(logger, 'federation.gateway_refused', {
        peer: socket.remoteAddress,
        region,
        reason: 'certificate revoked',
      });
      req.resume();
      reply(res, 403, `the certificate of region ${region} is revoked`);
      return;
    }
    const route = opts.routes?.[`${req.method} ${path}`];
    if (route) {
      res.once('finish', () => done(res.statusCode));
      route(req, res, region);
      return;
    }
    if (!allowed.has(`${req.method} ${path}`)) {
      req.resume();
      reply(res, 404, 'not a sync request');
      done(404);
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '/', upstreamUrl());
    } catch {
      req.resume();
      reply(res, 503, 'replication hub not configured');
      done(503);
      return;
    }
    const upstream = request(
      target,
      { method: req.method, headers: forwardHeaders(req.headers), agent: hubAgent },
      (hubRes) => {
        res.writeHead(hubRes.statusCode ?? 502, responseHeaders(hubRes.headers));
        pipeline(hubRes, res, (err) => {
          if (err) res.destroy();
          done(hubRes.statusCode ?? 502);
        });
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) {
        reply(res, 502, `replication hub unreachable: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
        done(502);
      } else {
        res.destroy(err);
      }
    });
    pipeline(req, upstream, (err) => {
      if (err) upstream.destroy(err);
    });
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', fail);
      done();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logEvent(logger, 'listener.open', { proto: 'federation-sync', address: host, port });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  return {
    host,
    port,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    server,
    close: async () => {
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeIdleConnections();
      for (const socket of sockets) socket.destroy();
      hubAgent.destroy();
      await closed;
      logEvent(logger, 'listener.close', { proto: 'federation-sync', address: host, port });
    },
  };
}

function forwardHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function responseHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || (HOP_BY_HOP.has(name) && name !== 'host')) continue;
    out[name] = value;
  }
  return out;
}

function reply(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  res.end(`${text}\n`);
}

/** A short reason for a refused TLS client, from OpenSSL's error. */
function refusalReason(err: NodeJS.ErrnoException): string {
  const text = `${err.code ?? ''} ${err.message}`;
  if (/HTTP_REQUEST|WRONG_VERSION_NUMBER|UNKNOWN_PROTOCOL|PACKET_LENGTH_TOO_LONG/i.test(text))
    return 'clear text';
  if (/PEER_DID_NOT_RETURN_A_CERTIFICATE|certificate required/i.test(text)) return 'no client certificate';
  if (/CERTIFICATE_VERIFY_FAILED|unknown ca|certificate verify failed/i.test(text))
    return 'certificate not trusted';
  return err.code ?? err.message;
}
