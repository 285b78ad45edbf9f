/**
 * `MailStore`: the `MailBackend` on a local libSQL database (metadata) plus one file per message body.
 * This class is the facade: each concern lives in its own file, named in the table below and in README.md.
 *
 * Layout of `dir`:
 *   mailstore.db (+ -wal, -shm)   users, folders, messages, blobs, blob_annotations, expunged (WAL;
 *                                 every write transaction's WAL frames fdatasynced before it resolves)
 *   blobs/<2 chars>/<ulid>         message bodies, written once, shared by reference (blobs.refcount)
 *   tmp/<ulid>                     bodies being received; anything left here on open is a crash leftover
 *
 * Durability of a delivery, in this order: body streamed into tmp/ and fdatasynced, renamed into
 * blobs/<shard>/ (blob-files.ts), shard directory fsynced, then the metadata committed and its WAL frames
 * fdatasynced (group-commit.ts, transactions.ts); only then does `deliver` resolve. A message exists only
 * through committed rows: `open` removes tmp/ leftovers and blob files no committed row references
 * (recovery.ts).
 *
 * Concurrency: one process owns `dir`. Writes are serialised by an in-process lock on a single-connection
 * libSQL client (transactions.ts); reads use a second client, which in WAL mode sees the last committed
 * state without waiting for a writer. Deliveries whose bodies are on disk are committed together (group
 * commit): one transaction, one WAL fsync, for everything queued meanwhile.
 *
 *   schema.ts         tables, schema version, opening the writer and reader connections (pragmas)
 *   transactions.ts   write lock, commit, the WAL fdatasync shared by concurrent commits
 *   context.ts        shared state; a write's post-commit effects (events, body removal)
 *   blob-files.ts     body files: write through tmp/, shard directories and their fsyncs, descriptors
 *   recovery.ts       crash leftovers on open, directory ownership (owner.pid)
 *   group-commit.ts   deliver: bodies on disk queued, committed together
 *   users.ts          ensureUser, purgeUser
 *   quota.ts          usage, limits, the over-quota check
 *   folders.ts        list, create, delete, rename, subscriptions, UIDVALIDITY
 *   listing.ts        snapshot, folderView, listMessages, expungedSince
 *   bodies.ts         openMessage, openBody, readBody, readBodies
 *   annotations.ts    per-body opaque values
 *   messages.ts       append, copy, move, expunge
 *   flag-changes.ts   storeFlags (MODSEQ per change)
 *   message-rows.ts   row helpers shared by the writes above
 *   events.ts         subscribe, and publishing after the commit
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { blobAnnotations, setBlobAnnotations } from './annotations.js';
import type {
  BodyReader,
  CopyResult,
  DeliveryRequest,
  DeliveryResult,
  FlagOperation,
  FolderInfo,
  FolderSnapshot,
  FolderView,
  MailBackend,
  MessageMeta,
  QuotaInfo,
  SpecialUse,
  StoreEvent,
  StoreFlagsResult,
  UserId,
} from './backend.js';
import { BlobFiles } from './blob-files.js';
import { openBody, openMessage, readBodies, readBody } from './bodies.js';
import { StoreContext } from './context.js';
import { storeFlags } from './flag-changes.js';
import {
  createFolder,
  deleteFolder,
  folderInfo,
  listFolders,
  renameFolder,
  setSubscribed,
  subscriptionsWithoutFolder,
} from './folders.js';
import { GroupCommit } from './group-commit.js';
import { expungedSince, folderView, listMessages, snapshot } from './listing.js';
import { append, expunge, transfer } from './messages.js';
import { quota, usageOf } from './quota.js';
import { claimDir, type RecoveryReport, recover, releaseDir } from './recovery.js';
import { openDatabase } from './schema.js';
import { Transactions } from './transactions.js';
import { ensureUser, purgeUser } from './users.js';

export type { RecoveryReport } from './recovery.js';

export interface MailStoreOptions {
  /** Directory holding the database, the bodies and the temp files; created when missing. */
  dir: string;
  /** Clock for internal dates and UIDVALIDITY (tests). */
  now?: () => Date;
  /** The user's quota in bytes, null when unlimited (the directory's mailbox quota). */
  quotaLimit?: (userId: string) => Promise<number | null>;
  /** Called after a delivery that brought users to 90 % of their quota (the warning mail; never awaited). */
  onNearQuota?: (userIds: string[]) => void;
}

