/**
 * Message rows inside a write transaction, shared by copy/move/expunge, folder deletion, INBOX rename and
 * user purge: selecting, inserting copies, removing (with `expunged` records and MODSEQs), and dropping body
 * references (the files go after the commit).
 */
import type { Transaction } from '@libsql/client';
import type { MessageMeta, UserId } from './backend.js';
import type { Effects } from './context.js';
import { type FolderRow, flagsText, isSeen, messagesJsonSql, parseMessages } from './rows.js';

export async function selectMessages(
  tx: Transaction,
  folderId: number,
  uids: number[],
): Promise<MessageMeta[]> {
  if (uids.length === 0) return [];
  const r = await tx.execute({
    sql: messagesJsonSql('folder_id = ? AND uid IN (SELECT value FROM json_each(?))'),
    args: [folderId, JSON.stringify(uids)],
  });
  return parseMessages(r.rows);
}

/** Inserts copies of `msgs` (same blob, flags, date) at the end of `target`; blob refcounts untouched. */
export async function insertCopies(
  tx: Transaction,
  target: FolderRow,
  msgs: MessageMeta[],
): Promise<Array<{ uid: number; modSeq: number }>> {
  const copies = msgs.map((m, i) => ({ m, uid: target.uidNext + i, modSeq: target.highestModSeq + 1 + i }));
  await tx.execute({
    sql:
      'INSERT INTO messages (folder_id, uid, blob_id, size, internal_date, flags, modseq) ' +
      "SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), " +
      "json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]') FROM json_each(?)",
    args: [
      target.id,
      JSON.stringify(
        copies.map((c) => [
          c.uid,
          c.m.blobId,
          c.m.size,
          c.m.internalDate.getTime(),
          flagsText(c.m.flags),
          c.modSeq,
        ]),
      ),
    ],
  });
  const n = msgs.length;
  await tx.execute({
    sql:
      'UPDATE folders SET uid_next = uid_next + ?, highest_modseq = highest_modseq + ?, ' +
      'message_count = message_count + ?, unseen_count = unseen_count + ?, total_size = total_size + ? WHERE id = ?',
    args: [
      n,
      n,
      n,
      msgs.filter((m) => !isSeen(m.flags)).length,
      msgs.reduce((sum, m) => sum + m.size, 0),
      target.id,
    ],
  });
  return copies.map((c) => ({ uid: c.uid, modSeq: c.modSeq }));
}

/**
 * Removes message rows from `folder` (expunge, the source side of MOVE, a renamed INBOX): records them in
 * `expunged` with new MODSEQs, updates the counters, publishes `expunge` events. `releaseBlobs` drops the
 * body references (not when the rows moved elsewhere).
 */
export async function removeRows(
  tx: Transaction,
  fx: Effects,
  userId: UserId,
  folder: FolderRow,
  msgs: MessageMeta[],
  releaseBlobs: boolean,
): Promise<void> {
  const uids = JSON.stringify(msgs.map((m) => m.uid));
  const where = 'folder_id = ? AND uid IN (SELECT value FROM json_each(?))';
  if (releaseBlobs) {
    fx.unlink.push(...(await releaseMessages(tx, where, [folder.id, uids])));
  } else {
    await tx.execute({ sql: `DELETE FROM messages WHERE ${where}`, args: [folder.id, uids] });
  }
  const gone = msgs.map((m, i) => ({ uid: m.uid, modSeq: folder.highestModSeq + 1 + i }));
  await tx.execute({
    sql:
      'INSERT OR REPLACE INTO expunged (folder_id, uid, modseq) ' +
      "SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)",
    args: [folder.id, JSON.stringify(gone.map((g) => [g.uid, g.modSeq]))],
  });
  await tx.execute({
    sql:
      'UPDATE folders SET highest_modseq = ?, message_count = message_count - ?, ' +
      'unseen_count = unseen_count - ?, total_size = total_size - ? WHERE id = ?',
    args: [
      folder.highestModSeq + msgs.length,
      msgs.length,
      msgs.filter((m) => !isSeen(m.flags)).length,
      msgs.reduce((sum, m) => sum + m.size, 0),
      folder.id,
    ],
  });
  for (const g of gone)
    fx.events.push({ kind: 'expunge', userId, folder: folder.name, uid: g.uid, modSeq: g.modSeq });
}

/**
 * Deletes the message rows matching `where` and drops their body references; returns the paths (relative
 * to blobs/) of bodies no longer referenced, to remove after the commit.
 */
export async function releaseMessages(
  tx: Transaction,
  where: string,
  args: Array<string | number>,
): Promise<string[]> {
  await tx.execute({
    sql:
      'UPDATE blobs SET refcount = refcount - c.n ' +
      `FROM (SELECT blob_id, COUNT(*) AS n FROM messages WHERE ${where} GROUP BY blob_id) AS c ` +
      'WHERE blobs.id = c.blob_id',
    args,
  });
  const freed = await tx.execute({
    sql: `DELETE FROM blobs WHERE refcount <= 0 AND id IN (SELECT blob_id FROM messages WHERE ${where}) RETURNING id, path`,
    args,
  });
  await tx.execute({ sql: `DELETE FROM messages WHERE ${where}`, args });
  if (freed.rows.length > 0) {
    await tx.execute({
      sql: 'DELETE FROM blob_annotations WHERE blob_id IN (SELECT value FROM json_each(?))',
      args: [JSON.stringify(freed.rows.map((r) => String(r.id)))],
    });
  }
  return freed.rows.map((r) => String(r.path));
}
