/**
 * API tokens: random 32-byte bearer tokens issued to an admin by `POST /api/v1/tokens`. Only their
 * SHA-256 is kept (a token has 256 bits of entropy: a slow hash adds nothing), in the admin state
 * database (`AdminStateDb`): tokens survive a restart, expired ones are purged at every issue, and a
 * token is valid in the appliance that issued it only.
 */
import { randomBytes } from 'node:crypto';
import { AdminStateDb, digest } from '../state.js';

export const TOKEN_LIFETIME_MS = 12 * 60 * 60_000;
export const MAX_TOKENS = 10_000;

export class TokenStore {
  readonly db: AdminStateDb;

  constructor(
    private readonly now: () => Date,
    private readonly lifetimeMs = TOKEN_LIFETIME_MS,
    db?: AdminStateDb,
  ) {
    this.db = db ?? AdminStateDb.open();
  }

  async issue(username: string): Promise<{ token: string; expiresAt: string }> {
    const now = this.now().getTime();
    await this.db.purgeTokens(now);
    await this.db.trimTokens(MAX_TOKENS - 1);
    const token = `dlg_${randomBytes(32).toString('base64url')}`;
    const expiresAt = now + this.lifetimeMs;
    await this.db.putToken({ tokenHash: digest(token), username, createdAt: now, expiresAt });
    return { token, expiresAt: new Date(expiresAt).toISOString() };
  }

  /**
   * The admin a token belongs to and when it was issued (the directory refuses a token issued before the
   * admin's last password change), or null (unknown or expired).
   */
  async verify(token: string): Promise<{ username: string; issuedAt: number } | null> {
    const row = await this.db.getToken(digest(token));
    if (!row) return null;
    if (row.expiresAt <= this.now().getTime()) {
      await this.db.deleteToken(row.tokenHash);
      return null;
    }
    return { username: row.username, issuedAt: row.createdAt };
  }

  revoke(token: string): Promise<boolean> {
    return this.db.deleteToken(digest(token));
  }

  revokeUser(username: string): Promise<void> {
    return this.db.deleteTokensOf(username);
  }
}
