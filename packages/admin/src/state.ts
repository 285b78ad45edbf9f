/**
 * The admin UI's own local state: signed-in sessions and API tokens, in a libSQL file in the data dir
 * (`admin-state.db`, mode 0600) so that they survive a restart; `:memory:` when no file is given.
 *
 * Only SHA-256 digests of session ids and tokens are stored, never the values the browser or script
 * holds: reading the file does not let anyone sign in. This state is per appliance (not replicated):
 * a session or token works in the region that issued it.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Client, createClient } from '@libsql/client';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    principal_key TEXT NOT NULL,
    principal TEXT NOT NULL,
    stage TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS sessions_principal ON sessions (principal_key)',
  `CREATE TABLE IF NOT EXISTS api_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS api_tokens_username ON api_tokens (username)',
];

/** The stored form of a secret: SHA-256, base64url (the secrets are 256-bit random values). */
export const digest = (secret: string) => createHash('sha256').update(secret).digest('base64url');

export interface SessionRow {
  idHash: string;
  principalKey: string;
  principal: string;
  stage: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface TokenRow {
  tokenHash: string;
  username: string;
  createdAt: number;
  expiresAt: number;
}

export class AdminStateDb {
  readonly #client: Client;
  readonly #ready: Promise<void>;

  private constructor(client: Client, file: string | null) {
    this.#client = client;
    this.#ready = (async () => {
      await client.execute('PRAGMA busy_timeout = 5000');
      await client.batch(SCHEMA, 'write');
      if (file) chmodSync(file, 0o600);
    })();
    // Surfaced by the first query that awaits it; not an unhandled rejection before that.
    this.#ready.catch(() => undefined);
  }

  /** Opens (creating when missing) the state file; with no file, a private in-memory database. */
  static open(file?: string): AdminStateDb {
    if (!file) return new AdminStateDb(createClient({ url: ':memory:' }), null);
    if (!existsSync(dirname(file))) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    return new AdminStateDb(createClient({ url: pathToFileURL(file).href, concurrency: 1 }), file);
  }

  async #run(sql: string, args: Array<string | number> = []) {
    await this.#ready;
    return this.#client.execute({ sql, args });
  }

  // ---------------------------------------------------------------- sessions

  async putSession(r: SessionRow): Promise<void> {
    await this.#run(
      'INSERT OR REPLACE INTO sessions (id_hash, principal_key, principal, stage, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)',
      [r.idHash, r.principalKey, r.principal, r.stage, r.createdAt, r.lastSeenAt],
    );
  }

  async getSession(idHash: string): Promise<SessionRow | null> {
    const rs = await this.#run(
      'SELECT id_hash, principal_key, principal, stage, created_at, last_seen_at FROM sessions WHERE id_hash = ?',
      [idHash],
    );
    const row = rs.rows[0];
    if (!row) return null;
    return {
      idHash: String(row.id_hash),
      principalKey: String(row.principal_key),
      principal: String(row.principal),
      stage: String(row.stage),
      createdAt: Number(row.created_at),
      lastSeenAt: Number(row.last_seen_at),
    };
  }

  async touchSession(idHash: string, lastSeenAt: number): Promise<void> {
    await this.#run('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?', [lastSeenAt, idHash]);
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.#run('DELETE FROM sessions WHERE id_hash = ?', [idHash]);
  }

  /** Deletes every session of a principal except `keepHash`; returns how many. */
  async deleteSessionsOf(principalKey: string, keepHash = ''): Promise<number> {
    const rs = await this.#run('DELETE FROM sessions WHERE principal_key = ? AND id_hash <> ?', [
      principalKey,
      keepHash,
    ]);
    return rs.rowsAffected;
  }

  /** Drops sessions idle since `idleBefore` or created before `createdBefore`. */
  async purgeSessions(idleBefore: number, createdBefore: number): Promise<number> {
    const rs = await this.#run('DELETE FROM sessions WHERE last_seen_at <= ? OR created_at <= ?', [
      idleBefore,
      createdBefore,
    ]);
    return rs.rowsAffected;
  }

  async countSessions(): Promise<number> {
    const rs = await this.#run('SELECT count(*) AS n FROM sessions');
    return Number(rs.rows[0]?.n ?? 0);
  }

  /** Drops the least recently used sessions beyond `max`. */
  async trimSessions(max: number): Promise<void> {
    await this.#run(
      'DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions ORDER BY last_seen_at DESC LIMIT -1 OFFSET ?)',
      [max],
    );
  }

  // ---------------------------------------------------------------- API tokens

  async putToken(r: TokenRow): Promise<void> {
    await this.#run(
      'INSERT INTO api_tokens (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)',
      [r.tokenHash, r.username, r.createdAt, r.expiresAt],
    );
  }

  async getToken(tokenHash: string): Promise<TokenRow | null> {
    const rs = await this.#run(
      'SELECT token_hash, username, created_at, expires_at FROM api_tokens WHERE token_hash = ?',
      [tokenHash],
    );
    const row = rs.rows[0];
    if (!row) return null;
    return {
      tokenHash: String(row.token_hash),
      username: String(row.username),
      createdAt: Number(row.created_at),
      expiresAt: Number(row.expires_at),
    };
  }

  async deleteToken(tokenHash: string): Promise<boolean> {
    return (await this.#run('DELETE FROM api_tokens WHERE token_hash = ?', [tokenHash])).rowsAffected > 0;
  }

  async deleteTokensOf(username: string): Promise<void> {
    await this.#run('DELETE FROM api_tokens WHERE username = ?', [username]);
  }

  async purgeTokens(now: number): Promise<void> {
    await this.#run('DELETE FROM api_tokens WHERE expires_at <= ?', [now]);
  }

  /** Drops the oldest tokens beyond `max`. */
  async trimTokens(max: number): Promise<void> {
    await this.#run(
      'DELETE FROM api_tokens WHERE token_hash IN (SELECT token_hash FROM api_tokens ORDER BY created_at DESC LIMIT -1 OFFSET ?)',
      [max],
    );
  }

  async close(): Promise<void> {
    await this.#ready.catch(() => undefined);
    if (!this.#client.closed) this.#client.close();
  }
}
