/**
 * `Pop3Server`: POP3 (RFC 1939) with STLS (RFC 2595) and POP3S (implicit TLS, RFC 8314 §3.3) listeners
 * over one set of services. Protocol only: storage is the `Pop3Backend` (backend.ts) it is given, credentials
 * the shared `CredentialStore`, rate limiting the shared `LoginRateLimiter`.
 */
import type { Socket } from 'node:net';
import { type LoginProxy, type SessionListener, SessionServer, type TlsIdentity } from '@delegato/mail-core';
import type { AuthenticatedUser, CredentialStore, LoginRateLimiter, SaslMechanismName } from '@delegato/sasl';
import type { Logger } from 'pino';
import type { Pop3Backend, Pop3Services } from './context.js';
import { type Pop3Limits, resolveLimits } from './limits.js';
import { MaildropLocks } from './maildrop-lock.js';
import { Pop3Session } from './session.js';

export interface Pop3ServerOptions {
  /** Our name, in the greeting and in CRAM-MD5 challenges. */
  hostname: string;
  /** PEM key and certificate (chain) for STLS and implicit TLS. */
  tls: TlsIdentity;
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
  /**
   * Sessions of mailboxes homed in another region become a byte pipe to that region after login
   * (decision 0010). Absent: every mailbox is served here.
   */
  proxy?: LoginProxy;
}

/** A POP3 or POP3S listener: `close()` stops accepting and cuts its connections (nothing is deleted: no UPDATE). */
export type Pop3Listener = SessionListener;

/**
 * The listeners, the open sessions and their ending from outside are `SessionServer`'s (mail-core, shared
 * with IMAP): `listen(port, host, { implicitTls })`, `users()`, `endSessionsOf(userId, openedBefore?)`,
 * `close()`.
 */
export class Pop3Server extends SessionServer<Pop3Session> {
  constructor(opts: Pop3ServerOptions) {
    if (!opts.hostname) throw new TypeError('Pop3Server: hostname is required');
    const services: Pop3Services = {
      hostname: opts.hostname,
      backend: opts.backend,
      credentials: opts.credentials,
      mechanisms: [...new Set(opts.mechanisms)],
      rateLimiter: opts.rateLimiter,
      locks: opts.locks ?? new MaildropLocks(),
      limits: resolveLimits(opts.limits),
      implementation: opts.implementation ?? 'Delegato',
      proxy: opts.proxy,
    };
    super({
      protocols: { plain: 'pop3', implicitTls: 'pop3s' },
      tls: opts.tls,
      trustLocalConnections: opts.trustLocalConnections,
      logger: opts.logger,
      tlsHandshakeTimeoutMs: services.limits.tlsHandshakeTimeoutMs,
      createSession: (transport) => new Pop3Session({ ...transport, services }),
      // Only TRANSACTION counts (an UPDATE under way finishes). POP3 has no unsolicited responses: the
      // connection just closes, and RFC 1939 §6 says a session that ends without QUIT does not enter
      // UPDATE, so nothing is deleted.
      userOf: (s) => (s.state === 'TRANSACTION' ? s.user.id : null),
      endSession: (s) => s.end(),
    });
  }

  /**
   * Serves a connection a proxy region opened for `user`, authenticated there (the federation proxy
   * listener, decision 0010), as a session of this server that starts logged in.
   */
  serveAuthenticated(socket: Socket, user: AuthenticatedUser, onClose?: () => void): Pop3Session {
    return this.adopt(socket, {
      proto: 'pop3-proxied',
      start: (session) => session.startAuthenticated(user),
      ...(onClose ? { onClose } : {}),
    });
  }
}
