/**
 * The listeners of one protocol server (IMAP and IMAPS, POP3 and POP3S) over one TLS identity: each
 * `listen()` is plain (the session upgrades with STARTTLS/STLS) or implicit TLS (RFC 8314 §3.3), hands
 * every accepted connection to the protocol's session, and `closeAll()` closes them all.
 */
import type { Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import {
  type ListenedSession,
  listenForSessions,
  type SessionListener,
  type TlsIdentity,
} from './listener.js';

/** What every protocol session is given about its connection. */
export interface SessionTransport {
  socket: Socket;
  /** The socket is a TLS socket already (implicit TLS, RFC 8314 §3.3). */
  tls: boolean;
  /** For the in-protocol upgrade (STARTTLS, STLS). */
  secureContext: SecureContext;
  /** A certificate per SNI server name for the upgrade (absent: `secureContext` for every name). */
  SNICallback?: TlsIdentity['SNICallback'];
  trustLocalConnections: boolean;
  log: Logger | undefined;
  /** Called once, when the connection is gone. */
  onClose?: () => void;
}

export interface ProtocolListenersOptions<S extends ListenedSession> {
  /** Protocol names for logs, e.g. `{ plain: 'imap', implicitTls: 'imaps' }`. */
  protocols: { plain: string; implicitTls: string };
  /** PEM key and certificate (chain) for the upgrade and implicit TLS. */
  tls: TlsIdentity;
  /** Treat a client on the server's own address as secure (see `isLocalConnection`). Default true. */
  trustLocalConnections?: boolean | undefined;
  /** Parent logger; each connection gets a child with `cid`, `proto` and `remote`. */
  logger?: Logger | undefined;
  createSession(transport: SessionTransport): S;
}

export class ProtocolListeners<S extends ListenedSession> {
  readonly #o: ProtocolListenersOptions<S>;
  readonly #tls: TlsIdentity;
  readonly #secureContext: SecureContext;
  readonly #trustLocal: boolean;
  readonly #open = new Set<SessionListener>();

  constructor(o: ProtocolListenersOptions<S>) {
    this.#o = o;
    this.#tls = {
      key: o.tls.key,
      cert: o.tls.cert,
      ...(o.tls.SNICallback ? { SNICallback: o.tls.SNICallback } : {}),
    };
    this.#secureContext = createSecureContext({ key: o.tls.key, cert: o.tls.cert });
    this.#trustLocal = o.trustLocalConnections ?? true;
  }

  /** Listens on `host:port` (port 0: any free port), plain or with implicit TLS. */
  async listen(
    port: number,
    host: string,
    opts: { implicitTls: boolean; handshakeTimeoutMs: number },
  ): Promise<SessionListener> {
    const proto = opts.implicitTls ? this.#o.protocols.implicitTls : this.#o.protocols.plain;
    const logger = this.#o.logger;
    const listening = await listenForSessions({
      port,
      host,
      implicitTls: opts.implicitTls,
      tls: this.#tls,
      handshakeTimeoutMs: opts.handshakeTimeoutMs,
      proto,
      ...(logger ? { logger } : {}),
      createSession: (socket, cid, onClose) =>
        this.#o.createSession({
          socket,
          tls: opts.implicitTls,
          secureContext: this.#secureContext,
          ...(this.#tls.SNICallback ? { SNICallback: this.#tls.SNICallback } : {}),
          trustLocalConnections: this.#trustLocal,
          log: logger?.child({ cid, proto, remote: socket.remoteAddress }),
          onClose,
        }),
    });
    const listener: SessionListener = {
      address: listening.address,
      close: async () => {
        this.#open.delete(listener);
        await listening.close();
      },
    };
    this.#open.add(listener);
    return listener;
  }

  /** Closes every listener and cuts every connection. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#open].map((l) => l.close()));
  }
}
