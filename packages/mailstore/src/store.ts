/**
 * `MailStore`: the `MailBackend` on a local libSQL database (metadata) plus one file per message body.
 *
 * Layout of `dir`:
 *   mailstore.db (+ -wal, -shm)   users, folders, messages, blobs, blob_annotations, expunged (WAL;
 *                                 every write transaction's WAL frames fdatasynced before it resolves)
 *   blobs/<2 chars>/<ulid>         message bodies, written once, shared by reference (blobs.refcount)
 *   tmp/<ulid>                     bodies being received; anything left here on open is a crash leftover
 *
 * Write path of a body: stream into tmp/ (bounded buffer, `maxBytes` enforced while streaming), fdatasync,
 * rename into blobs/<shard>/, fsync the shard directory, then commit the metadata. A message exists only
 * through committed rows: `open` removes tmp/ leftovers and blob files no committed row references.
 *
 * Concurrency: one process owns `dir`. Writes are serialised by an in-process lock on a single-connection
 * libSQL client (the only connection that writes, so its pragmas hold); reads use a second client, which in
 * WAL mode sees the last committed state without waiting for a writer. Deliveries whose bodies are on disk
 * are committed together (group commit): one transaction, one WAL fsync, for everything queued meanwhile.
 *
 * The WAL fsync runs off the event loop: the writer uses `synchronous=NORMAL` (a commit writes its WAL
 * frames without syncing them) and `#write` then fdatasyncs the `-wal` file through the thread pool
 * before it resolves, so a write is on disk when its promise settles, as with `synchronous=FULL`, but the
 * other sessions keep running during the sync. Concurrent commits share one fdatasync (`#walSync`).
 */
import { randomFillSync } from 'node:crypto';
import {
  close as closeCb,
  fdatasync as fdatasyncCb,
  fsync as fsyncCb,
  open as openCb,
  read as readCb,
  write as writeCb,
} from 'node:fs';
import {
  type FileHandle,
  mkdir,
  open as openFile,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { type Client, createClient, type InStatement, type Row, type Transaction } from '@libsql/client';
import { ulid } from 'ulid';
import {
  type BodyReader,
  type CopyResult,
  DEFAULT_FOLDERS,
  type DeliveryRequest,
  type DeliveryResult,
  type FlagOperation,
  type FolderInfo,
  type FolderSnapshot,
  type FolderView,
  MAX_ANNOTATION_LENGTH,
  type MailBackend,
  type MessageMeta,
  type QuotaInfo,
  type SpecialUse,
  StoreError,
  type StoreEvent,
  type StoreFlagsResult,
  type UserId,
} from './backend.js';
import { BulkReader } from './bulk-reader.js';
import { applyFlags, normalizeFlags, SYSTEM_FLAGS } from './flags.js';
import { canonicalFolderName, validateFolderName } from './names.js';

export interface MailStoreOptions {
  /** Directory holding the database, the bodies and the temp files; created when missing. */
  dir: string;
  /** Clock for internal dates and UIDVALIDITY (tests). */
  now?: () => Date;
  /** The user's quota in bytes, null when unlimited (the directory's mailbox quota). */
  quotaLimit?: (userId: string) => Promise<number | null>;
}

/** What `open` cleaned up after an unclean stop. */
export interface RecoveryReport {
  /**
   * False when another live MailStore (this process or the pid in `owner.pid`) had the directory open:
   * its deliveries in progress look like leftovers, so only leftovers older than an hour were removed.
   */
  owner: boolean;
  /** Files removed from tmp/ (bodies being received when the process stopped). */
  tempFiles: number;
  /** Body files no committed row referenced (stored but not committed, or not unlinked after expunge). */
  orphanBlobs: number;
}

const SCHEMA_VERSION = 1;
const BUSY_TIMEOUT_MS = 5000;
/** Most deliveries committed in one transaction. */
const MAX_GROUP = 256;
/** Size of the cache of known user ids (cleared when full). */
const KNOWN_USERS_MAX = 100_000;
/** Bytes gathered from the source before a write to the temp file. */
const WRITE_CHUNK = 64 * 1024;
/** Ids per `IN (json_each(?))` query during recovery. */
const RECOVERY_CHUNK = 512;
/** Age above which a leftover is removed even while another instance may be writing. */
const LEFTOVER_AGE_MS = 60 * 60 * 1000;
/** Largest `readBody` (a guard against a bad length; whole large bodies are streamed with `openBody`). */
const MAX_BULK_READ = 1024 * 1024 * 1024;
/** A body id as `#writeBlob` makes them (a ULID): anything else is refused before touching the disk. */
const BLOB_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** Directories owned by an open MailStore of this process. */
const OWNED = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}

/**
 * Takes `dir` unless another live MailStore has it open (in this process, or the process in owner.pid).
 * Advisory: it only decides how boldly `open` removes leftovers.
 */
async function claimDir(dir: string): Promise<boolean> {
  if (OWNED.has(dir)) return false;
  const file = join(dir, 'owner.pid');
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) return false;
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  OWNED.add(dir);
  const tmp = join(dir, 'tmp', `owner.pid.${process.pid}`);
  await writeFile(tmp, `${process.pid}\n`);
  await rename(tmp, file);
  return true;
}

