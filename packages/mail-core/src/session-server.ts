/**
 * `SessionServer`: the shell of a line-protocol server (IMAP, POP3), written once. Its listeners share
 * one TLS identity (`ProtocolListeners`: plain with an in-protocol upgrade, or implicit TLS), every
 * accepted connection becomes a session that the server tracks while it is open (`OpenSessions`), and
 * the sessions of one account can be ended from outside. A protocol server extends it with its options
 * and services; what differs is given as options: how a session is made, which user it serves, how the
 * protocol ends a session it did not choose to end.
 */
import type { Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { ListenedSession, SessionListener, TlsIdentity } from './listener.js';
import { OpenSessions } from './open-sessions.js';
import { ProtocolListeners, type SessionTransport } from './protocol-listeners.js';

export interface SessionServerOptions<S extends ListenedSession> {
  /** Protocol names for logs, e.g. `{ plain: 'imap', implicitTls: 'imaps' }`. */
  protocols: { plain: string; implicitTls: string };
  /** PEM key and certificate (chain) for the upgrade and implicit TLS. */
  tls: TlsIdentity;
  trustLocalConnections?: boolean | undefined;
  logger?: Logger | undefined;
  /** Implicit TLS handshakes are bounded by this. */
  tlsHandshakeTimeoutMs: number;
  /** A session for an accepted connection; `transport.onClose` must be called once it is gone. */
  createSession(transport: SessionTransport & { onClose: () => void }): S;
  /** The logged-in user id of a session, or null. */
  userOf(session: S): string | null;
  /** Ends a session from outside (its account was changed): the protocol's way (IMAP: BYE first). */
  endSession(session: S): void;
}

export class SessionServer<S extends ListenedSession> {
  readonly #listeners: ProtocolListeners<S>;
  readonly #open: OpenSessions<S>;
  readonly #handshakeTimeoutMs: number;
  readonly #create: SessionServerOptions<S>['createSession'];
  readonly #logger: Logger | undefined;
  #secureContext: SecureContext | undefined;
  readonly #tls: TlsIdentity;
  readonly #adopted = new Set<S>();

  constructor(o: SessionServerOptions<S>) {
    this.#handshakeTimeoutMs = o.tlsHandshakeTimeoutMs;
    this.#create = o.createSession;
    this.#logger = o.logger;
    this.#tls = o.tls;
    this.#open = new OpenSessions<S>(o.userOf, o.endSession);
    this.#listeners = new ProtocolListeners<S>({
      protocols: o.protocols,
      tls: o.tls,
      trustLocalConnections: o.trustLocalConnections,
      logger: o.logger,
      createSession: (transport) =>
        this.#open.add((onClose) => o.createSession({ ...transport, onClose }), transport.onClose),
    });
  }

  /** Listens on `host:port` (port 0: any free port); `implicitTls`, else plain with the in-protocol upgrade. */
  async listen(port: number, host: string, opts: { implicitTls: boolean }): Promise<SessionListener> {
    return this.#listeners.listen(port, host, {
      implicitTls: opts.implicitTls,
      handshakeTimeoutMs: this.#handshakeTimeoutMs,
    });
  }

  /**
   * Serves a connection accepted elsewhere (the federation proxy listener, decision 0010) as a session of
   * this server, tracked like the others (`endSessionsOf`, `close`): `start` begins it in place of
   * `ListenedSession.start` (e.g. already authenticated). The socket is secure (TLS) already.
   */
  adopt(socket: Socket, opts: { proto: string; start: (session: S) => void; onClose?: () => void }): S {
    this.#secureContext ??= createSecureContext({ key: this.#tls.key, cert: this.#tls.cert });
    const session = this.#open.add(
      (onClose) =>
        this.#create({
          socket,
          tls: true,
          secureContext: this.#secureContext as SecureContext,
          trustLocalConnections: false,
          log: this.#logger?.child({ proto: opts.proto, remote: socket.remoteAddress }),
          onClose: () => {
            this.#adopted.delete(session);
            onClose();
          },
        }),
      opts.onClose,
    );
    this.#adopted.add(session);
    opts.start(session);
    return session;
  }

  /** The user ids of the logged-in sessions. */
  users(): Set<string> {
    return this.#open.users();
  }

  /**
   * Ends the sessions of `userId` whose connection began before `openedBefore` (ms; default all): the
   * account was removed, disabled or its password changed. Returns how many.
   */
  endSessionsOf(userId: string, openedBefore?: number): number {
    return this.#open.endSessionsOf(userId, openedBefore);
  }

  /** Closes every listener and cuts every connection. */
  async close(): Promise<void> {
    for (const s of this.#adopted) s.destroy();
    await this.#listeners.closeAll();
  }
}
