/**
 * A TCP listener for a line-based mail protocol, plain (with an in-protocol STARTTLS/STLS upgrade done by
 * the session) or implicit TLS (RFC 8314), that tracks its sessions and raw connections so that `close()`
 * stops accepting, cuts every connection (TLS handshakes in progress included) and waits for the sessions
 * to settle. Shared by the IMAP and POP3 servers.
 */
import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { logEventAt } from '@delegato/observability';
import type { Logger } from 'pino';

/** What the listener needs from a protocol session. */
export interface ListenedSession {
  start(): void;
  /** Cuts the connection now. */
  destroy(): void;
  /** Resolves once the session has finished its cleanup. */
  settled(): Promise<void>;
}

export interface SessionListener {
  address: AddressInfo;
  /** Stops accepting and cuts this listener's connections. */
  close(): Promise<void>;
}

/**
 * A listener's TLS identity: the default PEM key and certificate (chain), and optionally a certificate
 * per requested server name (RFC 6066 §3, SNI) for implicit TLS and the in-protocol upgrade alike.
 */
export interface TlsIdentity {
  key: string;
  cert: string;
  SNICallback?: TlsOptions['SNICallback'];
}

export interface ListenOptions<S extends ListenedSession> {
  port: number;
  host: string;
  implicitTls: boolean;
  tls: TlsIdentity;
  handshakeTimeoutMs: number;
  /** Protocol name for logs: `imap`, `imaps`, `pop3`, `pop3s`. */
  proto: string;
  logger?: Logger;
  /** Creates the session for an accepted (and, with implicit TLS, handshaken) socket. */
  createSession(socket: Socket, cid: string, onClose: () => void): S;
}

export async function listenForSessions<S extends ListenedSession>(
  o: ListenOptions<S>,
): Promise<SessionListener> {
  const sessions = new Set<S>();
  /** Every TCP connection, TLS handshakes in progress included (cut at close). */
  const connections = new Set<Socket>();
  const serve = (socket: Socket) => {
    const cid = randomBytes(6).toString('base64url');
    const session: S = o.createSession(socket, cid, () => sessions.delete(session));
    sessions.add(session);
    session.start();
  };

  let server: Server;
  if (o.implicitTls) {
    const tlsServer = createTlsServer({ ...o.tls, handshakeTimeout: o.handshakeTimeoutMs });
    tlsServer.on('secureConnection', serve);
    tlsServer.on('tlsClientError', (error) =>
      logEventAt(
        o.logger,
        'debug',
        'tls.handshake_failed',
        { err: error, proto: o.proto },
        'TLS handshake failed',
      ),
    );
    server = tlsServer;
  } else {
    server = createNetServer(serve);
  }
  server.on('error', (error) =>
    logEventAt(o.logger, 'error', 'listener.error', { err: error, proto: o.proto }, 'listener error'),
  );
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // Debug: the appliance logs listener.open (info) for every listener it starts.
  logEventAt(
    o.logger,
    'debug',
    'listener.open',
    { proto: o.proto, address: address.address, port: address.port },
    'listening',
  );

  let closing: Promise<void> | undefined;
  return {
    address,
    close: () => {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        const open = [...sessions];
        for (const s of open) s.destroy();
        for (const c of connections) c.destroy();
        await Promise.all(open.map((s) => s.settled()));
        await stopped;
        logEventAt(
          o.logger,
          'debug',
          'listener.close',
          { proto: o.proto, port: address.port },
          'listener closed',
        );
      })();
      return closing;
    },
  };
}