export class MailStore implements MailBackend {
  readonly dir: string;
  /** What the last `open` cleaned up. */
  readonly recovery: RecoveryReport = { owner: false, tempFiles: 0, orphanBlobs: 0 };

  readonly #ctx: StoreContext;
  readonly #deliveries: GroupCommit;
  #onNearQuota: ((userIds: string[]) => void) | undefined;

  private constructor(ctx: StoreContext) {
    this.dir = ctx.dir;
    this.#ctx = ctx;
    this.#deliveries = new GroupCommit(ctx);
  }

  static async open(opts: MailStoreOptions): Promise<MailStore> {
    const dir = resolve(opts.dir);
    await mkdir(join(dir, 'blobs'), { recursive: true, mode: 0o700 });
    await mkdir(join(dir, 'tmp'), { recursive: true, mode: 0o700 });
    const { writer, reader, wal } = await openDatabase(dir);
    try {
      const files = new BlobFiles(dir);
      const store = new MailStore(
        new StoreContext({
          dir,
          writer,
          reader,
          transactions: new Transactions(writer, wal),
          files,
          now: opts.now ?? (() => new Date()),
          quotaLimit: opts.quotaLimit,
        }),
      );
      store.#onNearQuota = opts.onNearQuota;
      store.recovery.owner = await claimDir(dir);
      try {
        await recover(reader, files, store.recovery);
      } catch (err) {
        if (store.recovery.owner) await releaseDir(dir);
        throw err;
      }
      return store;
    } catch (err) {
      await wal.close();
      reader.close();
      writer.close();
      throw err;
    }
  }

  // ---- users and quota (users.ts, quota.ts) --------------------------------------------------------------

