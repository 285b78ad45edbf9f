/**
 * `Pop3Server`: POP3 (RFC 1939) with STLS (RFC 2595) and POP3S (implicit TLS, RFC 8314 §3.3) listeners
 * over one set of services. Protocol only: storage is the `MailBackend` subset it is given, credentials
 * the shared `CredentialStore`, rate limiting the shared `LoginRateLimiter`.
 */
import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type SecureContext } from 'node:tls';
import type { CredentialStore, LoginRateLimiter, SaslMechanismName } from '@delegato/sasl';
import type { Logger } from 'pino';
import type { Pop3Backend, Pop3Services } from './context.js';
import { type Pop3Limits, resolveLimits } from './limits.js';
import { MaildropLocks } from './maildrop-lock.js';
import { Pop3Session } from './session.js';

export interface Pop3ServerOptions {
  /** Our name, in the greeting and in CRAM-MD5 challenges. */
  hostname: string;
  /** PEM key and certificate (chain) for STLS and implicit TLS. */
  tls: { key: string; cert: string };
  backend: Pop3Backend;
  credentials: CredentialStore;
  /** SASL mechanisms for AUTH, in the order to advertise (PLAIN and LOGIN are hidden before TLS). */
  mechanisms: SaslMechanismName[];
  /** Failed-login limiting for USER/PASS and AUTH; refusals answer -ERR [LOGIN-DELAY]. */
  rateLimiter?: LoginRateLimiter;
  /**
   * Treat a connection from the server's own address (remote address = local address of the socket,
   * e.g. 127.0.0.1 → 127.0.0.1) as secure, so USER/PASS and PLAIN work without TLS (Dovecot's rule for
   * `disable_plaintext_auth`). Default true.
   */
  trustLocalConnections?: boolean;
  limits?: Partial<Pop3Limits>;
  /** Parent logger; each connection gets a child with `cid` and `proto: 'pop3'`. Never logs credentials. */
  logger?: Logger;
  /** The maildrop locks; share one instance between servers of a process. Default: one per server. */
  locks?: MaildropLocks;
  /** The IMPLEMENTATION capability's text (RFC 2449 §6.9). Default "Delegato". */
  implementation?: string;
}

export interface Pop3Listener {
  address: AddressInfo;
  /** Stops accepting and cuts this listener's connections (nothing is deleted: no UPDATE). */
  close(): Promise<void>;
}

export class Pop3Server {
  readonly #services: Pop3Services;
  readonly #secureContext: SecureContext;
  readonly #tls: { key: string; cert: string };
  readonly #trustLocal: boolean;
  readonly #logger: Logger | undefined;
  readonly #listeners = new Set<Pop3Listener>();

  constructor(opts: Pop3ServerOptions) {
    if (!opts.hostname) throw new TypeError('Pop3Server: hostname is required');
    this.#tls = { key: opts.tls.key, cert: opts.tls.cert };
    this.#secureContext = createSecureContext(this.#tls);
    this.#trustLocal = opts.trustLocalConnections ?? true;
    this.#logger = opts.logger;
    this.#services = {
      hostname: opts.hostname,
      backend: opts.backend,
      credentials: opts.credentials,
      mechanisms: [...new Set(opts.mechanisms)],
      rateLimiter: opts.rateLimiter,
      locks: opts.locks ?? new MaildropLocks(),
      limits: resolveLimits(opts.limits),
      implementation: opts.implementation ?? 'Delegato',
    };
  }

  /** Listens on `host:port` (port 0: any free port). `implicitTls`: POP3S, else POP3 with STLS. */
  async listen(port: number, host: string, opts: { implicitTls: boolean }): Promise<Pop3Listener> {
    const sessions = new Set<Pop3Session>();
    /** Every TCP connection, TLS handshakes in progress included (cut at close). */
    const connections = new Set<Socket>();
    const proto = opts.implicitTls ? 'pop3s' : 'pop3';
    const serve = (socket: Socket) => {
      const cid = randomBytes(6).toString('base64url');
      const session = new Pop3Session({
        socket,
        tls: opts.implicitTls,
        services: this.#services,
        secureContext: this.#secureContext,
        trustLocalConnections: this.#trustLocal,
        log: this.#logger?.child({ cid, proto, remote: socket.remoteAddress }),
        onClose: () => sessions.delete(session),
      });
      sessions.add(session);
      session.start();
    };

    let server: Server;
    if (opts.implicitTls) {
      const tlsServer = createTlsServer({
        ...this.#tls,
        handshakeTimeout: this.#services.limits.tlsHandshakeTimeoutMs,
      });
      tlsServer.on('secureConnection', serve);
      tlsServer.on('tlsClientError', (error) =>
        this.#logger?.debug({ err: error, proto }, 'pop3 TLS handshake failed'),
      );
      server = tlsServer;
    } else {
      server = createNetServer(serve);
    }
    server.on('error', (error) => this.#logger?.error({ err: error, proto }, 'pop3 listener error'));
    server.on('connection', (socket: Socket) => {
      connections.add(socket);
      socket.once('close', () => connections.delete(socket));
    });

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    this.#logger?.info({ proto, address: address.address, port: address.port }, 'pop3 listening');

    let closing: Promise<void> | undefined;
    const listener: Pop3Listener = {
      address,
      close: () => {
        closing ??= (async () => {
          this.#listeners.delete(listener);
          const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
          const open = [...sessions];
          for (const s of open) s.destroy();
          for (const c of connections) c.destroy();
          await Promise.all(open.map((s) => s.settled()));
          await stopped;
          this.#logger?.info({ proto, port: address.port }, 'pop3 listener closed');
        })();
        return closing;
      },
    };
    this.#listeners.add(listener);
    return listener;
  }

  /** Closes every listener and cuts every connection. */
  async close(): Promise<void> {
    await Promise.all([...this.#listeners].map((l) => l.close()));
  }
}