async function releaseDir(dir: string): Promise<void> {
  OWNED.delete(dir);
  try {
    const file = join(dir, 'owner.pid');
    if (Number((await readFile(file, 'utf8')).trim()) === process.pid) await rm(file, { force: true });
  } catch {
    // gone already
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ${SCHEMA_VERSION}), ('last_uid_validity', 0);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS folders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  special_use TEXT,
  subscribed INTEGER NOT NULL DEFAULT 1,
  uid_validity INTEGER NOT NULL,
  uid_next INTEGER NOT NULL DEFAULT 1,
  highest_modseq INTEGER NOT NULL DEFAULT 1,
  message_count INTEGER NOT NULL DEFAULT 0,
  unseen_count INTEGER NOT NULL DEFAULT 0,
  total_size INTEGER NOT NULL DEFAULT 0,
  UNIQUE (user_id, name)
);
CREATE TABLE IF NOT EXISTS blobs (
  id TEXT PRIMARY KEY,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  refcount INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
  folder_id INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  blob_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  internal_date INTEGER NOT NULL,
  flags TEXT NOT NULL DEFAULT '',
  modseq INTEGER NOT NULL,
  PRIMARY KEY (folder_id, uid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_by_modseq ON messages (folder_id, modseq);
CREATE TABLE IF NOT EXISTS expunged (
  folder_id INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY (folder_id, uid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS expunged_by_modseq ON expunged (folder_id, modseq);
-- Added after schema version 1, additively: IF NOT EXISTS creates it in older stores on open, and older
-- code never reads it (so the version stays 1). A rowid table: values are often above the ~200 octets
-- where WITHOUT ROWID stops paying off.
-- Added the same way: names still subscribed whose folder was deleted (RFC 3501 §6.3.6: the server must
-- not remove a name from the subscription list unilaterally; RFC 5258 lists them NonExistent).
CREATE TABLE IF NOT EXISTS subscriptions_without_folder (
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (user_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blob_annotations (
  blob_id TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (blob_id, name)
);
`;

const FOLDER_COLUMNS =
  'id, name, special_use, subscribed, uid_validity, uid_next, highest_modseq, message_count, unseen_count, total_size';

interface FolderRow {
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

function toFolderRow(r: Row): FolderRow {
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

function toFolderInfo(f: FolderRow): FolderInfo {
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

/**
 * Messages as one JSON text (one row, parsed natively) rather than one libSQL row object per message:
 * SELECT of a 10,000-message folder stays a few milliseconds.
 */
function messagesJsonSql(where: string): string {
  return (
    'SELECT json_group_array(json_array(uid, flags, internal_date, size, modseq, blob_id)) AS j FROM ' +
    `(SELECT uid, flags, internal_date, size, modseq, blob_id FROM messages WHERE ${where} ORDER BY uid)`
  );
}

type MessageTuple = [number, string, number, number, number, string];

function parseMessages(rows: Row[]): MessageMeta[] {
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

function flagsText(flags: readonly string[]): string {
  return flags.join(' ');
}

function isSeen(flags: readonly string[]): boolean {
  return flags.includes('\\Seen');
}

function uniqueUids(uids: readonly number[]): number[] {
  for (const uid of uids) {
    if (!Number.isSafeInteger(uid) || uid < 1) throw new StoreError('cannot', `invalid UID ${String(uid)}`);
  }
  return [...new Set(uids)].sort((a, b) => a - b);
}

function checkUserId(userId: UserId): void {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new StoreError('no-such-user', 'the user id must be a non-empty string');
  }
}

function checkDate(date: Date | undefined): void {
  if (date !== undefined && !(date instanceof Date && Number.isFinite(date.getTime()))) {
    throw new StoreError('cannot', 'invalid internal date');
  }
}

/** Post-commit effects of a write: events to publish and body files to remove. */
interface Effects {
  events: StoreEvent[];
  unlink: string[];
}

interface BlobFile {
  id: string;
  shard: string;
  /** Relative to blobs/, as stored in blobs.path. */
  rel: string;
  abs: string;
  size: number;
}

interface PendingDelivery {
  users: UserId[];
  blob: BlobFile;
  internalDate: Date;
  resolve: (uids: Map<UserId, number>) => void;
  reject: (err: unknown) => void;
}

const randomPool = Buffer.alloc(4096);
let randomPoolAt = randomPool.length;

/** ULID's PRNG from a pooled crypto buffer (ulid's default asks the OS once per character). */
function pooledRandom(): number {
  if (randomPoolAt >= randomPool.length) {
    randomFillSync(randomPool);
    randomPoolAt = 0;
  }
  return (randomPool[randomPoolAt++] as number) / 256;
}

/** A FIFO async mutex. */
class Lock {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

async function fsyncDir(path: string): Promise<void> {
  const fd = await fsCall<number>((cb) => openCb(path, 'r', cb));
  try {
    await fsCall<void>((cb) => fsyncCb(fd, cb));
  } finally {
    await fsCall<void>((cb) => closeCb(fd, cb));
  }
}

function missingBody(blobId: unknown): StoreError {
  return new StoreError('no-such-message', `no body ${String(blobId).slice(0, 40)}`);
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** Streams `source` into a new file at `path` and fdatasyncs it; returns the size. Removes nothing on error. */
async function writeBodyFile(
  source: Readable,
  path: string,
  limits: { maxBytes?: number | undefined; quotaBytes?: number | undefined },
): Promise<number> {
  // Plain descriptors and the callback API: a FileHandle costs several times more per call (see openFd).
  const fd = await fsCall<number>((cb) => openCb(path, 'wx', 0o600, cb));
  try {
    let size = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      const buf = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      for (let off = 0; off < buf.length; ) {
        off += await fsCall<number>((cb) => writeCb(fd, buf, off, buf.length - off, null, cb));
      }
    };
    for await (const chunk of source) {
      const buf: Buffer =
        typeof chunk === 'string'
          ? Buffer.from(chunk)
          : Buffer.isBuffer(chunk)
            ? chunk
            : Buffer.from(chunk as Uint8Array);
      size += buf.length;
      if (limits.maxBytes !== undefined && size > limits.maxBytes) {
        throw new StoreError('too-large', `message larger than ${limits.maxBytes} bytes`);
      }
      if (limits.quotaBytes !== undefined && size > limits.quotaBytes) {
        throw new StoreError('over-quota', 'message exceeds the remaining quota');
      }
      pending.push(buf);
      pendingBytes += buf.length;
      if (pendingBytes >= WRITE_CHUNK) await flush();
    }
    if (pendingBytes > 0) await flush();
    await fsCall<void>((cb) => fdatasyncCb(fd, cb));
    return size;
  } finally {
    await fsCall<void>((cb) => closeCb(fd, cb));
  }
}

/** A node:fs callback call as a promise. */
function fsCall<T>(call: (cb: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolveCall, reject) => {
    call((err, value) => (err ? reject(err) : resolveCall(value as T)));
  });
}

/**
 * Bodies are read through plain file descriptors and the callback API: a FETCH of 10,000 messages opens,
 * reads and closes 10,000 files, and fs/promises' FileHandle costs several times more per call.
 */
function openFd(path: string): Promise<number> {
  return new Promise((resolveFd, reject) => {
    openCb(path, 'r', (err, fd) => (err ? reject(err) : resolveFd(fd)));
  });
}

class FdBodyReader implements BodyReader {
  #fd: number | null;
  constructor(fd: number) {
    this.#fd = fd;
  }

  async read(position: number, length: number): Promise<Buffer> {
    const fd = this.#fd;
    if (fd === null) throw new StoreError('cannot', 'the body reader is closed');
    if (!Number.isSafeInteger(position) || position < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new StoreError('cannot', 'invalid body range');
    }
    const buf = Buffer.allocUnsafe(length);
    let n = 0;
    while (n < length) {
      const got = await new Promise<number>((resolveRead, reject) => {
        readCb(fd, buf, n, length - n, position + n, (err, bytes) =>
          err ? reject(err) : resolveRead(bytes),
        );
      });
      if (got === 0) break;
      n += got;
    }
    return n === length ? buf : buf.subarray(0, n);
  }

  close(): Promise<void> {
    const fd = this.#fd;
    if (fd === null) return Promise.resolve();
    this.#fd = null;
    return new Promise((resolveClose, reject) => {
      closeCb(fd, (err) => (err ? reject(err) : resolveClose()));
    });
  }
}

export class MailStore implements MailBackend {
  readonly dir: string;
  /** What the last `open` cleaned up. */
  readonly recovery: RecoveryReport = { owner: false, tempFiles: 0, orphanBlobs: 0 };

  readonly #writer: Client;
  readonly #reader: Client;
  readonly #now: () => Date;
  readonly #quotaLimit: ((userId: string) => Promise<number | null>) | undefined;
  readonly #blobDir: string;
  readonly #tmpDir: string;
  readonly #lock = new Lock();
  /** Bulk reads of small bodies in a worker thread (`readBody`). */
  readonly #bulk = new BulkReader();
  readonly #listeners = new Map<UserId, Set<(event: StoreEvent) => void>>();
  /** Shard directories known to exist (and whose creation is durable). */
  readonly #shards = new Map<string, Promise<void>>();
  /** Users known to exist (a cache for the fast path of `deliver`; `purgeUser` forgets). */
  readonly #knownUsers = new Set<UserId>();
  /** Public operations in progress; `close` waits for them. */
  readonly #running = new Set<Promise<unknown>>();
  #pending: PendingDelivery[] = [];
  #flushScheduled = false;
  #flushing = false;
  #closing = false;
  #closed = false;
  /** The `-wal` file, kept open to fdatasync it after each commit (see the header). */
  readonly #wal: FileHandle;
  /** The fdatasync in flight, and the next one: it covers every commit made before it starts. */
  #walSyncing: Promise<void> | null = null;
  #walSyncNext: Promise<void> | null = null;

  private constructor(dir: string, writer: Client, reader: Client, wal: FileHandle, opts: MailStoreOptions) {
    this.dir = dir;
    this.#writer = writer;
    this.#wal = wal;
    this.#reader = reader;
    this.#now = opts.now ?? (() => new Date());
    this.#quotaLimit = opts.quotaLimit;
    this.#blobDir = join(dir, 'blobs');
    this.#tmpDir = join(dir, 'tmp');
  }

  static async open(opts: MailStoreOptions): Promise<MailStore> {
    const dir = resolve(opts.dir);
    await mkdir(join(dir, 'blobs'), { recursive: true, mode: 0o700 });
    await mkdir(join(dir, 'tmp'), { recursive: true, mode: 0o700 });
    const url = pathToFileURL(join(dir, 'mailstore.db')).href;
    // concurrency 1: a single connection, so the pragmas below hold for every write.
    const writer = createClient({ url, concurrency: 1, timeout: BUSY_TIMEOUT_MS });
    let reader: Client | undefined;
    let wal: FileHandle | undefined;
    try {
      const mode = await writer.execute('PRAGMA journal_mode = WAL');
      if (String(mode.rows[0]?.[0]).toLowerCase() !== 'wal')
        throw new Error('mailstore: WAL mode did not hold');
      // NORMAL: commits do not sync the WAL; #write fdatasyncs it off the event loop (see the header).
      await writer.execute('PRAGMA synchronous = NORMAL');
      await writer.execute(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      const sync = await writer.execute('PRAGMA synchronous');
      if (Number(sync.rows[0]?.[0]) !== 1)
        throw new Error('mailstore: PRAGMA synchronous=NORMAL did not hold');
      await writer.executeMultiple(`BEGIN IMMEDIATE;${SCHEMA}COMMIT;`);
      // The -wal file exists while a connection is open; it is rewound after checkpoints, never replaced.
      wal = await openFile(join(dir, 'mailstore.db-wal'), 'r');
      await wal.datasync();
      const version = await writer.execute("SELECT value FROM meta WHERE key = 'schema_version'");
      if (Number(version.rows[0]?.value) !== SCHEMA_VERSION) {
        throw new Error(`mailstore: unknown schema version ${String(version.rows[0]?.value)}`);
      }
      reader = createClient({ url, concurrency: 1, timeout: BUSY_TIMEOUT_MS });
      await reader.execute('PRAGMA query_only = ON');
      const store = new MailStore(dir, writer, reader, wal, opts);
      store.recovery.owner = await claimDir(dir);
      try {
        await store.#recover();
      } catch (err) {
        if (store.recovery.owner) await releaseDir(dir);
        throw err;
      }
      return store;
    } catch (err) {
      await wal?.close();
      reader?.close();
      writer.close();
      throw err;
    }
  }

  // ---- users ---------------------------------------------------------------------------------------------

  ensureUser(userId: UserId): Promise<void> {
    return this.#op(async () => {
      checkUserId(userId);
      if (this.#knownUsers.has(userId)) return;
      const known = await this.#reader.execute({ sql: 'SELECT 1 FROM users WHERE id = ?', args: [userId] });
      if (known.rows.length > 0) {
        this.#rememberUser(userId);
        return;
      }
      await this.#write(async (tx, fx) => {
        const inserted = await tx.execute({
          sql: 'INSERT INTO users (id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
          args: [userId, this.#now().getTime()],
        });
        if (inserted.rowsAffected === 0) return;
        for (const f of DEFAULT_FOLDERS) {
          await this.#insertFolder(tx, userId, f.name, f.specialUse, true);
          fx.events.push({ kind: 'folder', userId, folder: f.name, change: 'created' });
        }
      });
      this.#rememberUser(userId);
    });
  }

  purgeUser(userId: UserId): Promise<void> {
    return this.#op(async () => {
      checkUserId(userId);
      await this.#write(async (tx, fx) => {
        const folders = await tx.execute({
          sql: 'SELECT id, name FROM folders WHERE user_id = ?',
          args: [userId],
        });
        if (folders.rows.length > 0) {
          const ids = JSON.stringify(folders.rows.map((r) => Number(r.id)));
          const where = 'folder_id IN (SELECT value FROM json_each(?))';
          fx.unlink.push(...(await this.#releaseMessages(tx, where, [ids])));
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
        this.#knownUsers.delete(userId);
      });
      this.#knownUsers.delete(userId);
    });
  }

  quota(userId: UserId): Promise<QuotaInfo> {
    return this.#op(async () => {
      checkUserId(userId);
      const r = await this.#reader.execute({
        sql:
          'SELECT COUNT(*) AS folders, COALESCE(SUM(total_size), 0) AS bytes, ' +
          'COALESCE(SUM(message_count), 0) AS messages FROM folders WHERE user_id = ?',
        args: [userId],
      });
      const row = r.rows[0];
      if (!row || Number(row.folders) === 0) throw new StoreError('no-such-user', `no such user ${userId}`);
      return {
        usedBytes: Number(row.bytes),
        messages: Number(row.messages),
        limitBytes: await this.#limitFor(userId),
      };
    });
  }

  // ---- delivery ------------------------------------------------------------------------------------------

  deliver(req: DeliveryRequest): Promise<DeliveryResult> {
    if (this.#closing) req.source.destroy();
    return this.#op(async () => {
      const users = [...new Set(req.users)];
      try {
        if (users.length === 0) throw new StoreError('cannot', 'a delivery needs at least one user');
        for (const u of users) checkUserId(u);
        checkDate(req.internalDate);
        await this.#checkUsers(users);
      } catch (err) {
        req.source.destroy();
        throw err;
      }
      const internalDate = req.internalDate ?? this.#now();
      const blob = await this.#writeBlob(req.source, { maxBytes: req.maxBytes });
      try {
        const uids = await new Promise<Map<UserId, number>>((resolve, reject) => {
          this.#pending.push({ users, blob, internalDate, resolve, reject });
          this.#scheduleFlush();
        });
        return { size: blob.size, uids };
      } catch (err) {
        await rm(blob.abs, { force: true });
        throw err;
      }
    });
  }

  /** Fails fast (before the body is received) when a user is unknown; the commit checks again. */
  async #checkUsers(users: UserId[]): Promise<void> {
    const unknown = users.filter((u) => !this.#knownUsers.has(u));
    if (unknown.length === 0) return;
    const r = await this.#reader.execute({
      sql: 'SELECT id FROM users WHERE id IN (SELECT value FROM json_each(?))',
      args: [JSON.stringify(unknown)],
    });
    for (const row of r.rows) this.#rememberUser(String(row.id));
    const missing = unknown.filter((u) => !this.#knownUsers.has(u));
    if (missing.length > 0) throw new StoreError('no-such-user', `no such user ${missing.join(', ')}`);
  }

  #rememberUser(userId: UserId): void {
    if (this.#knownUsers.size >= KNOWN_USERS_MAX) this.#knownUsers.clear();
    this.#knownUsers.add(userId);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#flushing) return;
    this.#flushScheduled = true;
    // After the I/O callbacks of this loop turn: every delivery whose fsync completed meanwhile joins.
    setImmediate(() => {
      this.#flushScheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#pending.length > 0) {
        // Deliveries arriving meanwhile form the next group.
        const group = this.#pending.splice(0, MAX_GROUP);
        try {
          // One fsync per shard directory for the whole group (usually one: shards follow time).
          await this.#syncShards(group.map((d) => d.blob.shard));
          await this.#commitDeliveries(group);
        } catch (err) {
          // Settled deliveries ignore this.
          for (const d of group) d.reject(err);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** One transaction for the group; if it fails, one transaction per delivery so one cannot sink the rest. */
  async #commitDeliveries(group: PendingDelivery[]): Promise<void> {
    let outcomes: Array<Map<UserId, number> | StoreError>;
    try {
      outcomes = await this.#write((tx, fx) => this.#applyDeliveries(tx, fx, group));
    } catch (err) {
      if (group.length === 1) {
        group[0]?.reject(err);
        return;
      }
      for (const d of group) {
        try {
          const [outcome] = await this.#write((tx, fx) => this.#applyDeliveries(tx, fx, [d]));
          if (outcome instanceof Map) d.resolve(outcome);
          else d.reject(outcome);
        } catch (err1) {
          d.reject(err1);
        }
      }
      return;
    }
    group.forEach((d, i) => {
      const outcome = outcomes[i];
      if (outcome instanceof Map) d.resolve(outcome);
      else d.reject(outcome);
    });
  }

  /**
   * The metadata of a group of deliveries, set-based: one read of the INBOX rows, then one statement each
   * for blobs, messages and folder counters whatever the group size. UIDs follow queue order.
   */
  async #applyDeliveries(
    tx: Transaction,
    fx: Effects,
    group: PendingDelivery[],
  ): Promise<Array<Map<UserId, number> | StoreError>> {
    const allUsers = [...new Set(group.flatMap((d) => d.users))];
    const inboxes = await tx.execute({
      sql:
        'SELECT user_id, id, uid_next, highest_modseq FROM folders ' +
        "WHERE name = 'INBOX' AND user_id IN (SELECT value FROM json_each(?))",
      args: [JSON.stringify(allUsers)],
    });
    const inbox = new Map(
      inboxes.rows.map((r) => [
        String(r.user_id),
        { id: Number(r.id), uidNext: Number(r.uid_next), modSeq: Number(r.highest_modseq), n: 0, size: 0 },
      ]),
    );
    const blobs: Array<[string, string, number, number]> = [];
    const messages: Array<[number, number, string, number, number, number]> = [];
    const outcomes: Array<Map<UserId, number> | StoreError> = [];
    for (const d of group) {
      const missing = d.users.filter((u) => !inbox.has(u));
      if (missing.length > 0) {
        outcomes.push(new StoreError('no-such-user', `no such user ${missing.join(', ')}`));
        continue;
      }
      blobs.push([d.blob.id, d.blob.rel, d.blob.size, d.users.length]);
      const uids = new Map<UserId, number>();
      for (const userId of d.users) {
        const f = inbox.get(userId) as {
          id: number;
          uidNext: number;
          modSeq: number;
          n: number;
          size: number;
        };
        const uid = f.uidNext;
        f.uidNext += 1;
        f.modSeq += 1;
        f.n += 1;
        f.size += d.blob.size;
        messages.push([f.id, uid, d.blob.id, d.blob.size, d.internalDate.getTime(), f.modSeq]);
        uids.set(userId, uid);
        fx.events.push({ kind: 'exists', userId, folder: 'INBOX', uid, modSeq: f.modSeq });
      }
      outcomes.push(uids);
    }
    if (blobs.length === 0) return outcomes;
    await tx.execute({
      sql:
        'INSERT INTO blobs (id, path, size, refcount) SELECT ' +
        "json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), " +
        "json_extract(value, '$[3]') FROM json_each(?)",
      args: [JSON.stringify(blobs)],
    });
    await tx.execute({
      sql:
        'INSERT INTO messages (folder_id, uid, blob_id, size, internal_date, flags, modseq) SELECT ' +
        "json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), " +
        "json_extract(value, '$[3]'), json_extract(value, '$[4]'), '', json_extract(value, '$[5]') FROM json_each(?)",
      args: [JSON.stringify(messages)],
    });
    const folders = [...inbox.values()]
      .filter((f) => f.n > 0)
      .map((f) => [f.id, f.uidNext, f.modSeq, f.n, f.size]);
    await tx.execute({
      sql:
        "WITH j AS MATERIALIZED (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS uid_next, " +
        "json_extract(value, '$[2]') AS modseq, json_extract(value, '$[3]') AS n, json_extract(value, '$[4]') AS size " +
        'FROM json_each(?)) UPDATE folders SET uid_next = j.uid_next, highest_modseq = j.modseq, ' +
        'message_count = message_count + j.n, unseen_count = unseen_count + j.n, total_size = total_size + j.size ' +
        'FROM j WHERE folders.id = j.id',
      args: [JSON.stringify(folders)],
    });
    return outcomes;
  }

  // ---- folders -------------------------------------------------------------------------------------------

  listFolders(userId: UserId): Promise<FolderInfo[]> {
    return this.#op(async () => {
      checkUserId(userId);
      const r = await this.#reader.execute({
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

  subscriptionsWithoutFolder(userId: UserId): Promise<string[]> {
    return this.#op(async () => {
      checkUserId(userId);
      const r = await this.#reader.execute({
        sql: 'SELECT name FROM subscriptions_without_folder WHERE user_id = ? ORDER BY name',
        args: [userId],
      });
      return r.rows.map((row) => String(row.name));
    });
  }

  folderInfo(userId: UserId, folder: string): Promise<FolderInfo> {
    return this.#op(async () => {
      const r = await this.#reader.execute(this.#folderQuery(userId, folder));
      return toFolderInfo(this.#requireFolder(r.rows[0], folder));
    });
  }

  createFolder(userId: UserId, folder: string, opts: { specialUse?: SpecialUse } = {}): Promise<void> {
    return this.#op(async () => {
      checkUserId(userId);
      const name = validateFolderName(folder);
      await this.#write(async (tx, fx) => {
        const user = await tx.execute({ sql: 'SELECT 1 FROM users WHERE id = ?', args: [userId] });
        if (user.rows.length === 0) throw new StoreError('no-such-user', `no such user ${userId}`);
        const existing = await tx.execute({
          sql: 'SELECT 1 FROM folders WHERE user_id = ? AND name = ?',
          args: [userId, name],
        });
        if (existing.rows.length > 0) throw new StoreError('folder-exists', `folder ${name} exists`);
        // IMAP CREATE does not subscribe (the client sends SUBSCRIBE).
        await this.#insertFolder(tx, userId, name, opts.specialUse ?? null, false);
        fx.events.push({ kind: 'folder', userId, folder: name, change: 'created' });
      });
    });
  }

  deleteFolder(userId: UserId, folder: string): Promise<void> {
    return this.#op(async () => {
      checkUserId(userId);
      const name = canonicalFolderName(folder);
      if (name === 'INBOX') throw new StoreError('cannot', 'INBOX cannot be deleted');
      await this.#write(async (tx, fx) => {
        const f = await this.#folderIn(tx, userId, name);
        fx.unlink.push(...(await this.#releaseMessages(tx, 'folder_id = ?', [f.id])));
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

  renameFolder(userId: UserId, from: string, to: string): Promise<void> {
    return this.#op(async () => {
      checkUserId(userId);
      const src = canonicalFolderName(from);
      const dst = validateFolderName(to);
      if (dst === 'INBOX' || dst === src) throw new StoreError('folder-exists', `folder ${dst} exists`);
      await this.#write(async (tx, fx) => {
        if (src === 'INBOX') {
          await this.#renameInbox(tx, fx, userId, dst);
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
  async #renameInbox(tx: Transaction, fx: Effects, userId: UserId, dst: string): Promise<void> {
    const inbox = await this.#folderIn(tx, userId, 'INBOX');
    const existing = await tx.execute({
      sql: 'SELECT 1 FROM folders WHERE user_id = ? AND name = ?',
      args: [userId, dst],
    });
    if (existing.rows.length > 0) throw new StoreError('folder-exists', `folder ${dst} exists`);
    const target = await this.#insertFolder(tx, userId, dst, null, inbox.subscribed);
    fx.events.push({ kind: 'folder', userId, folder: dst, change: 'created' });
    const msgs = parseMessages(
      (await tx.execute({ sql: messagesJsonSql('folder_id = ?'), args: [inbox.id] })).rows,
    );
    if (msgs.length === 0) return;
    await this.#insertCopies(tx, target, msgs);
    await this.#removeRows(tx, fx, userId, inbox, msgs, false);
  }

  setSubscribed(userId: UserId, folder: string, subscribed: boolean): Promise<void> {
    return this.#op(async () => {
      checkUserId(userId);
      const name = canonicalFolderName(folder);
      await this.#write(async (tx) => {
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

  // ---- reading -------------------------------------------------------------------------------------------

  snapshot(userId: UserId, folder: string): Promise<FolderSnapshot> {
    return this.#op(async () => {
      const name = canonicalFolderName(folder);
      const [fr, mr] = await this.#reader.batch(
        [
          this.#folderQuery(userId, folder),
          {
            sql: messagesJsonSql('folder_id = (SELECT id FROM folders WHERE user_id = ? AND name = ?)'),
            args: [userId, name],
          },
        ],
        'read',
      );
      const f = this.#requireFolder(fr?.rows[0], folder);
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

  folderView(userId: UserId, folder: string): Promise<FolderView> {
    return this.#op(async () => {
      const name = canonicalFolderName(folder);
      const inFolder = 'folder_id = (SELECT id FROM folders WHERE user_id = ? AND name = ?)';
      // One read transaction: the folder row, UIDs and MODSEQs as two comma-separated texts (no row
      // object per message), the first UID without \Seen, and the distinct flag sets (few, for keywords).
      const [fr, cr, ur, kr] = await this.#reader.batch(
        [
          this.#folderQuery(userId, folder),
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
      const f = this.#requireFolder(fr?.rows[0], folder);
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
      const firstUnseen =
        unseenUid === undefined || unseenUid === null ? 0 : seqOfUid(uids, Number(unseenUid));
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

  listMessages(
    userId: UserId,
    folder: string,
    range: { fromUid?: number; toUid?: number | null; changedSince?: number } = {},
  ): Promise<MessageMeta[]> {
    return this.#op(async () => {
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
      const [fr, mr] = await this.#reader.batch(
        [this.#folderQuery(userId, folder), { sql: messagesJsonSql(where), args }],
        'read',
      );
      this.#requireFolder(fr?.rows[0], folder);
      return parseMessages(mr?.rows ?? []);
    });
  }

  expungedSince(userId: UserId, folder: string, modSeq: number): Promise<number[]> {
    return this.#op(async () => {
      const name = canonicalFolderName(folder);
      const [fr, er] = await this.#reader.batch(
        [
          this.#folderQuery(userId, folder),
          {
            sql:
              'SELECT uid FROM expunged WHERE folder_id = (SELECT id FROM folders WHERE user_id = ? AND name = ?) ' +
              'AND modseq > ? ORDER BY uid',
            args: [userId, name, modSeq],
          },
        ],
        'read',
      );
      this.#requireFolder(fr?.rows[0], folder);
      return (er?.rows ?? []).map((r) => Number(r.uid));
    });
  }

  openMessage(userId: UserId, folder: string, uid: number): Promise<Readable> {
    return this.#op(async () => {
      const name = canonicalFolderName(folder);
      // One statement on the hot path (POP3 RETR, IMAP FETCH); the folder is checked only on a miss.
      const r = await this.#reader.execute({
        sql:
          'SELECT b.path FROM folders f JOIN messages m ON m.folder_id = f.id JOIN blobs b ON b.id = m.blob_id ' +
          'WHERE f.user_id = ? AND f.name = ? AND m.uid = ?',
        args: [userId, name, uid],
      });
      const rel = r.rows[0]?.path;
      const missing = () => new StoreError('no-such-message', `no message with UID ${uid} in ${name}`);
      if (typeof rel !== 'string') {
        const [fr] = await this.#reader.batch([this.#folderQuery(userId, folder)], 'read');
        this.#requireFolder(fr?.rows[0], folder);
        throw missing();
      }
      try {
        // Opened now: an expunge after this point does not cut the stream short.
        const handle = await openFile(join(this.#blobDir, rel), 'r');
        return handle.createReadStream();
      } catch (err) {
        if (isErrno(err, 'ENOENT')) throw missing();
        throw err;
      }
    });
  }

  openBody(userId: UserId, blobId: string): Promise<BodyReader> {
    return this.#op(async () => {
      checkUserId(userId);
      const missing = () => new StoreError('no-such-message', `no body ${String(blobId).slice(0, 40)}`);
      if (typeof blobId !== 'string' || !BLOB_ID.test(blobId)) throw missing();
      return new FdBodyReader(await this.#atBodyPath(blobId, missing, openFd));
    });
  }

  readBody(userId: UserId, blobId: string, length: number): Promise<Buffer> {
    // The hot path of a bulk FETCH or SEARCH (once per message): no async wrapper nor closures besides
    // the slow path's; the read goes to the worker at the path #writeBlob gives every body.
    return this.#op(() => {
      try {
        checkUserId(userId);
      } catch (err) {
        return Promise.reject(err);
      }
      if (typeof blobId !== 'string' || !BLOB_ID.test(blobId)) return Promise.reject(missingBody(blobId));
      if (!Number.isSafeInteger(length) || length < 0 || length > MAX_BULK_READ) {
        return Promise.reject(new StoreError('cannot', 'invalid body length'));
      }
      return this.#bulk
        .read(join(this.#blobDir, blobId.slice(7, 9), blobId), length)
        .catch((err: unknown) => {
          if (!isErrno(err, 'ENOENT')) throw err;
          return this.#atBodyPath(
            blobId,
            () => missingBody(blobId),
            (path) => this.#bulk.read(path, length),
          );
        });
    });
  }

  readBodies(
    userId: UserId,
    reads: ReadonlyArray<{ blobId: string; length: number }>,
    opts: { into?: SharedArrayBuffer } = {},
  ): Promise<Array<Buffer | null>> {
    return this.#op(async () => {
      checkUserId(userId);
      const paths = new Array<string>(reads.length);
      const lengths = new Array<number>(reads.length);
      const out = new Array<Buffer | null>(reads.length).fill(null);
      for (let i = 0; i < reads.length; i++) {
        const { blobId, length } = reads[i] as { blobId: string; length: number };
        if (!Number.isSafeInteger(length) || length < 0 || length > MAX_BULK_READ) {
          throw new StoreError('cannot', 'invalid body length');
        }
        // An id #writeBlob cannot have made is missing; its read goes to a path that cannot exist.
        const valid = typeof blobId === 'string' && BLOB_ID.test(blobId);
        paths[i] = valid ? `${this.#blobDir}/${blobId.slice(7, 9)}/${blobId}` : `${this.#blobDir}/-`;
        lengths[i] = valid ? length : 0;
      }
      const results = await this.#bulk.readMany(paths, lengths, opts.into);
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
          this.#atBodyPath(
            blobId,
            () => missingBody(blobId),
            (path) => this.#bulk.read(path, length),
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
   * Runs `use` on the file of body `blobId`: first at the path #writeBlob gives every body (no query on
   * the hot path, one per message of FETCH 1:*), then, on ENOENT, at the path the database has for it (a
   * body stored elsewhere); `missing()` when it is in neither place.
   */
  async #atBodyPath<T>(blobId: string, missing: () => Error, use: (path: string) => Promise<T>): Promise<T> {
    try {
      return await use(join(this.#blobDir, blobId.slice(7, 9), blobId));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    const r = await this.#reader.execute({ sql: 'SELECT path FROM blobs WHERE id = ?', args: [blobId] });
    const rel = r.rows[0]?.path;
    if (typeof rel !== 'string') throw missing();
    try {
      return await use(join(this.#blobDir, rel));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw missing();
      throw err;
    }
  }

  blobAnnotations(
    userId: UserId,
    folder: string,
    name: string,
    range: { fromUid?: number; toUid?: number | null } = {},
  ): Promise<Map<string, string>> {
    return this.#op(async () => {
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
      const [fr, ar] = await this.#reader.batch(
        [
          this.#folderQuery(userId, folder),
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
      this.#requireFolder(fr?.rows[0], folder);
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

  setBlobAnnotations(
    userId: UserId,
    folder: string,
    name: string,
    entries: ReadonlyArray<{ blobId: string; value: string }>,
  ): Promise<void> {
    return this.#op(async () => {
      const folderName = canonicalFolderName(folder);
      const kept = entries
        .filter((e) => typeof e.value === 'string' && e.value.length <= MAX_ANNOTATION_LENGTH)
        .map((e) => [e.blobId, e.value]);
      await this.#write(async (tx) => {
        const f = await this.#folderIn(tx, userId, folderName);
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

  // ---- changes -------------------------------------------------------------------------------------------

  append(
    userId: UserId,
    folder: string,
    source: Readable,
    opts: { flags?: string[]; internalDate?: Date; maxBytes?: number } = {},
  ): Promise<{ uidValidity: number; uid: number }> {
    if (this.#closing) source.destroy();
    return this.#op(async () => {
      const name = canonicalFolderName(folder);
      let flags: string[];
      let quotaBytes: number | undefined;
      let limit: number | null;
      try {
        checkUserId(userId);
        checkDate(opts.internalDate);
        flags = normalizeFlags(opts.flags ?? []);
        const r = await this.#reader.execute(this.#folderQuery(userId, folder));
        this.#requireFolder(r.rows[0], folder);
        limit = await this.#limitFor(userId);
        if (limit !== null) {
          const used = await this.#reader.execute({
            sql: 'SELECT COALESCE(SUM(total_size), 0) AS used FROM folders WHERE user_id = ?',
            args: [userId],
          });
          quotaBytes = Math.max(0, limit - Number(used.rows[0]?.used));
        }
      } catch (err) {
        source.destroy();
        throw err;
      }
      const internalDate = opts.internalDate ?? this.#now();
      const blob = await this.#writeBlob(source, { maxBytes: opts.maxBytes, quotaBytes });
      try {
        await this.#syncShards([blob.shard]);
        return await this.#write(async (tx, fx) => {
          const f = await this.#folderIn(tx, userId, name);
          await this.#checkQuota(tx, userId, limit, blob.size);
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

  storeFlags(
    userId: UserId,
    folder: string,
    uids: number[],
    op: FlagOperation,
    flags: string[],
    opts: { unchangedSince?: number } = {},
  ): Promise<StoreFlagsResult> {
    return this.#op(async () => {
      checkUserId(userId);
      const name = canonicalFolderName(folder);
      const wanted = uniqueUids(uids);
      const normalized = normalizeFlags(flags);
      if (op !== 'set' && op !== 'add' && op !== 'remove')
        throw new StoreError('cannot', `unknown operation ${op}`);
      return this.#write(async (tx, fx) => {
        const f = await this.#folderIn(tx, userId, name);
        const msgs = await this.#selectMessages(tx, f.id, wanted);
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

  copy(userId: UserId, from: string, uids: number[], to: string): Promise<CopyResult> {
    return this.#op(() => this.#transfer(userId, from, uids, to, false));
  }

  move(userId: UserId, from: string, uids: number[], to: string): Promise<CopyResult> {
    return this.#op(() => this.#transfer(userId, from, uids, to, true));
  }

  async #transfer(
    userId: UserId,
    from: string,
    uids: number[],
    to: string,
    move: boolean,
  ): Promise<CopyResult> {
    checkUserId(userId);
    const src = canonicalFolderName(from);
    const dst = canonicalFolderName(to);
    const wanted = uniqueUids(uids);
    const limit = move ? null : await this.#limitFor(userId);
    return this.#write(async (tx, fx) => {
      const source = await this.#folderIn(tx, userId, src);
      const target = source.name === dst ? source : await this.#folderIn(tx, userId, dst);
      const msgs = await this.#selectMessages(tx, source.id, wanted);
      if (msgs.length === 0) return { uidValidity: target.uidValidity, sourceUids: [], destinationUids: [] };
      if (!move) {
        await this.#checkQuota(
          tx,
          userId,
          limit,
          msgs.reduce((sum, m) => sum + m.size, 0),
        );
      }
      const copies = await this.#insertCopies(tx, target, msgs);
      for (const c of copies)
        fx.events.push({ kind: 'exists', userId, folder: target.name, uid: c.uid, modSeq: c.modSeq });
      if (move) {
        // The same row when moving within a folder: its MODSEQ has moved on with the copies.
        const current = source.id === target.id ? await this.#folderIn(tx, userId, src) : source;
        await this.#removeRows(tx, fx, userId, current, msgs, false);
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
  }

  expunge(userId: UserId, folder: string, uids?: number[]): Promise<number[]> {
    return this.#op(async () => {
      checkUserId(userId);
      const name = canonicalFolderName(folder);
      const wanted = uids === undefined ? undefined : uniqueUids(uids);
      return this.#write(async (tx, fx) => {
        const f = await this.#folderIn(tx, userId, name);
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
            : await this.#selectMessages(tx, f.id, wanted);
        const doomed = candidates.filter((m) => m.flags.includes('\\Deleted'));
        if (doomed.length === 0) return [];
        await this.#removeRows(tx, fx, userId, f, doomed, true);
        return doomed.map((m) => m.uid);
      });
    });
  }

  // ---- events and lifecycle ------------------------------------------------------------------------------

  subscribe(userId: UserId, listener: (event: StoreEvent) => void): () => void {
    let set = this.#listeners.get(userId);
    if (!set) {
      set = new Set();
      this.#listeners.set(userId, set);
    }
    // A wrapper, so subscribing the same function twice gives two independent subscriptions.
    const entry = (event: StoreEvent) => listener(event);
    set.add(entry);
    return () => {
      const current = this.#listeners.get(userId);
      if (!current) return;
      current.delete(entry);
      if (current.size === 0) this.#listeners.delete(userId);
    };
  }

  /** Waits for the operations in progress (deliveries are committed or refused), then closes the database. */
  async close(): Promise<void> {
    if (this.#closing) {
      while (!this.#closed) await new Promise((r) => setTimeout(r, 5));
      return;
    }
    this.#closing = true;
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
    await this.#lock.run(async () => undefined);
    this.#closed = true;
    await this.#bulk.close();
    await this.#walSyncNext?.catch(() => undefined);
    await this.#wal.close();
    this.#reader.close();
    this.#writer.close();
    if (this.recovery.owner) await releaseDir(this.dir);
  }

  // ---- internals -----------------------------------------------------------------------------------------

  #op<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new StoreError('cannot', 'the mail store is closed'));
    const p = fn();
    this.#running.add(p);
    const done = () => this.#running.delete(p);
    p.then(done, done);
    return p;
  }

  /** One write transaction under the lock; events and body removals happen after the commit. */
  async #write<T>(fn: (tx: Transaction, fx: Effects) => Promise<T>): Promise<T> {
    const fx: Effects = { events: [], unlink: [] };
    const result = await this.#lock.run(async () => {
      const tx = await this.#writer.transaction('write');
      try {
        const value = await fn(tx, fx);
        await tx.commit();
        return value;
      } finally {
        tx.close();
      }
    });
    // Outside the lock: the next transaction commits while this one's WAL frames are being synced.
    await this.#walSync();
    this.#emit(fx.events);
    if (fx.unlink.length > 0) {
      await Promise.all(
        fx.unlink.map((rel) => rm(join(this.#blobDir, rel), { force: true }).catch(() => undefined)),
      );
    }
    return result;
  }

  /**
   * Resolves once the WAL frames of every commit made before the call are on disk. A sync already in
   * flight may have started before that commit, so it joins the next one (queued behind it), which every
   * caller until it starts shares.
   */
  #walSync(): Promise<void> {
    if (this.#walSyncNext) return this.#walSyncNext;
    const next = (async () => {
      // Yield first, so `#walSyncNext` is set before it is cleared below.
      await null;
      if (this.#walSyncing) await this.#walSyncing.catch(() => undefined);
      this.#walSyncNext = null;
      const syncing = this.#wal.datasync();
      this.#walSyncing = syncing;
      try {
        await syncing;
      } finally {
        if (this.#walSyncing === syncing) this.#walSyncing = null;
      }
    })();
    this.#walSyncNext = next;
    return next;
  }

  #emit(events: StoreEvent[]): void {
    for (const event of events) {
      const set = this.#listeners.get(event.userId);
      if (!set) continue;
      for (const listener of [...set]) {
        try {
          listener(event);
        } catch (err) {
          // A faulty session must not fail a committed change.
          process.emitWarning(err instanceof Error ? err : String(err), 'MailStoreListenerWarning');
        }
      }
    }
  }

  async #limitFor(userId: UserId): Promise<number | null> {
    return this.#quotaLimit ? await this.#quotaLimit(userId) : null;
  }

  async #checkQuota(tx: Transaction, userId: UserId, limit: number | null, adding: number): Promise<void> {
    if (limit === null) return;
    const r = await tx.execute({
      sql: 'SELECT COALESCE(SUM(total_size), 0) AS used FROM folders WHERE user_id = ?',
      args: [userId],
    });
    if (Number(r.rows[0]?.used) + adding > limit) {
      throw new StoreError('over-quota', `quota of ${limit} bytes exceeded`);
    }
  }

  #folderQuery(userId: UserId, folder: string): InStatement {
    checkUserId(userId);
    return {
      sql: `SELECT ${FOLDER_COLUMNS} FROM folders WHERE user_id = ? AND name = ?`,
      args: [userId, canonicalFolderName(folder)],
    };
  }

  #requireFolder(row: Row | undefined, folder: string): FolderRow {
    if (!row) throw new StoreError('no-such-folder', `no such folder ${canonicalFolderName(folder)}`);
    return toFolderRow(row);
  }

  async #folderIn(tx: Transaction, userId: UserId, name: string): Promise<FolderRow> {
    const r = await tx.execute(this.#folderQuery(userId, name));
    return this.#requireFolder(r.rows[0], name);
  }

  async #insertFolder(
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
      args: [Math.floor(this.#now().getTime() / 1000)],
    });
    const uidValidity = Number(v.rows[0]?.value);
    if (!(uidValidity > 0 && uidValidity <= 0xffffffff))
      throw new Error('mailstore: UIDVALIDITY out of range');
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

  async #selectMessages(tx: Transaction, folderId: number, uids: number[]): Promise<MessageMeta[]> {
    if (uids.length === 0) return [];
    const r = await tx.execute({
      sql: messagesJsonSql('folder_id = ? AND uid IN (SELECT value FROM json_each(?))'),
      args: [folderId, JSON.stringify(uids)],
    });
    return parseMessages(r.rows);
  }

  /** Inserts copies of `msgs` (same blob, flags, date) at the end of `target`; blob refcounts untouched. */
  async #insertCopies(
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
  async #removeRows(
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
      fx.unlink.push(...(await this.#releaseMessages(tx, where, [folder.id, uids])));
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
  async #releaseMessages(tx: Transaction, where: string, args: Array<string | number>): Promise<string[]> {
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

  /** Makes the renames into these shard directories durable. */
  async #syncShards(shards: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(shards)].map((shard) => fsyncDir(join(this.#blobDir, shard))));
  }

  /**
   * Streams a body into tmp/, fdatasyncs it and renames it into blobs/<shard>/; not referenced yet, and
   * the rename is durable only after #syncShards.
   */
  async #writeBlob(
    source: Readable,
    limits: { maxBytes?: number | undefined; quotaBytes?: number | undefined },
  ): Promise<BlobFile> {
    const id = ulid(Date.now(), pooledRandom);
    // ULID characters 7-8: bits 5-14 of the millisecond timestamp. The shard changes every 32 ms and
    // cycles through 1024 directories every 33 s: even over time, and a burst of deliveries lands in one
    // directory, so a group commit fsyncs one directory for all of them.
    const shard = id.slice(7, 9);
    const tmp = join(this.#tmpDir, id);
    const abs = join(this.#blobDir, shard, id);
    let renamed = false;
    try {
      const size = await writeBodyFile(source, tmp, limits);
      await this.#ensureShard(shard);
      await rename(tmp, abs);
      renamed = true;
      // The caller fsyncs the shard directory (#syncShards) before committing.
      return { id, shard, rel: `${shard}/${id}`, abs, size };
    } catch (err) {
      source.destroy();
      await rm(renamed ? abs : tmp, { force: true });
      throw err;
    }
  }

  #ensureShard(shard: string): Promise<void> {
    let ready = this.#shards.get(shard);
    if (!ready) {
      ready = (async () => {
        try {
          await mkdir(join(this.#blobDir, shard), { mode: 0o700 });
        } catch (err) {
          if (isErrno(err, 'EEXIST')) return;
          throw err;
        }
        await fsyncDir(this.#blobDir);
      })();
      this.#shards.set(shard, ready);
      ready.catch(() => this.#shards.delete(shard));
    }
    return ready;
  }

  /**
   * On open: remove tmp/ leftovers and body files that no committed row references (stored, but the
   * process stopped before the commit; or not unlinked after the commit that released them).
   */
  async #recover(): Promise<void> {
    const cutoff = this.recovery.owner ? Number.POSITIVE_INFINITY : Date.now() - LEFTOVER_AGE_MS;
    const stale = async (path: string): Promise<boolean> => {
      if (cutoff === Number.POSITIVE_INFINITY) return true;
      try {
        return (await stat(path)).mtimeMs < cutoff;
      } catch {
        return false;
      }
    };
    for (const name of await readdir(this.#tmpDir)) {
      if (!(await stale(join(this.#tmpDir, name)))) continue;
      await rm(join(this.#tmpDir, name), { force: true, recursive: true });
      this.recovery.tempFiles += 1;
    }
    for (const entry of await readdir(this.#blobDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const shardDir = join(this.#blobDir, entry.name);
      const names = await readdir(shardDir);
      for (let i = 0; i < names.length; i += RECOVERY_CHUNK) {
        const chunk = names.slice(i, i + RECOVERY_CHUNK);
        const known = await this.#reader.execute({
          sql: 'SELECT path FROM blobs WHERE id IN (SELECT value FROM json_each(?))',
          args: [JSON.stringify(chunk)],
        });
        const referenced = new Set(known.rows.map((r) => String(r.path)));
        for (const name of chunk) {
          if (referenced.has(`${entry.name}/${name}`) || !(await stale(join(shardDir, name)))) continue;
          await rm(join(shardDir, name), { force: true, recursive: true });
          this.recovery.orphanBlobs += 1;
        }
      }
      this.#shards.set(entry.name, Promise.resolve());
    }
  }
}
