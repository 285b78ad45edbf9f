/**
 * The login sequences of the line protocols, written once: a password login (IMAP LOGIN, POP3 USER/PASS,
 * SMTP AUTH through a library) is "rate-limit, verify, succeed or fail, log"; a SASL exchange (IMAP
 * AUTHENTICATE, POP3 AUTH) is the loop of challenges and responses around `createSaslSession`, which does
 * the rate limiting itself. Both end in a `LoginOutcome` that the protocol turns into its own reply (one
 * mapping per protocol) and, on success, its own login. Failures are reported to `onFailure` (the
 * protocol logs them with its own event) with the identity the client claimed, never the secret.
 */
import type { LoginRateLimiter } from './rate-limit.js';
import { createSaslSession } from './server.js';
import type { AuthenticatedUser, CredentialStore, SaslMechanismName, SaslStep } from './types.js';

export type LoginOutcome =
  | { kind: 'success'; user: AuthenticatedUser }
  /** Refused by the rate limiter before any check. */
  | { kind: 'rate-limited'; retryAfterMs: number }
  /** Wrong credentials or a malformed exchange: the same to the client (no oracle). */
  | { kind: 'failed' }
  /** The client cancelled the exchange (`*`). */
  | { kind: 'aborted' }
  /** A response was not base64 (the protocol's syntax error). */
  | { kind: 'invalid-base64' }
  /** More round trips than `maxSteps`. */
  | { kind: 'too-many-steps' }
  /** The connection is gone: nothing to answer. */
  | { kind: 'closed' };

/** A failed attempt, for the protocol's log line. */
export interface LoginFailure {
  /** The identity the client claimed, once known. */
  login: string | undefined;
  mechanism: string;
  /**
   * Why, when it is not "wrong credentials": the rate limiter refused the attempt before any check, or
   * the protocol's own check refused it (e.g. `authzid`: a foreign authorization identity, RFC 4616 §2).
   */
  reason?: string;
}

export interface LoginAttempt {
  credentials: CredentialStore;
  rateLimiter: LoginRateLimiter | undefined;
  /** The client's address (normalised), for the rate limiter. */
  address: string;
  onFailure?: (failure: LoginFailure) => void;
}

/**
 * How the credentials of a login are checked when a library ran the exchange (SMTP AUTH through
 * smtp-server: CRAM-MD5 is checked against the stored secret there): the user, or null with an optional
 * reason for the log.
 */
export type CredentialCheck = () => Promise<{ user: AuthenticatedUser } | { user: null; reason?: string }>;

/** The attempt of a name and a password (IMAP LOGIN, POP3 PASS), or of a protocol's own check. */
export type PasswordLoginAttempt = Omit<LoginAttempt, 'credentials'> & {
  mechanism: string;
  login: string;
} & ({ password: string; credentials: Pick<CredentialStore, 'verifyPassword'> } | { check: CredentialCheck });

/** A login with a name and a password (no SASL): rate-limit, verify, record the outcome, report a failure. */
export async function passwordLogin(a: PasswordLoginAttempt): Promise<LoginOutcome> {
  const decision = a.rateLimiter?.check(a.address, a.login);
  if (decision && !decision.allowed) {
    a.onFailure?.({ login: a.login, mechanism: a.mechanism, reason: 'rate-limited' });
    return { kind: 'rate-limited', retryAfterMs: decision.retryAfterMs };
  }
  const checked =
    'check' in a ? await a.check() : { user: await a.credentials.verifyPassword(a.login, a.password) };
  const user = checked.user;
  if (!user) {
    a.rateLimiter?.fail(a.address, a.login);
    const reason = 'reason' in checked ? checked.reason : undefined;
    a.onFailure?.({ login: a.login, mechanism: a.mechanism, ...(reason ? { reason } : {}) });
    return { kind: 'failed' };
  }
  a.rateLimiter?.succeed(a.address, a.login);
  return { kind: 'success', user };
}

export interface SaslExchange extends LoginAttempt {
  mechanism: SaslMechanismName;
  hostname: string;
  /** Stable secret for SCRAM's fake salts (see `SaslServerOptions.secret`). */
  secret?: Buffer;
  /** The initial response (SASL-IR, RFC 4959; RFC 5034 §4), an empty Buffer for `=`. */
  initialResponse: Buffer | undefined;
  /** Round trips allowed. */
  maxSteps: number;
  /**
   * Sends a challenge (base64 text, possibly empty: `+ …` in IMAP and POP3) and returns the client's
   * answer line as the protocol reads it, or null when the connection is gone.
   */
  challenge(base64: string): Promise<string | null>;
}

/** Strict base64 (RFC 4648 §4, padding required), or null. */
export function decodeBase64Strict(text: string): Buffer | null {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * One SASL exchange to its end. Additional data with success (SCRAM's `v=…`) goes out as one more
 * challenge, answered by an empty line (RFC 4422 §5; RFC 5034 §4); `*` aborts (RFC 4422 §3.5).
 */
export async function saslExchange(x: SaslExchange): Promise<LoginOutcome> {
  const sasl = createSaslSession(x.mechanism, {
    store: x.credentials,
    hostname: x.hostname,
    ...(x.secret ? { secret: x.secret } : {}),
    rateLimit: x.rateLimiter ? { limiter: x.rateLimiter, address: x.address } : undefined,
  });
  let step: SaslStep = await sasl.start(x.initialResponse);
  for (let round = 1; ; round++) {
    if (step.kind === 'failure') {
      if (step.retryAfterMs !== undefined) {
        x.onFailure?.({ login: step.login, mechanism: x.mechanism, reason: 'rate-limited' });
        return { kind: 'rate-limited', retryAfterMs: step.retryAfterMs };
      }
      if (step.reason === 'aborted') return { kind: 'aborted' };
      x.onFailure?.({ login: step.login, mechanism: x.mechanism });
      return { kind: 'failed' };
    }
    if (round > x.maxSteps) return { kind: 'too-many-steps' };
    const data = step.kind === 'success' ? step.final : step.data;
    if (step.kind === 'success' && data === undefined) return { kind: 'success', user: step.user };
    const answer = await x.challenge((data ?? Buffer.alloc(0)).toString('base64'));
    if (answer === null) return { kind: 'closed' };
    if (answer === '*') return { kind: 'aborted' };
    // The client acknowledged the additional data (it should send an empty line).
    if (step.kind === 'success') return { kind: 'success', user: step.user };
    const response = decodeBase64Strict(answer);
    if (!response) return { kind: 'invalid-base64' };
    step = await sasl.next(response);
  }
}
