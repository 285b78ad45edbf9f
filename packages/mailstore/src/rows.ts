/**
 * Row shapes and the small pure helpers every part of the store shares: folder rows, the message listing
 * as one JSON text, argument checks.
 */
import type { InStatement, Row, Transaction } from '@libsql/client';
import { type FolderInfo, type MessageMeta, type SpecialUse, StoreError, type UserId } from './backend.js';
import { canonicalFolderName } from './names.js';

export const FOLDER_COLUMNS =
  'id, name, special_use, subscribed, uid_validity, uid_next, highest_modseq, message_count, unseen_count, total_size';

export interface FolderRow {
  id: number;
  name: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModSeq: number;
  count: number;
  unseen: number;
  size: number;
}

export function toFolderRow(r: Row): FolderRow {
  return {
    id: Number(r.id),
    name: String(r.name),
    specialUse: r.special_use === null ? null : (String(r.special_use) as SpecialUse),
    subscribed: Number(r.subscribed) !== 0,
    uidValidity: Number(r.uid_validity),
    uidNext: Number(r.uid_next),
    highestModSeq: Number(r.highest_modseq),
    count: Number(r.message_count),
    unseen: Number(r.unseen_count),
    size: Number(r.total_size),
  };
}

export function toFolderInfo(f: FolderRow): FolderInfo {
  return {
    name: f.name,
    specialUse: f.specialUse,
    subscribed: f.subscribed,
    uidValidity: f.uidValidity,
    uidNext: f.uidNext,
    highestModSeq: f.highestModSeq,
    exists: f.count,
    unseen: f.unseen,
    recent: 0,
    size: f.size,
  };
}

/** The folder row of `folder` (canonical name), for a read batch or a transaction. */
export function folderQuery(userId: UserId, folder: string): InStatement {
  checkUserId(userId);
  return {
    sql: `SELECT ${FOLDER_COLUMNS} FROM folders WHERE user_id = ? AND name = ?`,
    args: [userId, canonicalFolderName(folder)],
  };
}

export function requireFolder(row: Row | undefined, folder: string): FolderRow {
  if (!row) throw new StoreError('no-such-folder', `no such folder ${canonicalFolderName(folder)}`);
  return toFolderRow(row);
}

/** The folder row inside a write transaction; `no-such-folder` when it is not there. */
export async function folderIn(tx: Transaction, userId: UserId, name: string): Promise<FolderRow> {
  const r = await tx.execute(folderQuery(userId, name));
  return requireFolder(r.rows[0], name);
}

/**
 * Messages as one JSON text (one row, parsed natively) rather than one libSQL row object per message:
 * SELECT of a 10,000-message folder stays a few milliseconds.
 */
export function messagesJsonSql(where: string): string {
  return (
    'SELECT json_group_array(json_array(uid, flags, internal_date, size, modseq, blob_id)) AS j FROM ' +
    `(SELECT uid, flags, internal_date, size, modseq, blob_id FROM messages WHERE ${where} ORDER BY uid)`
  );
}

type MessageTuple = [number, string, number, number, number, string];

export function parseMessages(rows: Row[]): MessageMeta[] {
  const json = rows[0]?.j;
  if (typeof json !== 'string') return [];
  const tuples = JSON.parse(json) as MessageTuple[];
  const out = tuples.map(
    ([uid, flags, internalDate, size, modSeq, blobId]): MessageMeta => ({
      uid,
      flags: flags === '' ? [] : flags.split(' '),
      internalDate: new Date(internalDate),
      size,
      modSeq,
      blobId,
    }),
  );
  // json_group_array keeps the subquery's order in practice; sorting sorted input is linear.
  out.sort((a, b) => a.uid - b.uid);
  return out;
}

export function flagsText(flags: readonly string[]): string {
  return flags.join(' ');
}

export function isSeen(flags: readonly string[]): boolean {
  return flags.includes('\\Seen');
}

export function uniqueUids(uids: readonly number[]): number[] {
  for (const uid of uids) {
    if (!Number.isSafeInteger(uid) || uid < 1) throw new StoreError('cannot', `invalid UID ${String(uid)}`);
  }
  return [...new Set(uids)].sort((a, b) => a - b);
}

export function checkUserId(userId: UserId): void {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new StoreError('no-such-user', 'the user id must be a non-empty string');
  }
}

export function checkDate(date: Date | undefined): void {
  if (date !== undefined && !(date instanceof Date && Number.isFinite(date.getTime()))) {
    throw new StoreError('cannot', 'invalid internal date');
  }
}
