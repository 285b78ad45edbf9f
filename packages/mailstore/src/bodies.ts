/**
 * Reading bodies: `openMessage` (by folder and UID: one query), and by body id after a listing without
 * querying the database (`openBody`, `readBody`, `readBodies`: the path follows from the id; the database
 * is asked only when the file is not where the id says). Small reads in bulk go to a worker thread
 * (bulk-reader.ts). Body ids are unguessable and come from the user's own listing: ownership is not
 * checked again.
 */
import { open as openFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { type BodyReader, StoreError, type UserId } from './backend.js';
import { BLOB_ID, FdBodyReader, isErrno, MAX_BULK_READ, missingBody, openFd } from './blob-files.js';
import type { StoreContext } from './context.js';
import { canonicalFolderName } from './names.js';
import { checkUserId, folderQuery, requireFolder } from './rows.js';

export function openMessage(
  ctx: StoreContext,
  userId: UserId,
  folder: string,
  uid: number,
): Promise<Readable> {
  return ctx.op(async () => {
    const name = canonicalFolderName(folder);
    // One statement on the hot path (POP3 RETR, IMAP FETCH); the folder is checked only on a miss.
    const r = await ctx.reader.execute({
      sql:
        'SELECT b.path FROM folders f JOIN messages m ON m.folder_id = f.id JOIN blobs b ON b.id = m.blob_id ' +
        'WHERE f.user_id = ? AND f.name = ? AND m.uid = ?',
      args: [userId, name, uid],
    });
    const rel = r.rows[0]?.path;
    const missing = () => new StoreError('no-such-message', `no message with UID ${uid} in ${name}`);
    if (typeof rel !== 'string') {
      const [fr] = await ctx.reader.batch([folderQuery(userId, folder)], 'read');
      requireFolder(fr?.rows[0], folder);
      throw missing();
    }
    try {
      // Opened now: an expunge after this point does not cut the stream short.
      const handle = await openFile(join(ctx.files.blobDir, rel), 'r');
      return handle.createReadStream();
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw missing();
      throw err;
    }
  });
}

export function openBody(ctx: StoreContext, userId: UserId, blobId: string): Promise<BodyReader> {
  return ctx.op(async () => {
    checkUserId(userId);
    const missing = () => new StoreError('no-such-message', `no body ${String(blobId).slice(0, 40)}`);
    if (typeof blobId !== 'string' || !BLOB_ID.test(blobId)) throw missing();
    return new FdBodyReader(await atBodyPath(ctx, blobId, missing, openFd));
  });
}

export function readBody(ctx: StoreContext, userId: UserId, blobId: string, length: number): Promise<Buffer> {
  // The hot path of a bulk FETCH or SEARCH (once per message): no async wrapper nor closures besides
  // the slow path's; the read goes to the worker at the path BlobFiles.write gives every body.
  return ctx.op(() => {
    try {
      checkUserId(userId);
    } catch (err) {
      return Promise.reject(err);
    }
    if (typeof blobId !== 'string' || !BLOB_ID.test(blobId)) return Promise.reject(missingBody(blobId));
    if (!Number.isSafeInteger(length) || length < 0 || length > MAX_BULK_READ) {
      return Promise.reject(new StoreError('cannot', 'invalid body length'));
    }
    return ctx.bulk
      .read(join(ctx.files.blobDir, blobId.slice(7, 9), blobId), length)
      .catch((err: unknown) => {
        if (!isErrno(err, 'ENOENT')) throw err;
        return atBodyPath(
          ctx,
          blobId,
          () => missingBody(blobId),
          (path) => ctx.bulk.read(path, length),
        );
      });
  });
}

export function readBodies(
  ctx: StoreContext,
  userId: UserId,
  reads: ReadonlyArray<{ blobId: string; length: number }>,
  opts: { into?: SharedArrayBuffer },
): Promise<Array<Buffer | null>> {
  return ctx.op(async () => {
    checkUserId(userId);
    const blobDir = ctx.files.blobDir;
    const paths = new Array<string>(reads.length);
    const lengths = new Array<number>(reads.length);
    const out = new Array<Buffer | null>(reads.length).fill(null);
    for (let i = 0; i < reads.length; i++) {
      const { blobId, length } = reads[i] as { blobId: string; length: number };
      if (!Number.isSafeInteger(length) || length < 0 || length > MAX_BULK_READ) {
        throw new StoreError('cannot', 'invalid body length');
      }
      // An id BlobFiles.write cannot have made is missing; its read goes to a path that cannot exist.
      const valid = typeof blobId === 'string' && BLOB_ID.test(blobId);
      paths[i] = valid ? `${blobDir}/${blobId.slice(7, 9)}/${blobId}` : `${blobDir}/-`;
      lengths[i] = valid ? length : 0;
    }
    const results = await ctx.bulk.readMany(paths, lengths, opts.into);
    const elsewhere: Array<Promise<void>> = [];
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (Buffer.isBuffer(r)) {
        out[i] = r;
        continue;
      }
      if (!isErrno(r, 'ENOENT')) throw r;
      const { blobId, length } = reads[i] as { blobId: string; length: number };
      if (typeof blobId !== 'string' || !BLOB_ID.test(blobId)) continue;
      elsewhere.push(
        atBodyPath(
          ctx,
          blobId,
          () => missingBody(blobId),
          (path) => ctx.bulk.read(path, length),
        ).then(
          (b) => {
            out[i] = b;
          },
          (err: unknown) => {
            if (!(err instanceof StoreError && err.code === 'no-such-message')) throw err;
          },
        ),
      );
    }
    await Promise.all(elsewhere);
    return out;
  });
}

/**
 * Runs `use` on the file of body `blobId`: first at the path BlobFiles.write gives every body (no query on
 * the hot path, one per message of FETCH 1:*), then, on ENOENT, at the path the database has for it (a
 * body stored elsewhere); `missing()` when it is in neither place.
 */
async function atBodyPath<T>(
  ctx: StoreContext,
  blobId: string,
  missing: () => Error,
  use: (path: string) => Promise<T>,
): Promise<T> {
  try {
    return await use(ctx.files.pathOf(blobId));
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  const r = await ctx.reader.execute({ sql: 'SELECT path FROM blobs WHERE id = ?', args: [blobId] });
  const rel = r.rows[0]?.path;
  if (typeof rel !== 'string') throw missing();
  try {
    return await use(join(ctx.files.blobDir, rel));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw missing();
    throw err;
  }
}
