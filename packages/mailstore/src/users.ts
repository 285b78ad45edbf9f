/** Users: `ensureUser` (with the default folders) and `purgeUser` (every folder, message and body). */
import { DEFAULT_FOLDERS, type UserId } from './backend.js';
import type { StoreContext } from './context.js';
import { insertFolder } from './folders.js';
import { releaseMessages } from './message-rows.js';
import { checkUserId } from './rows.js';

export function ensureUser(ctx: StoreContext, userId: UserId): Promise<void> {
  return ctx.op(async () => {
    checkUserId(userId);
    if (ctx.knownUsers.has(userId)) return;
    const known = await ctx.reader.execute({ sql: 'SELECT 1 FROM users WHERE id = ?', args: [userId] });
    if (known.rows.length > 0) {
      ctx.rememberUser(userId);
      return;
    }
    await ctx.write(async (tx, fx) => {
      const inserted = await tx.execute({
        sql: 'INSERT INTO users (id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
        args: [userId, ctx.now().getTime()],
      });
      if (inserted.rowsAffected === 0) return;
      for (const f of DEFAULT_FOLDERS) {
        await insertFolder(ctx, tx, userId, f.name, f.specialUse, true);
        fx.events.push({ kind: 'folder', userId, folder: f.name, change: 'created' });
      }
    });
    ctx.rememberUser(userId);
  });
}

export function purgeUser(ctx: StoreContext, userId: UserId): Promise<void> {
  return ctx.op(async () => {
    checkUserId(userId);
    await ctx.write(async (tx, fx) => {
      const folders = await tx.execute({
        sql: 'SELECT id, name FROM folders WHERE user_id = ?',
        args: [userId],
      });
      if (folders.rows.length > 0) {
        const ids = JSON.stringify(folders.rows.map((r) => Number(r.id)));
        const where = 'folder_id IN (SELECT value FROM json_each(?))';
        fx.unlink.push(...(await releaseMessages(tx, where, [ids])));
        await tx.execute({ sql: `DELETE FROM expunged WHERE ${where}`, args: [ids] });
        await tx.execute({ sql: 'DELETE FROM folders WHERE user_id = ?', args: [userId] });
        await tx.execute({
          sql: 'DELETE FROM subscriptions_without_folder WHERE user_id = ?',
          args: [userId],
        });
        for (const r of folders.rows) {
          fx.events.push({ kind: 'folder', userId, folder: String(r.name), change: 'deleted' });
        }
      }
      await tx.execute({ sql: 'DELETE FROM users WHERE id = ?', args: [userId] });
      ctx.knownUsers.delete(userId);
    });
    ctx.knownUsers.delete(userId);
  });
}
