/**
 * Body files: `blobs/<shard>/<ulid>`, written once through `tmp/`, and read through plain descriptors.
 *
 * Write path of a body: stream into tmp/ (bounded buffer, `maxBytes` enforced while streaming), fdatasync,
 * rename into blobs/<shard>/; the caller fsyncs the shard directory (`syncShards`) and only then commits
 * the metadata. Plain descriptors and the callback API throughout: fs/promises' FileHandle costs several
 * times more per call (a FETCH of 10,000 messages opens, reads and closes 10,000 files).
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
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ulid } from 'ulid';
import { type BodyReader, StoreError } from './backend.js';

/** Bytes gathered from the source before a write to the temp file. */
const WRITE_CHUNK = 64 * 1024;
/** Largest `readBody` (a guard against a bad length; whole large bodies are streamed with `openBody`). */
export const MAX_BULK_READ = 1024 * 1024 * 1024;
/** A body id as `BlobFiles.write` makes them (a ULID): anything else is refused before touching the disk. */
export const BLOB_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export interface BlobFile {
  id: string;
  shard: string;
  /** Relative to blobs/, as stored in blobs.path. */
  rel: string;
  abs: string;
  size: number;
}

export interface WriteLimits {
  maxBytes?: number | undefined;
  quotaBytes?: number | undefined;
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

/** A node:fs callback call as a promise. */
function fsCall<T>(call: (cb: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolveCall, reject) => {
    call((err, value) => (err ? reject(err) : resolveCall(value as T)));
  });
}

async function fsyncDir(path: string): Promise<void> {
  const fd = await fsCall<number>((cb) => openCb(path, 'r', cb));
  try {
    await fsCall<void>((cb) => fsyncCb(fd, cb));
  } finally {
    await fsCall<void>((cb) => closeCb(fd, cb));
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

export function missingBody(blobId: unknown): StoreError {
  return new StoreError('no-such-message', `no body ${String(blobId).slice(0, 40)}`);
}

/** Streams `source` into a new file at `path` and fdatasyncs it; returns the size. Removes nothing on error. */
async function writeBodyFile(source: Readable, path: string, limits: WriteLimits): Promise<number> {
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

/** Opens a body for reading (a plain descriptor, see the header). */
export function openFd(path: string): Promise<number> {
  return new Promise((resolveFd, reject) => {
    openCb(path, 'r', (err, fd) => (err ? reject(err) : resolveFd(fd)));
  });
}

export class FdBodyReader implements BodyReader {
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

/** The `blobs/` and `tmp/` directories of one store. */
export class BlobFiles {
  readonly blobDir: string;
  readonly tmpDir: string;
  /** Shard directories known to exist (and whose creation is durable). */
  readonly #shards = new Map<string, Promise<void>>();

  constructor(dir: string) {
    this.blobDir = join(dir, 'blobs');
    this.tmpDir = join(dir, 'tmp');
  }

  /** Where `write` puts body `blobId` (its shard follows from the id). */
  pathOf(blobId: string): string {
    return join(this.blobDir, blobId.slice(7, 9), blobId);
  }

  /**
   * Streams a body into tmp/, fdatasyncs it and renames it into blobs/<shard>/; not referenced yet, and
   * the rename is durable only after `syncShards`.
   */
  async write(source: Readable, limits: WriteLimits): Promise<BlobFile> {
    const id = ulid(Date.now(), pooledRandom);
    // ULID characters 7-8: bits 5-14 of the millisecond timestamp. The shard changes every 32 ms and
    // cycles through 1024 directories every 33 s: even over time, and a burst of deliveries lands in one
    // directory, so a group commit fsyncs one directory for all of them.
    const shard = id.slice(7, 9);
    const tmp = join(this.tmpDir, id);
    const abs = join(this.blobDir, shard, id);
    let renamed = false;
    try {
      const size = await writeBodyFile(source, tmp, limits);
      await this.#ensureShard(shard);
      await rename(tmp, abs);
      renamed = true;
      // The caller fsyncs the shard directory (syncShards) before committing.
      return { id, shard, rel: `${shard}/${id}`, abs, size };
    } catch (err) {
      source.destroy();
      await rm(renamed ? abs : tmp, { force: true });
      throw err;
    }
  }

  /** Makes the renames into these shard directories durable. */
  async syncShards(shards: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(shards)].map((shard) => fsyncDir(join(this.blobDir, shard))));
  }

  /** A shard directory found on disk at open (its creation is durable). */
  knownShard(shard: string): void {
    this.#shards.set(shard, Promise.resolve());
  }

  /** Removes body files no longer referenced (paths relative to blobs/), after the commit; errors ignored. */
  async remove(rels: string[]): Promise<void> {
    await Promise.all(rels.map((rel) => rm(join(this.blobDir, rel), { force: true }).catch(() => undefined)));
  }

  #ensureShard(shard: string): Promise<void> {
    let ready = this.#shards.get(shard);
    if (!ready) {
      ready = (async () => {
        try {
          await mkdir(join(this.blobDir, shard), { mode: 0o700 });
        } catch (err) {
          if (isErrno(err, 'EEXIST')) return;
          throw err;
        }
        await fsyncDir(this.blobDir);
      })();
      this.#shards.set(shard, ready);
      ready.catch(() => this.#shards.delete(shard));
    }
    return ready;
  }
}
