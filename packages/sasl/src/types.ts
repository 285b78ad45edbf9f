/**
 * The shared credential and SASL layer used by SMTP submission, IMAP and POP3. Protocol packages depend
 * on these types only; the appliance backs `CredentialStore` with the directory.
 */

/** What a server mechanism needs to know about an account. */
export interface CredentialStore {
  /** Checks a plain-text password (PLAIN, LOGIN, USER/PASS). Returns the canonical account, or null. */
  verifyPassword(login: string, password: string): Promise<AuthenticatedUser | null>;
  /** The CRAM-MD5 secret (the password), or null when CRAM-MD5 is off or the account may not log in. */
  cramSecret(login: string): Promise<{ user: AuthenticatedUser; secret: string } | null>;
  /** SCRAM-SHA-256 keys (RFC 5802 §3), or null when the account may not log in. */
  scramKeys(login: string): Promise<{
    user: AuthenticatedUser;
    salt: Buffer;
    iterations: number;
    storedKey: Buffer;
    serverKey: Buffer;
  } | null>;
}

/** A successfully authenticated mailbox. */
export interface AuthenticatedUser {
  /** The mail store's user id (the directory's mailbox id). */
  id: string;
  /** The official address. */
  address: string;
}

export type SaslMechanismName = 'PLAIN' | 'LOGIN' | 'CRAM-MD5' | 'SCRAM-SHA-256';

/**
 * One step of a server-side SASL exchange. The protocol layer base64-decodes client responses and
 * base64-encodes challenges (IMAP `+ <b64>`, POP3 `+ <b64>`, SMTP `334 <b64>`).
 */
export type SaslStep =
  /** Send this challenge (raw bytes; the protocol encodes it) and wait for the client's response. */
  | { kind: 'challenge'; data: Buffer }
  /** Authentication succeeded; `final` is additional server data to send with success (SCRAM's v=). */
  | { kind: 'success'; user: AuthenticatedUser; final?: Buffer }
  /**
   * Authentication failed (wrong credentials or malformed exchange). Never tell the client which.
   * `login` is the authentication identity the client claimed, once parsed (for logs and rate limiting);
   * `retryAfterMs` is set only when the session's rate limiter refused the attempt before any check.
   */
  | {
      kind: 'failure';
      reason: 'credentials' | 'malformed' | 'aborted';
      login?: string;
      retryAfterMs?: number;
    };

export interface SaslSession {
  readonly mechanism: SaslMechanismName;
  /** The first step: with the initial response (SASL-IR) when the client sent one, else undefined. */
  start(initialResponse: Buffer | undefined): Promise<SaslStep>;
  /** The next step with the client's decoded response. A response of `*` is handled by the protocol as abort. */
  next(response: Buffer): Promise<SaslStep>;
}
