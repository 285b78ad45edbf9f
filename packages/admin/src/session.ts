/**
 * Server-side sessions. The browser holds only `delegato_session=<id>.<HMAC-SHA-256(sessionSecret, id)>`
 * (HttpOnly, Secure, SameSite=Strict, Path=/); everything else lives on the server, so signing out really
 * ends the session.
 *
 * - signed-in sessions are written through to the admin state database (`AdminStateDb`, a libSQL file in
 *   the data dir): they survive a restart. Only the SHA-256 of the id is stored; the CSRF token is
 *   derived from the id (HMAC), so it is not stored either. Not stored: anonymous sessions (the login
 *   page), flash messages and an unconfirmed TOTP enrolment (a restart loses those, nothing else);
 * - idle timeout (default 30 min): a session unused that long is gone;
 * - absolute timeout (default 12 h): a session older than that is gone however busy it is; expired rows
 *   are purged when the store opens and at every sign-in;
 * - the id changes when someone signs in (session fixation), the CSRF token with it;
 * - the tables are bounded (`maxSessions`): the least recently used session is evicted first. Anonymous
 *   sessions have a table of their own, so a flood of login-page requests evicts only other anonymous
 *   sessions, never a signed-in one.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AdminStateDb, digest } from './state.js';

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
  kind: 'ok' | 'warn' | 'error';
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
  /** Where signed-in sessions are kept; default a private in-memory database. */
  db?: AdminStateDb;
}

/** Whose sessions to end: an admin by username, an end user by mailbox id. */
export type SessionOwner = { kind: 'admin'; username: string } | { kind: 'mailbox'; mailboxId: string };

const newId = () => randomBytes(32).toString('base64url');

const ownerKey = (o: SessionOwner | Principal): string =>
  o.kind === 'admin' ? `admin:${o.username}` : `mailbox:${o.mailboxId}`;

const STAGES: readonly SessionStage[] = ['anonymous', 'totp', 'totp-enroll', 'full'];

export class SessionStore {
  readonly idleMs: number;
  readonly absoluteMs: number;
  readonly db: AdminStateDb;
  readonly #maxSessions: number;
  readonly #secret: Buffer;
  readonly #now: () => Date;
  /** Signed-in sessions in use by this process, in order of last use, oldest first. */
  readonly #sessions = new Map<string, Session>();
  /** Anonymous sessions, the same way (never stored). */
  readonly #anonymous = new Map<string, Session>();

  constructor(opts: SessionStoreOptions) {
    if (opts.secret.length < 32) throw new Error('sessionSecret must be at least 32 bytes');
    this.#secret = opts.secret;
    this.#now = opts.now;
    this.idleMs = opts.idleMs ?? IDLE_TIMEOUT_MS;
    this.absoluteMs = opts.absoluteMs ?? ABSOLUTE_TIMEOUT_MS;
    this.#maxSessions = opts.maxSessions ?? MAX_SESSIONS;
    this.db = opts.db ?? AdminStateDb.open();
  }

  /** Sessions held in memory (signed-in ones in use, and anonymous ones). */
  get size(): number {
    return this.#sessions.size + this.#anonymous.size;
  }

  #mac(id: string): string {
    return createHmac('sha256', this.#secret).update(`session:${id}`).digest('base64url');
  }

  #csrf(id: string): string {
    return createHmac('sha256', this.#secret).update(`csrf:${id}`).digest('base64url');
  }

  #expired(s: { createdAt: number; lastSeenAt: number }, now: number): boolean {
    return now - s.lastSeenAt >= this.idleMs || now - s.createdAt >= this.absoluteMs;
  }

  /** The cookie value for a session. */
  cookieValue(session: Session): string {
    return `${session.id}.${this.#mac(session.id)}`;
  }

  #fresh(principal: Principal | null, stage: SessionStage): Session {
    const now = this.#now().getTime();
    const id = newId();
    return { id, csrf: this.#csrf(id), createdAt: now, lastSeenAt: now, stage, principal, flash: [] };
  }

  /** A new anonymous session (in memory only). */
  create(): Session {
    const session = this.#fresh(null, 'anonymous');
    this.#put(this.#anonymous, session);
    return session;
  }

  /** The live session a cookie names (touching it), or null: bad signature, unknown, idle or too old. */
  async get(cookie: string | undefined): Promise<Session | null> {
    if (!cookie) return null;
    const dot = cookie.lastIndexOf('.');
    if (dot <= 0) return null;
    const id = cookie.slice(0, dot);
    const mac = Buffer.from(cookie.slice(dot + 1));
    const expected = Buffer.from(this.#mac(id));
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return null;
    const now = this.#now().getTime();

    const anon = this.#anonymous.get(id);
    if (anon) {
      this.#anonymous.delete(id);
      if (this.#expired(anon, now)) return null;
      anon.lastSeenAt = now;
      this.#anonymous.set(id, anon);
      return anon;
    }

    // Signed in: the database decides (a session ended elsewhere, or before a restart, is gone).
    const row = await this.db.getSession(digest(id));
    if (!row) {
      this.#sessions.delete(id);
      return null;
    }
    if (this.#expired(row, now)) {
      this.#sessions.delete(id);
      await this.db.deleteSession(row.idHash);
      return null;
    }
    let session = this.#sessions.get(id);
    if (!session) {
      const principal = JSON.parse(row.principal) as Principal;
      const stage = STAGES.includes(row.stage as SessionStage) ? (row.stage as SessionStage) : 'anonymous';
      session = {
        id,
        csrf: this.#csrf(id),
        createdAt: row.createdAt,
        lastSeenAt: row.lastSeenAt,
        stage,
        principal,
        flash: [],
      };
    }
    session.lastSeenAt = now;
    this.#sessions.delete(id);
    this.#put(this.#sessions, session);
    await this.db.touchSession(row.idHash, now);
    return session;
  }

  /**
   * Signs a principal in: a fresh id and CSRF token (the old session is gone), the absolute timeout
   * counted from now. Stored before it is returned.
   */
  async signIn(old: Session | null, principal: Principal, stage: SessionStage): Promise<Session> {
    if (old) await this.destroy(old.id);
    const session = this.#fresh(principal, stage);
    const now = session.createdAt;
    await this.db.purgeSessions(now - this.idleMs, now - this.absoluteMs);
    await this.db.putSession({
      idHash: digest(session.id),
      principalKey: ownerKey(principal),
      principal: JSON.stringify(principal),
      stage,
      createdAt: session.createdAt,
      lastSeenAt: session.lastSeenAt,
    });
    await this.db.trimSessions(this.#maxSessions);
    this.#put(this.#sessions, session);
    return session;
  }

  async destroy(id: string): Promise<void> {
    this.#anonymous.delete(id);
    this.#sessions.delete(id);
    await this.db.deleteSession(digest(id));
  }

  /**
   * Ends every session of an admin or end user (removed, password changed), except the session
   * `exceptId` (the one that changed the password). Returns how many ended.
   */
  async destroyOwner(owner: SessionOwner, exceptId?: string): Promise<number> {
    const key = ownerKey(owner);
    for (const [id, s] of this.#sessions) {
      if (id !== exceptId && s.principal && ownerKey(s.principal) === key) this.#sessions.delete(id);
    }
    return this.db.deleteSessionsOf(key, exceptId ? digest(exceptId) : '');
  }

  #put(table: Map<string, Session>, session: Session): void {
    const now = session.lastSeenAt;
    // Expired sessions at the front go first, then the least recently used beyond the bound.
    for (const [id, s] of table) {
      if (!this.#expired(s, now)) break;
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
