/**
 * API tokens: random 32-byte bearer tokens issued to an admin by `POST /api/v1/tokens`. Only their
 * SHA-256 is kept (a token has 256 bits of entropy: a slow hash adds nothing), in memory: a restart
 * revokes every token, and tokens are valid in the appliance that issued them only.
 */
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_LIFETIME_MS = 12 * 60 * 60_000;
export const MAX_TOKENS = 10_000;

interface TokenRow {
  username: string;
  createdAt: number;
  expiresAt: number;
}

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

export class TokenStore {
  readonly #rows = new Map<string, TokenRow>();

  constructor(
    private readonly now: () => Date,
    private readonly lifetimeMs = TOKEN_LIFETIME_MS,
  ) {}

  issue(username: string): { token: string; expiresAt: string } {
    const now = this.now().getTime();
    for (const [k, r] of this.#rows) if (r.expiresAt <= now) this.#rows.delete(k);
    while (this.#rows.size >= MAX_TOKENS) {
      const oldest = this.#rows.keys().next().value;
      if (oldest === undefined) break;
      this.#rows.delete(oldest);
    }
    const token = `dlg_${randomBytes(32).toString('base64url')}`;
    const row = { username, createdAt: now, expiresAt: now + this.lifetimeMs };
    this.#rows.set(digest(token), row);
    return { token, expiresAt: new Date(row.expiresAt).toISOString() };
  }

  /** The admin a token belongs to, or null (unknown or expired). */
  verify(token: string): string | null {
    const key = digest(token);
    const row = this.#rows.get(key);
    if (!row) return null;
    if (row.expiresAt <= this.now().getTime()) {
      this.#rows.delete(key);
      return null;
    }
    return row.username;
  }

  revoke(token: string): boolean {
    return this.#rows.delete(digest(token));
  }

  revokeUser(username: string): void {
    for (const [k, r] of this.#rows) if (r.username === username) this.#rows.delete(k);
  }
}