  ensureUser(userId: UserId): Promise<void> {
    return ensureUser(this.#ctx, userId);
  }

  purgeUser(userId: UserId): Promise<void> {
    return purgeUser(this.#ctx, userId);
  }

  quota(userId: UserId): Promise<QuotaInfo> {
    return quota(this.#ctx, userId);
  }

  /** Bytes used by each of these users, in one query (a domain's usage in the admin UI). */
  usage(userIds: readonly UserId[]): Promise<Map<UserId, number>> {
    return usageOf(this.#ctx, userIds);
  }

  // ---- delivery (group-commit.ts) ------------------------------------------------------------------------

  async deliver(req: DeliveryRequest): Promise<DeliveryResult> {
    const result = await this.#deliveries.deliver(req);
    if (result.nearQuota && result.nearQuota.length > 0) this.#onNearQuota?.(result.nearQuota);
    return result;
  }

  // ---- folders (folders.ts) ------------------------------------------------------------------------------

  listFolders(userId: UserId): Promise<FolderInfo[]> {
    return listFolders(this.#ctx, userId);
  }

  subscriptionsWithoutFolder(userId: UserId): Promise<string[]> {
    return subscriptionsWithoutFolder(this.#ctx, userId);
  }

  folderInfo(userId: UserId, folder: string): Promise<FolderInfo> {
    return folderInfo(this.#ctx, userId, folder);
  }

  createFolder(userId: UserId, folder: string, opts: { specialUse?: SpecialUse } = {}): Promise<void> {
    return createFolder(this.#ctx, userId, folder, opts);
  }

  deleteFolder(userId: UserId, folder: string): Promise<void> {
    return deleteFolder(this.#ctx, userId, folder);
  }

  renameFolder(userId: UserId, from: string, to: string): Promise<void> {
    return renameFolder(this.#ctx, userId, from, to);
  }

  setSubscribed(userId: UserId, folder: string, subscribed: boolean): Promise<void> {
    return setSubscribed(this.#ctx, userId, folder, subscribed);
  }

  // ---- reading (listing.ts, bodies.ts, annotations.ts) ---------------------------------------------------

  snapshot(userId: UserId, folder: string): Promise<FolderSnapshot> {
    return snapshot(this.#ctx, userId, folder);
  }

  folderView(userId: UserId, folder: string): Promise<FolderView> {
    return folderView(this.#ctx, userId, folder);
  }

  listMessages(
    userId: UserId,
    folder: string,
    range: { fromUid?: number; toUid?: number | null; changedSince?: number } = {},
  ): Promise<MessageMeta[]> {
    return listMessages(this.#ctx, userId, folder, range);
  }

  expungedSince(userId: UserId, folder: string, modSeq: number): Promise<number[]> {
    return expungedSince(this.#ctx, userId, folder, modSeq);
  }

  openMessage(userId: UserId, folder: string, uid: number): Promise<Readable> {
    return openMessage(this.#ctx, userId, folder, uid);
  }

  openBody(userId: UserId, blobId: string): Promise<BodyReader> {
    return openBody(this.#ctx, userId, blobId);
  }

  readBody(userId: UserId, blobId: string, length: number): Promise<Buffer> {
    return readBody(this.#ctx, userId, blobId, length);
  }

  readBodies(
    userId: UserId,
    reads: ReadonlyArray<{ blobId: string; length: number }>,
    opts: { into?: SharedArrayBuffer } = {},
  ): Promise<Array<Buffer | null>> {
    return readBodies(this.#ctx, userId, reads, opts);
  }

  blobAnnotations(
    userId: UserId,
    folder: string,
    name: string,
    range: { fromUid?: number; toUid?: number | null } = {},
  ): Promise<Map<string, string>> {
    return blobAnnotations(this.#ctx, userId, folder, name, range);
  }

  setBlobAnnotations(
    userId: UserId,
    folder: string,
    name: string,
    entries: ReadonlyArray<{ blobId: string; value: string }>,
  ): Promise<void> {
    return setBlobAnnotations(this.#ctx, userId, folder, name, entries);
  }

  // ---- changes (messages.ts, flag-changes.ts) ------------------------------------------------------------

  append(
    userId: UserId,
    folder: string,
    source: Readable,
    opts: { flags?: string[]; internalDate?: Date; maxBytes?: number } = {},
  ): Promise<{ uidValidity: number; uid: number }> {
    return append(this.#ctx, userId, folder, source, opts);
  }

  storeFlags(
    userId: UserId,
    folder: string,
    uids: number[],
    op: FlagOperation,
    flags: string[],
    opts: { unchangedSince?: number } = {},
  ): Promise<StoreFlagsResult> {
    return storeFlags(this.#ctx, userId, folder, uids, op, flags, opts);
  }

  copy(userId: UserId, from: string, uids: number[], to: string): Promise<CopyResult> {
    return transfer(this.#ctx, userId, from, uids, to, false);
  }

  move(userId: UserId, from: string, uids: number[], to: string): Promise<CopyResult> {
    return transfer(this.#ctx, userId, from, uids, to, true);
  }

  expunge(userId: UserId, folder: string, uids?: number[]): Promise<number[]> {
    return expunge(this.#ctx, userId, folder, uids);
  }

  // ---- events and lifecycle (events.ts) ------------------------------------------------------------------

  subscribe(userId: UserId, listener: (event: StoreEvent) => void): () => void {
    return this.#ctx.events.subscribe(userId, listener);
  }

  /** Waits for the operations in progress (deliveries are committed or refused), then closes the database. */
  async close(): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.closing) {
      while (!ctx.closed) await new Promise((r) => setTimeout(r, 5));
      return;
    }
    ctx.closing = true;
    while (ctx.running.size > 0) await Promise.allSettled([...ctx.running]);
    await ctx.transactions.drain();
    ctx.closed = true;
    await ctx.bulk.close();
    await ctx.transactions.close();
    ctx.reader.close();
    ctx.writer.close();
    if (this.recovery.owner) await releaseDir(this.dir);
  }
}
