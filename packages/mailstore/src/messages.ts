/**
 * Message changes: APPEND (a body written like a delivery's, then one transaction), COPY and MOVE (rows
 * share the body; quota checked for COPY only), EXPUNGE (the files go after the commit).
 */
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { CopyResult, UserId } from './backend.js';
import type { StoreContext } from './context.js';
import { normalizeFlags } from './flags.js';
import { insertCopies, removeRows, selectMessages } from './message-rows.js';
import { canonicalFolderName } from './names.js';
import { checkQuota, limitFor, remainingBytes } from './quota.js';
import {
  checkDate,
  checkUserId,
  flagsText,
  folderIn,
  folderQuery,
  isSeen,
  messagesJsonSql,
  parseMessages,
  requireFolder,
  uniqueUids,
} from './rows.js';

export function append(
  ctx: StoreContext,
  userId: UserId,
  folder: string,
  source: Readable,
  opts: { flags?: string[]; internalDate?: Date; maxBytes?: number },
): Promise<{ uidValidity: number; uid: number }> {
  if (ctx.closing) source.destroy();
  return ctx.op(async () => {
    const name = canonicalFolderName(folder);
    let flags: string[];
    let quotaBytes: number | undefined;
    let limit: number | null;
    try {
      checkUserId(userId);
      checkDate(opts.internalDate);
      flags = normalizeFlags(opts.flags ?? []);
      const r = await ctx.reader.execute(folderQuery(userId, folder));
      requireFolder(r.rows[0], folder);
      limit = await limitFor(ctx, userId);
      if (limit !== null) quotaBytes = await remainingBytes(ctx, userId, limit);
    } catch (err) {
      source.destroy();
      throw err;
    }
    const internalDate = opts.internalDate ?? ctx.now();
    const blob = await ctx.files.write(source, { maxBytes: opts.maxBytes, quotaBytes });
    try {
      await ctx.files.syncShards([blob.shard]);
      return await ctx.write(async (tx, fx) => {
        const f = await folderIn(tx, userId, name);
        await checkQuota(tx, userId, limit, blob.size);
        await tx.execute({
          sql: 'INSERT INTO blobs (id, path, size, refcount) VALUES (?, ?, ?, 1)',
          args: [blob.id, blob.rel, blob.size],
        });
        const uid = f.uidNext;
        const modSeq = f.highestModSeq + 1;
        await tx.execute({
          sql:
            'INSERT INTO messages (folder_id, uid, blob_id, size, internal_date, flags, modseq) ' +
            'VALUES (?, ?, ?, ?, ?, ?, ?)',
          args: [f.id, uid, blob.id, blob.size, internalDate.getTime(), flagsText(flags), modSeq],
        });
        await tx.execute({
          sql:
            'UPDATE folders SET uid_next = ?, highest_modseq = ?, message_count = message_count + 1, ' +
            'unseen_count = unseen_count + ?, total_size = total_size + ? WHERE id = ?',
          args: [uid + 1, modSeq, isSeen(flags) ? 0 : 1, blob.size, f.id],
        });
        fx.events.push({ kind: 'exists', userId, folder: f.name, uid, modSeq });
        return { uidValidity: f.uidValidity, uid };
      });
    } catch (err) {
      await rm(blob.abs, { force: true });
      throw err;
    }
  });
}

/** COPY (`move` false) or MOVE of `uids` from `from` to `to`. */
export function transfer(
  ctx: StoreContext,
  userId: UserId,
  from: string,
  uids: number[],
  to: string,
  move: boolean,
): Promise<CopyResult> {
  return ctx.op(async () => {
    checkUserId(userId);
    const src = canonicalFolderName(from);
    const dst = canonicalFolderName(to);
    const wanted = uniqueUids(uids);
    const limit = move ? null : await limitFor(ctx, userId);
    return ctx.write(async (tx, fx) => {
      const source = await folderIn(tx, userId, src);
      const target = source.name === dst ? source : await folderIn(tx, userId, dst);
      const msgs = await selectMessages(tx, source.id, wanted);
      if (msgs.length === 0) return { uidValidity: target.uidValidity, sourceUids: [], destinationUids: [] };
      if (!move) {
        await checkQuota(
          tx,
          userId,
          limit,
          msgs.reduce((sum, m) => sum + m.size, 0),
        );
      }
      const copies = await insertCopies(tx, target, msgs);
      for (const c of copies)
        fx.events.push({ kind: 'exists', userId, folder: target.name, uid: c.uid, modSeq: c.modSeq });
      if (move) {
        // The same row when moving within a folder: its MODSEQ has moved on with the copies.
        const current = source.id === target.id ? await folderIn(tx, userId, src) : source;
        await removeRows(tx, fx, userId, current, msgs, false);
      } else {
        const refs = new Map<string, number>();
        for (const m of msgs) refs.set(m.blobId, (refs.get(m.blobId) ?? 0) + 1);
        await tx.execute({
          sql:
            "UPDATE blobs SET refcount = refcount + json_extract(j.value, '$[1]') FROM json_each(?) AS j " +
            "WHERE blobs.id = json_extract(j.value, '$[0]')",
          args: [JSON.stringify([...refs])],
        });
      }
      return {
        uidValidity: target.uidValidity,
        sourceUids: msgs.map((m) => m.uid),
        destinationUids: copies.map((c) => c.uid),
      };
    });
  });
}

export function expunge(
  ctx: StoreContext,
  userId: UserId,
  folder: string,
  uids?: number[],
): Promise<number[]> {
  return ctx.op(async () => {
    checkUserId(userId);
    const name = canonicalFolderName(folder);
    const wanted = uids === undefined ? undefined : uniqueUids(uids);
    return ctx.write(async (tx, fx) => {
      const f = await folderIn(tx, userId, name);
      const candidates =
        wanted === undefined
          ? parseMessages(
              (
                await tx.execute({
                  sql: messagesJsonSql("folder_id = ? AND instr(flags, '\\Deleted') > 0"),
                  args: [f.id],
                })
              ).rows,
            )
          : await selectMessages(tx, f.id, wanted);
      const doomed = candidates.filter((m) => m.flags.includes('\\Deleted'));
      if (doomed.length === 0) return [];
      await removeRows(tx, fx, userId, f, doomed, true);
      return doomed.map((m) => m.uid);
    });
  });
}
