/**
 * Quota: usage is the sum of every folder's size (copies count in full). The MTA checks it at RCPT time
 * (with SIZE=) and `deliver` again with the message's size (group-commit.ts); `append` and `copy` refuse
 * with `over-quota`; `move` does not change usage.
 */
import type { Transaction } from '@libsql/client';
import { type QuotaInfo, StoreError, type UserId } from './backend.js';
import type { StoreContext } from './context.js';
import { checkUserId } from './rows.js';

export function quota(ctx: StoreContext, userId: UserId): Promise<QuotaInfo> {
  return ctx.op(async () => {
    checkUserId(userId);
    const r = await ctx.reader.execute({
      sql:
        'SELECT COUNT(*) AS folders, COALESCE(SUM(total_size), 0) AS bytes, ' +
        'COALESCE(SUM(message_count), 0) AS messages FROM folders WHERE user_id = ?',
      args: [userId],
    });
    const row = r.rows[0];
    if (!row || Number(row.folders) === 0) throw new StoreError('no-such-user', `no such user ${userId}`);
    return {
      usedBytes: Number(row.bytes),
      messages: Number(row.messages),
      limitBytes: await limitFor(ctx, userId),
    };
  });
}

/** Bytes used by each of these users (one query; a user without mail or unknown counts 0). */
export function usageOf(ctx: StoreContext, userIds: readonly UserId[]): Promise<Map<UserId, number>> {
  return ctx.op(async () => {
    const out = new Map<UserId, number>(userIds.map((u) => [u, 0]));
    for (let i = 0; i < userIds.length; i += 500) {
      const r = await ctx.reader.execute({
        sql:
          'SELECT user_id, COALESCE(SUM(total_size), 0) AS bytes FROM folders ' +
          'WHERE user_id IN (SELECT value FROM json_each(?)) GROUP BY user_id',
        args: [JSON.stringify(userIds.slice(i, i + 500))],
      });
      for (const row of r.rows) out.set(String(row.user_id), Number(row.bytes));
    }
    return out;
  });
}

/** The user's limit in bytes (the directory's mailbox quota), null when unlimited. */
export async function limitFor(ctx: StoreContext, userId: UserId): Promise<number | null> {
  return ctx.quotaLimit ? await ctx.quotaLimit(userId) : null;
}

/** Bytes the user may still add before the limit (outside a transaction: bounds a body while it streams). */
export async function remainingBytes(ctx: StoreContext, userId: UserId, limit: number): Promise<number> {
  const used = await ctx.reader.execute({
    sql: 'SELECT COALESCE(SUM(total_size), 0) AS used FROM folders WHERE user_id = ?',
    args: [userId],
  });
  return Math.max(0, limit - Number(used.rows[0]?.used));
}

/** Inside the write transaction: `over-quota` when adding `adding` bytes would exceed `limit`. */
export async function checkQuota(
  tx: Transaction,
  userId: UserId,
  limit: number | null,
  adding: number,
): Promise<void> {
  if (limit === null) return;
  const r = await tx.execute({
    sql: 'SELECT COALESCE(SUM(total_size), 0) AS used FROM folders WHERE user_id = ?',
    args: [userId],
  });
  if (Number(r.rows[0]?.used) + adding > limit) {
    throw new StoreError('over-quota', `quota of ${limit} bytes exceeded`);
  }
}
