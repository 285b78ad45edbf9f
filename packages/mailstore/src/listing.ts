/**
 * Reading folders: `snapshot` (POP3: every message), `folderView` (IMAP SELECT: UIDs and MODSEQs as two
 * number columns, the first unseen message, the flags in use), `listMessages`, `expungedSince` (QRESYNC).
 * Each is one read batch on the reader connection (one snapshot of the committed state).
 */
import {
  type FolderSnapshot,
  type FolderView,
  type MessageMeta,
  StoreError,
  type UserId,
} from './backend.js';
import type { StoreContext } from './context.js';
import { SYSTEM_FLAGS } from './flags.js';
import { canonicalFolderName } from './names.js';
import { folderQuery, messagesJsonSql, parseMessages, requireFolder, toFolderInfo } from './rows.js';

/** A comma-separated list of integers (group_concat) as numbers; NULL (no rows) is empty. */
function numberList(text: unknown): number[] {
  if (text === null || text === undefined || text === '') return [];
  return JSON.parse(`[${String(text)}]`) as number[];
}

/** The 1-based position of `uid` in ascending `uids`, 0 when absent. */
function seqOfUid(uids: readonly number[], uid: number): number {
  let lo = 0;
  let hi = uids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = uids[mid] as number;
    if (v === uid) return mid + 1;
    if (v < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

export function snapshot(ctx: StoreContext, userId: UserId, folder: string): Promise<FolderSnapshot> {
  return ctx.op(async () => {
    const name = canonicalFolderName(folder);
    const [fr, mr] = await ctx.reader.batch(
      [
        folderQuery(userId, folder),
        {
          sql: messagesJsonSql('folder_id = (SELECT id FROM folders WHERE user_id = ? AND name = ?)'),
          args: [userId, name],
        },
      ],
      'read',
    );
    const f = requireFolder(fr?.rows[0], folder);
    const messages = parseMessages(mr?.rows ?? []);
    const flagsInUse = [...SYSTEM_FLAGS];
    const keys = new Set(flagsInUse.map((k) => k.toLowerCase()));
    for (const m of messages) {
      for (const flag of m.flags) {
        const key = flag.toLowerCase();
        if (!keys.has(key)) {
          keys.add(key);
          flagsInUse.push(flag);
        }
      }
    }
    return { ...toFolderInfo(f), messages, flagsInUse };
  });
}

export function folderView(ctx: StoreContext, userId: UserId, folder: string): Promise<FolderView> {
  return ctx.op(async () => {
    const name = canonicalFolderName(folder);
    const inFolder = 'folder_id = (SELECT id FROM folders WHERE user_id = ? AND name = ?)';
    // One read transaction: the folder row, UIDs and MODSEQs as two comma-separated texts (no row
    // object per message), the first UID without \Seen, and the distinct flag sets (few, for keywords).
    const [fr, cr, ur, kr] = await ctx.reader.batch(
      [
        folderQuery(userId, folder),
        {
          sql: `SELECT group_concat(uid) AS u, group_concat(modseq) AS m FROM (SELECT uid, modseq FROM messages WHERE ${inFolder} ORDER BY uid)`,
          args: [userId, name],
        },
        {
          sql: `SELECT uid FROM messages WHERE ${inFolder} AND instr(' ' || flags || ' ', ' \\Seen ') = 0 ORDER BY uid LIMIT 1`,
          args: [userId, name],
        },
        {
          sql: `SELECT DISTINCT flags FROM messages WHERE ${inFolder} AND flags <> ''`,
          args: [userId, name],
        },
      ],
      'read',
    );
    const f = requireFolder(fr?.rows[0], folder);
    const uids = numberList(cr?.rows[0]?.u);
    const modSeqs = numberList(cr?.rows[0]?.m);
    if (modSeqs.length !== uids.length) throw new StoreError('cannot', 'inconsistent folder listing');
    // group_concat keeps the subquery's order in practice; checked, and sorted if ever it did not.
    for (let i = 1; i < uids.length; i++) {
      if ((uids[i] as number) <= (uids[i - 1] as number)) {
        const order = uids.map((_, k) => k).sort((a, b) => (uids[a] as number) - (uids[b] as number));
        const u = order.map((k) => uids[k] as number);
        const m = order.map((k) => modSeqs[k] as number);
        uids.splice(0, uids.length, ...u);
        modSeqs.splice(0, modSeqs.length, ...m);
        break;
      }
    }
    const unseenUid = ur?.rows[0]?.uid;
    const firstUnseen = unseenUid === undefined || unseenUid === null ? 0 : seqOfUid(uids, Number(unseenUid));
    const flagsInUse = [...SYSTEM_FLAGS];
    const keys = new Set(flagsInUse.map((k) => k.toLowerCase()));
    for (const row of kr?.rows ?? []) {
      for (const flag of String(row.flags).split(' ')) {
        const key = flag.toLowerCase();
        if (flag !== '' && !keys.has(key)) {
          keys.add(key);
          flagsInUse.push(flag);
        }
      }
    }
    return { ...toFolderInfo(f), uids, modSeqs, firstUnseen, flagsInUse };
  });
}

export function listMessages(
  ctx: StoreContext,
  userId: UserId,
  folder: string,
  range: { fromUid?: number; toUid?: number | null; changedSince?: number },
): Promise<MessageMeta[]> {
  return ctx.op(async () => {
    const name = canonicalFolderName(folder);
    let where = 'folder_id = (SELECT id FROM folders WHERE user_id = ? AND name = ?) AND uid >= ?';
    const args: Array<string | number> = [userId, name, range.fromUid ?? 1];
    if (range.toUid !== undefined && range.toUid !== null) {
      where += ' AND uid <= ?';
      args.push(range.toUid);
    }
    if (range.changedSince !== undefined) {
      where += ' AND modseq > ?';
      args.push(range.changedSince);
    }
    const [fr, mr] = await ctx.reader.batch(
      [folderQuery(userId, folder), { sql: messagesJsonSql(where), args }],
      'read',
    );
    requireFolder(fr?.rows[0], folder);
    return parseMessages(mr?.rows ?? []);
  });
}

export function expungedSince(
  ctx: StoreContext,
  userId: UserId,
  folder: string,
  modSeq: number,
): Promise<number[]> {
  return ctx.op(async () => {
    const name = canonicalFolderName(folder);
    const [fr, er] = await ctx.reader.batch(
      [
        folderQuery(userId, folder),
        {
          sql:
            'SELECT uid FROM expunged WHERE folder_id = (SELECT id FROM folders WHERE user_id = ? AND name = ?) ' +
            'AND modseq > ? ORDER BY uid',
          args: [userId, name, modSeq],
        },
      ],
      'read',
    );
    requireFolder(fr?.rows[0], folder);
    return (er?.rows ?? []).map((r) => Number(r.uid));
  });
}
