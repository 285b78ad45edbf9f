/**
 * `Pop3Server`: POP3 (RFC 1939) with STLS (RFC 2595) and POP3S (implicit TLS, RFC 8314 §3.3) listeners
 * over one set of services. Protocol only: storage is the `MailBackend` subset it is given, credentials
 * the shared `CredentialStore`, rate limiting the shared `LoginRateLimiter`.
 */
import type { AddressInfo } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { listenForSessions } from '@delegato/mail-core';
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
    const proto = opts.implicitTls ? 'pop3s' : 'pop3';
    const listening = await listenForSessions({
      port,
      host,
      implicitTls: opts.implicitTls,
      tls: this.#tls,
      handshakeTimeoutMs: this.#services.limits.tlsHandshakeTimeoutMs,
      proto,
      ...(this.#logger ? { logger: this.#logger } : {}),
      createSession: (socket, cid, onClose) =>
        new Pop3Session({
          socket,
          tls: opts.implicitTls,
          services: this.#services,
          secureContext: this.#secureContext,
          trustLocalConnections: this.#trustLocal,
          log: this.#logger?.child({ cid, proto, remote: socket.remoteAddress }),
          onClose,
        }),
    });
    const listener: Pop3Listener = {
      address: listening.address,
      close: async () => {
        this.#listeners.delete(listener);
        await listening.close();
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
