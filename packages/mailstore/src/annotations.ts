/**
 * Body annotations: opaque values a protocol derives from a body (IMAP's ENVELOPE/BODYSTRUCTURE text),
 * kept per body id and name, deleted with the body (message-rows.ts), written only for bodies of messages
 * in the folder named. The store never interprets them.
 */
import { MAX_ANNOTATION_LENGTH, type UserId } from './backend.js';
import type { StoreContext } from './context.js';
import { canonicalFolderName } from './names.js';
import { folderIn, folderQuery, requireFolder } from './rows.js';

export function blobAnnotations(
  ctx: StoreContext,
  userId: UserId,
  folder: string,
  name: string,
  range: { fromUid?: number; toUid?: number | null },
): Promise<Map<string, string>> {
  return ctx.op(async () => {
    const folderName = canonicalFolderName(folder);
    let where = 'm.folder_id = (SELECT id FROM folders WHERE user_id = ? AND name = ?) AND m.uid >= ?';
    const args: Array<string | number> = [name, userId, folderName, range.fromUid ?? 1];
    if (range.toUid !== undefined && range.toUid !== null) {
      where += ' AND m.uid <= ?';
      args.push(range.toUid);
    }
    // One row: `<id octets>:<value octets>:<id><value>` for every value, as one BLOB (UTF-8), cut apart
    // here. No JSON: values are often structured text themselves, and escaping them twice cost more
    // than the query (10,000 values: about 40 ms rather than 80).
    const [fr, ar] = await ctx.reader.batch(
      [
        folderQuery(userId, folder),
        {
          sql:
            "SELECT CAST(group_concat(length(CAST(a.blob_id AS BLOB)) || ':' || length(CAST(a.value AS BLOB)) || ':' || " +
            "a.blob_id || a.value, '') AS BLOB) " +
            `AS j FROM messages m JOIN blob_annotations a ON a.blob_id = m.blob_id AND a.name = ? WHERE ${where}`,
          args,
        },
      ],
      'read',
    );
    requireFolder(fr?.rows[0], folder);
    const out = new Map<string, string>();
    const raw = ar?.rows[0]?.j;
    if (raw instanceof ArrayBuffer) {
      const buf = Buffer.from(raw);
      let i = 0;
      while (i < buf.length) {
        const c1 = buf.indexOf(0x3a, i);
        const c2 = c1 < 0 ? -1 : buf.indexOf(0x3a, c1 + 1);
        if (c2 < 0) break;
        const idEnd = c2 + 1 + Number(buf.toString('latin1', i, c1));
        const valueEnd = idEnd + Number(buf.toString('latin1', c1 + 1, c2));
        out.set(buf.toString('utf8', c2 + 1, idEnd), buf.toString('utf8', idEnd, valueEnd));
        i = valueEnd;
      }
    }
    return out;
  });
}

export function setBlobAnnotations(
  ctx: StoreContext,
  userId: UserId,
  folder: string,
  name: string,
  entries: ReadonlyArray<{ blobId: string; value: string }>,
): Promise<void> {
  return ctx.op(async () => {
    const folderName = canonicalFolderName(folder);
    const kept = entries
      .filter((e) => typeof e.value === 'string' && e.value.length <= MAX_ANNOTATION_LENGTH)
      .map((e) => [e.blobId, e.value]);
    await ctx.write(async (tx) => {
      const f = await folderIn(tx, userId, folderName);
      if (kept.length === 0) return;
      // Only bodies of messages in the folder: a body removed meanwhile gets no orphan annotation.
      await tx.execute({
        sql:
          'INSERT OR REPLACE INTO blob_annotations (blob_id, name, value) ' +
          "SELECT json_extract(j.value, '$[0]'), ?, json_extract(j.value, '$[1]') FROM json_each(?) AS j " +
          "WHERE json_extract(j.value, '$[0]') IN (SELECT blob_id FROM messages WHERE folder_id = ?)",
        args: [name, JSON.stringify(kept), f.id],
      });
    });
  });
}
