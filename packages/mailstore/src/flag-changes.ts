/**
 * STORE: flag changes in one transaction, each changed message taking the folder's next MODSEQ (a change
 * that changes nothing keeps it), `unchangedSince` reporting the skipped UIDs (RFC 7162 §3.1.3). Flag
 * normalisation and the set/add/remove rules are in flags.ts.
 */
import {
  type FlagOperation,
  type MessageMeta,
  StoreError,
  type StoreFlagsResult,
  type UserId,
} from './backend.js';
import type { StoreContext } from './context.js';
import { applyFlags, normalizeFlags } from './flags.js';
import { selectMessages } from './message-rows.js';
import { canonicalFolderName } from './names.js';
import { checkUserId, flagsText, folderIn, isSeen, uniqueUids } from './rows.js';

export function storeFlags(
  ctx: StoreContext,
  userId: UserId,
  folder: string,
  uids: number[],
  op: FlagOperation,
  flags: string[],
  opts: { unchangedSince?: number },
): Promise<StoreFlagsResult> {
  return ctx.op(async () => {
    checkUserId(userId);
    const name = canonicalFolderName(folder);
    const wanted = uniqueUids(uids);
    const normalized = normalizeFlags(flags);
    if (op !== 'set' && op !== 'add' && op !== 'remove')
      throw new StoreError('cannot', `unknown operation ${op}`);
    return ctx.write(async (tx, fx) => {
      const f = await folderIn(tx, userId, name);
      const msgs = await selectMessages(tx, f.id, wanted);
      const changed: MessageMeta[] = [];
      const modified: number[] = [];
      let modSeq = f.highestModSeq;
      let unseenDelta = 0;
      for (const m of msgs) {
        if (opts.unchangedSince !== undefined && m.modSeq > opts.unchangedSince) {
          modified.push(m.uid);
          continue;
        }
        const next = applyFlags(m.flags, op, normalized);
        if (next === null) continue;
        unseenDelta += (isSeen(m.flags) ? 0 : -1) + (isSeen(next) ? 0 : 1);
        modSeq += 1;
        changed.push({ ...m, flags: next, modSeq });
      }
      if (changed.length > 0) {
        await tx.execute({
          // MATERIALIZED: the planner then drives the join from the change list (PK lookups), not the folder.
          sql:
            'WITH j AS MATERIALIZED (SELECT ' +
            "json_extract(value, '$[0]') AS uid, json_extract(value, '$[1]') AS flags, " +
            "json_extract(value, '$[2]') AS modseq FROM json_each(?)) " +
            'UPDATE messages SET flags = j.flags, modseq = j.modseq FROM j ' +
            'WHERE messages.folder_id = ? AND messages.uid = j.uid',
          args: [JSON.stringify(changed.map((m) => [m.uid, flagsText(m.flags), m.modSeq])), f.id],
        });
        await tx.execute({
          sql: 'UPDATE folders SET highest_modseq = ?, unseen_count = unseen_count + ? WHERE id = ?',
          args: [modSeq, unseenDelta, f.id],
        });
        for (const m of changed) {
          fx.events.push({
            kind: 'flags',
            userId,
            folder: f.name,
            uid: m.uid,
            flags: m.flags,
            modSeq: m.modSeq,
          });
        }
      }
      return { changed, modified };
    });
  });
}
