/**
 * Folders: listing, create, delete, rename (INBOX's special rename), subscriptions, and the UIDVALIDITY a
 * new folder gets. Names: delimiter `/`, `INBOX` case-insensitive (names.ts).
 */
import type { Row, Transaction } from '@libsql/client';
import { type FolderInfo, type SpecialUse, StoreError, type UserId } from './backend.js';
import type { Effects, StoreContext } from './context.js';
import { insertCopies, releaseMessages, removeRows } from './message-rows.js';
import { canonicalFolderName, validateFolderName } from './names.js';
import {
  checkUserId,
  FOLDER_COLUMNS,
  type FolderRow,
  folderIn,
  folderQuery,
  messagesJsonSql,
  parseMessages,
  requireFolder,
  toFolderInfo,
  toFolderRow,
} from './rows.js';

export function listFolders(ctx: StoreContext, userId: UserId): Promise<FolderInfo[]> {
  return ctx.op(async () => {
    checkUserId(userId);
    const r = await ctx.reader.execute({
      sql: `SELECT ${FOLDER_COLUMNS} FROM folders WHERE user_id = ?`,
      args: [userId],
    });
    if (r.rows.length === 0) throw new StoreError('no-such-user', `no such user ${userId}`);
    const folders = r.rows.map((row) => toFolderInfo(toFolderRow(row)));
    folders.sort((a, b) =>
      a.name === 'INBOX' ? -1 : b.name === 'INBOX' ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    return folders;
  });
}

export function subscriptionsWithoutFolder(ctx: StoreContext, userId: UserId): Promise<string[]> {
  return ctx.op(async () => {
    checkUserId(userId);
    const r = await ctx.reader.execute({
      sql: 'SELECT name FROM subscriptions_without_folder WHERE user_id = ? ORDER BY name',
      args: [userId],
    });
    return r.rows.map((row) => String(row.name));
  });
}

export function folderInfo(ctx: StoreContext, userId: UserId, folder: string): Promise<FolderInfo> {
  return ctx.op(async () => {
    const r = await ctx.reader.execute(folderQuery(userId, folder));
    return toFolderInfo(requireFolder(r.rows[0], folder));
  });
}

export function createFolder(
  ctx: StoreContext,
  userId: UserId,
  folder: string,
  opts: { specialUse?: SpecialUse },
): Promise<void> {
  return ctx.op(async () => {
    checkUserId(userId);
    const name = validateFolderName(folder);
    await ctx.write(async (tx, fx) => {
      const user = await tx.execute({ sql: 'SELECT 1 FROM users WHERE id = ?', args: [userId] });
      if (user.rows.length === 0) throw new StoreError('no-such-user', `no such user ${userId}`);
      const existing = await tx.execute({
        sql: 'SELECT 1 FROM folders WHERE user_id = ? AND name = ?',
        args: [userId, name],
      });
      if (existing.rows.length > 0) throw new StoreError('folder-exists', `folder ${name} exists`);
      // IMAP CREATE does not subscribe (the client sends SUBSCRIBE).
      await insertFolder(ctx, tx, userId, name, opts.specialUse ?? null, false);
      fx.events.push({ kind: 'folder', userId, folder: name, change: 'created' });
    });
  });
}

export function deleteFolder(ctx: StoreContext, userId: UserId, folder: string): Promise<void> {
  return ctx.op(async () => {
    checkUserId(userId);
    const name = canonicalFolderName(folder);
    if (name === 'INBOX') throw new StoreError('cannot', 'INBOX cannot be deleted');
    await ctx.write(async (tx, fx) => {
      const f = await folderIn(tx, userId, name);
      fx.unlink.push(...(await releaseMessages(tx, 'folder_id = ?', [f.id])));
      await tx.execute({ sql: 'DELETE FROM expunged WHERE folder_id = ?', args: [f.id] });
      await tx.execute({ sql: 'DELETE FROM folders WHERE id = ?', args: [f.id] });
      if (f.subscribed) {
        // The subscription outlives the folder (RFC 3501 §6.3.6); a new folder of that name takes it back.
        await tx.execute({
          sql: 'INSERT OR IGNORE INTO subscriptions_without_folder (user_id, name) VALUES (?, ?)',
          args: [userId, name],
        });
      }
      fx.events.push({ kind: 'folder', userId, folder: name, change: 'deleted' });
    });
  });
}

export function renameFolder(ctx: StoreContext, userId: UserId, from: string, to: string): Promise<void> {
  return ctx.op(async () => {
    checkUserId(userId);
    const src = canonicalFolderName(from);
    const dst = validateFolderName(to);
    if (dst === 'INBOX' || dst === src) throw new StoreError('folder-exists', `folder ${dst} exists`);
    await ctx.write(async (tx, fx) => {
      if (src === 'INBOX') {
        await renameInbox(ctx, tx, fx, userId, dst);
        return;
      }
      const r = await tx.execute({ sql: 'SELECT id, name FROM folders WHERE user_id = ?', args: [userId] });
      const folders = r.rows.map((row) => ({ id: Number(row.id), name: String(row.name) }));
      if (!folders.some((f) => f.name === src))
        throw new StoreError('no-such-folder', `no such folder ${src}`);
      if (dst.startsWith(`${src}/`)) throw new StoreError('cannot', `cannot move ${src} under itself`);
      const inside = (name: string) => name === src || name.startsWith(`${src}/`);
      const moving = folders.filter((f) => inside(f.name));
      const staying = new Set(folders.filter((f) => !inside(f.name)).map((f) => f.name));
      const renames = moving.map((f) => ({ ...f, to: dst + f.name.slice(src.length) }));
      for (const f of renames) {
        if (staying.has(f.to)) throw new StoreError('folder-exists', `folder ${f.to} exists`);
      }
      // Two steps so that a new name equal to another moving folder's old name never collides: control
      // characters cannot occur in valid names.
      for (const f of renames) {
        await tx.execute({
          sql: 'UPDATE folders SET name = ? WHERE id = ?',
          args: [`\u0000${f.id}`, f.id],
        });
      }
      for (const f of renames) {
        await tx.execute({ sql: 'UPDATE folders SET name = ? WHERE id = ?', args: [f.to, f.id] });
        fx.events.push({ kind: 'folder', userId, folder: f.name, change: 'renamed', to: f.to });
      }
    });
  });
}

/** RFC 9051 §6.3.9: every INBOX message moves to a new folder `dst`; INBOX stays, empty; inferiors stay. */
async function renameInbox(
  ctx: StoreContext,
  tx: Transaction,
  fx: Effects,
  userId: UserId,
  dst: string,
): Promise<void> {
  const inbox = await folderIn(tx, userId, 'INBOX');
  const existing = await tx.execute({
    sql: 'SELECT 1 FROM folders WHERE user_id = ? AND name = ?',
    args: [userId, dst],
  });
  if (existing.rows.length > 0) throw new StoreError('folder-exists', `folder ${dst} exists`);
  const target = await insertFolder(ctx, tx, userId, dst, null, inbox.subscribed);
  fx.events.push({ kind: 'folder', userId, folder: dst, change: 'created' });
  const msgs = parseMessages(
    (await tx.execute({ sql: messagesJsonSql('folder_id = ?'), args: [inbox.id] })).rows,
  );
  if (msgs.length === 0) return;
  await insertCopies(tx, target, msgs);
  await removeRows(tx, fx, userId, inbox, msgs, false);
}

export function setSubscribed(
  ctx: StoreContext,
  userId: UserId,
  folder: string,
  subscribed: boolean,
): Promise<void> {
  return ctx.op(async () => {
    checkUserId(userId);
    const name = canonicalFolderName(folder);
    await ctx.write(async (tx) => {
      const r = await tx.execute({
        sql: 'UPDATE folders SET subscribed = ? WHERE user_id = ? AND name = ?',
        args: [subscribed ? 1 : 0, userId, name],
      });
      if (r.rowsAffected > 0) return;
      // Unsubscribing the name of a deleted folder.
      const orphan = subscribed
        ? { rowsAffected: 0 }
        : await tx.execute({
            sql: 'DELETE FROM subscriptions_without_folder WHERE user_id = ? AND name = ?',
            args: [userId, name],
          });
      if (orphan.rowsAffected === 0) throw new StoreError('no-such-folder', `no such folder ${name}`);
    });
  });
}

/** A new folder row with a fresh UIDVALIDITY; it takes back a subscription its name outlived. */
export async function insertFolder(
  ctx: StoreContext,
  tx: Transaction,
  userId: UserId,
  name: string,
  specialUse: SpecialUse | null,
  subscribed: boolean,
): Promise<FolderRow> {
  // Strictly above every UIDVALIDITY given before (in this store, to any folder), and at least the
  // current time in seconds: a recreated folder never reuses one.
  const v = await tx.execute({
    sql: "UPDATE meta SET value = max(value + 1, ?) WHERE key = 'last_uid_validity' RETURNING value",
    args: [Math.floor(ctx.now().getTime() / 1000)],
  });
  const uidValidity = Number(v.rows[0]?.value);
  if (!(uidValidity > 0 && uidValidity <= 0xffffffff)) throw new Error('mailstore: UIDVALIDITY out of range');
  const kept = await tx.execute({
    sql: 'DELETE FROM subscriptions_without_folder WHERE user_id = ? AND name = ? RETURNING 1',
    args: [userId, name],
  });
  const r = await tx.execute({
    sql:
      'INSERT INTO folders (user_id, name, special_use, subscribed, uid_validity) VALUES (?, ?, ?, ?, ?) ' +
      `RETURNING ${FOLDER_COLUMNS}`,
    args: [userId, name, specialUse, subscribed || kept.rows.length > 0 ? 1 : 0, uidValidity],
  });
  return toFolderRow(r.rows[0] as Row);
}
