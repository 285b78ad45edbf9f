/**
 * Server-side sessions. The browser holds only `delegato_session=<id>.<HMAC-SHA-256(sessionSecret, id)>`
 * (HttpOnly, Secure, SameSite=Strict, Path=/); everything else lives in this in-memory table, so a
 * restart signs everybody out and signing out really ends the session.
 *
 * - idle timeout (default 30 min): a session unused that long is gone;
 * - absolute timeout (default 12 h): a session older than that is gone however busy it is;
 * - the id changes when someone signs in (session fixation), the CSRF token with it;
 * - the table is bounded (`maxSessions`): the least recently used session is evicted first. Anonymous
 *   sessions (the login page's CSRF token) have a table of their own, so a flood of login-page requests
 *   evicts only other anonymous sessions, never a signed-in one.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'delegato_session';
export const IDLE_TIMEOUT_MS = 30 * 60_000;
export const ABSOLUTE_TIMEOUT_MS = 12 * 60 * 60_000;
export const MAX_SESSIONS = 10_000;

/** Who a session belongs to once the password was right. */
export type Principal =
  | { kind: 'admin'; username: string }
  | { kind: 'mailbox'; address: string; mailboxId: string };

/**
 * - `anonymous`: the login page (it still needs a CSRF token);
 * - `totp`: password right, the admin still has to enter a code at /login/totp;
 * - `totp-enroll`: password right, the deployment requires two-step sign-in and the admin has none yet:
 *   only /me/totp and sign-out are open;
 * - `full`: signed in.
 */
export type SessionStage = 'anonymous' | 'totp' | 'totp-enroll' | 'full';

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
  /** Shown once in a box the reader can copy from (a generated password). */
  secret?: string;
}

export interface Session {
  id: string;
  /** The per-session token every form carries in its hidden `_csrf` field. */
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
  stage: SessionStage;
  principal: Principal | null;
  /** A TOTP secret being enrolled (base32), not yet confirmed with a code. */
  pendingTotpSecret?: string;
  /** Messages for the next page shown. */
  flash: Flash[];
}

export interface SessionStoreOptions {
  secret: Buffer;
  now: () => Date;
  idleMs?: number;
  absoluteMs?: number;
  maxSessions?: number;
}

const newId = () => randomBytes(32).toString('base64url');

export class SessionStore {
  readonly idleMs: number;
  readonly absoluteMs: number;
  readonly #maxSessions: number;
  readonly #secret: Buffer;
  readonly #now: () => Date;
  /** Signed-in sessions, in order of last use, oldest first (re-inserted on every use). */
  readonly #sessions = new Map<string, Session>();
  /** Anonymous sessions, the same way. */
  readonly #anonymous = new Map<string, Session>();

  constructor(opts: SessionStoreOptions) {
    if (opts.secret.length < 32) throw new Error('sessionSecret must be at least 32 bytes');
    this.#secret = opts.secret;
    this.#now = opts.now;
    this.idleMs = opts.idleMs ?? IDLE_TIMEOUT_MS;
    this.absoluteMs = opts.absoluteMs ?? ABSOLUTE_TIMEOUT_MS;
    this.#maxSessions = opts.maxSessions ?? MAX_SESSIONS;
  }

  get size(): number {
    return this.#sessions.size + this.#anonymous.size;
  }

  #table(session: Session): Map<string, Session> {
    return session.principal ? this.#sessions : this.#anonymous;
  }

  #mac(id: string): string {
    return createHmac('sha256', this.#secret).update(`session:${id}`).digest('base64url');
  }

  /** The cookie value for a session. */
  cookieValue(session: Session): string {
    return `${session.id}.${this.#mac(session.id)}`;
  }

  /** A new anonymous session. */
  create(): Session {
    const now = this.#now().getTime();
    const session: Session = {
      id: newId(),
      csrf: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
      stage: 'anonymous',
      principal: null,
      flash: [],
    };
    this.#put(this.#anonymous, session);
    return session;
  }

  /** The live session a cookie names (touching it), or null: bad signature, unknown, idle or too old. */
  get(cookie: string | undefined): Session | null {
    if (!cookie) return null;
    const dot = cookie.lastIndexOf('.');
    if (dot <= 0) return null;
    const id = cookie.slice(0, dot);
    const mac = Buffer.from(cookie.slice(dot + 1));
    const expected = Buffer.from(this.#mac(id));
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return null;
    const session = this.#sessions.get(id) ?? this.#anonymous.get(id);
    if (!session) return null;
    const table = this.#table(session);
    const now = this.#now().getTime();
    if (now - session.lastSeenAt >= this.idleMs || now - session.createdAt >= this.absoluteMs) {
      table.delete(id);
      return null;
    }
    session.lastSeenAt = now;
    table.delete(id);
    table.set(id, session);
    return session;
  }

  /**
   * Signs a principal in: a fresh id and CSRF token (the old session is gone), the absolute timeout
   * counted from now.
   */
  signIn(old: Session | null, principal: Principal, stage: SessionStage): Session {
    if (old) this.destroy(old.id);
    const now = this.#now().getTime();
    const session: Session = {
      id: newId(),
      csrf: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
      stage,
      principal,
      flash: [],
    };
    this.#put(this.#sessions, session);
    return session;
  }

  destroy(id: string): void {
    this.#sessions.delete(id);
    this.#anonymous.delete(id);
  }

  /** Ends every session of a principal matching `pred` (an admin removed, a password changed). */
  destroyWhere(pred: (s: Session) => boolean): number {
    let n = 0;
    for (const [id, s] of this.#sessions) {
      if (pred(s)) {
        this.#sessions.delete(id);
        n++;
      }
    }
    return n;
  }

  #put(table: Map<string, Session>, session: Session): void {
    const now = session.createdAt;
    // Expired sessions at the front go first, then the least recently used beyond the bound.
    for (const [id, s] of table) {
      if (now - s.lastSeenAt < this.idleMs && now - s.createdAt < this.absoluteMs) break;
      table.delete(id);
    }
    while (table.size >= this.#maxSessions) {
      const oldest = table.keys().next().value;
      if (oldest === undefined) break;
      table.delete(oldest);
    }
    table.set(session.id, session);
  }
}
