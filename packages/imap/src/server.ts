/**
 * `ImapServer`: IMAP (RFC 9051 / RFC 3501) with STARTTLS and IMAPS (implicit TLS, RFC 8314 §3.3)
 * listeners over one set of services. Protocol only: storage is the `ImapBackend` (backend.ts) it is given,
 * credentials the shared `CredentialStore`, rate limiting the shared `LoginRateLimiter`.
 */
import type { Socket } from 'node:net';
import { type LoginProxy, type SessionListener, SessionServer, type TlsIdentity } from '@delegato/mail-core';
import type { AuthenticatedUser, CredentialStore, LoginRateLimiter, SaslMechanismName } from '@delegato/sasl';
import type { Logger } from 'pino';
import type { ImapBackend } from './backend.js';
import type { ImapServices } from './context.js';
import { SummaryCache } from './fetch/summary.js';
import { type ImapLimits, resolveLimits } from './limits.js';
import { RecentTracker } from './mailbox/recent.js';
import { MessageCache } from './mime/cache.js';
import { ImapSession } from './session.js';

export interface ImapServerOptions {
  /** Our name, in CRAM-MD5 challenges. */
  hostname: string;
  /** PEM key and certificate (chain) for STARTTLS and implicit TLS. */
  tls: TlsIdentity;
  backend: ImapBackend;
  credentials: CredentialStore;
  /** SASL mechanisms for AUTHENTICATE, in the order to advertise (PLAIN and LOGIN hidden before TLS). */
  mechanisms: SaslMechanismName[];
  /** Failed-login limiting for LOGIN and AUTHENTICATE. */
  rateLimiter?: LoginRateLimiter;
  /**
   * Treat a connection from the server's own address (remote address = local address of the socket,
   * e.g. 127.0.0.1 → 127.0.0.1) as secure, so LOGIN and PLAIN work without TLS (Dovecot's rule for
   * `disable_plaintext_auth`). Default true.
   */
  trustLocalConnections?: boolean;
  limits?: Partial<ImapLimits>;
  /** Parent logger; each connection gets a child with `cid` and `proto: 'imap'`. Never logs credentials. */
  logger?: Logger;
  /** The name in the greeting and in ID responses. Default "Delegato". */
  implementation?: string;
  /**
   * Sessions of mailboxes homed in another region become a byte pipe to that region after login
   * (decision 0010). Absent: every mailbox is served here.
   */
  proxy?: LoginProxy;
}

/** An IMAP or IMAPS listener: `close()` stops accepting and cuts its connections. */
export type ImapListener = SessionListener;

/**
 * The listeners, the open sessions and their ending from outside are `SessionServer`'s (mail-core, shared
 * with POP3): `listen(port, host, { implicitTls })`, `users()`, `endSessionsOf(userId, openedBefore?)`,
 * `close()`.
 */
export class ImapServer extends SessionServer<ImapSession> {
  constructor(opts: ImapServerOptions) {
    if (!opts.hostname) throw new TypeError('ImapServer: hostname is required');
    const limits = resolveLimits(opts.limits);
    const services: ImapServices = {
      hostname: opts.hostname,
      backend: opts.backend,
      credentials: opts.credentials,
      mechanisms: [...new Set(opts.mechanisms)],
      rateLimiter: opts.rateLimiter,
      limits,
      cache: new MessageCache(limits.messageCacheBytes),
      summaries: new SummaryCache(limits.summaryCacheBytes),
      recent: new RecentTracker(),
      implementation: opts.implementation ?? 'Delegato',
      proxy: opts.proxy,
    };
    super({
      protocols: { plain: 'imap', implicitTls: 'imaps' },
      tls: opts.tls,
      trustLocalConnections: opts.trustLocalConnections,
      logger: opts.logger,
      tlsHandshakeTimeoutMs: limits.tlsHandshakeTimeoutMs,
      createSession: (transport) => new ImapSession({ ...transport, services }),
      userOf: userIdOf,
      endSession: (s) => {
        // RFC 9051 §7.1.5: an untagged BYE, then the connection closes.
        void s
          .untagged('BYE Your account was changed; please log in again.')
          .catch(() => undefined)
          .finally(() => s.end());
      },
    });
  }

  /**
   * Serves a connection a proxy region opened for `user`, authenticated there (the federation proxy
   * listener, decision 0010), as a session of this server that starts logged in.
   */
  serveAuthenticated(socket: Socket, user: AuthenticatedUser, onClose?: () => void): ImapSession {
    return this.adopt(socket, {
      proto: 'imap-proxied',
      start: (session) => session.startAuthenticated(user),
      ...(onClose ? { onClose } : {}),
    });
  }
}

function userIdOf(s: ImapSession): string | null {
  return s.state === 'authenticated' || s.state === 'selected' ? s.user.id : null;
}
