/**
 * Write transactions: serialised by a FIFO lock on the single writer connection (the only connection that
 * writes, so its pragmas hold), and durable when they resolve: after the commit, the `-wal` file is
 * fdatasynced through the thread pool (the writer runs `synchronous=NORMAL`, see schema.ts). Commits that
 * end while a sync is in flight share the next one.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Client, Transaction } from '@libsql/client';

/** A FIFO async mutex. */
class Lock {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

export class Transactions {
  readonly #writer: Client;
  readonly #wal: FileHandle;
  readonly #lock = new Lock();
  /** The fdatasync in flight, and the next one: it covers every commit made before it starts. */
  #walSyncing: Promise<void> | null = null;
  #walSyncNext: Promise<void> | null = null;

  constructor(writer: Client, wal: FileHandle) {
    this.#writer = writer;
    this.#wal = wal;
  }

  /** Runs `fn` in one write transaction under the lock, commits, and resolves once the commit is on disk. */
  async run<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const result = await this.#lock.run(async () => {
      const tx = await this.#writer.transaction('write');
      try {
        const value = await fn(tx);
        await tx.commit();
        return value;
      } finally {
        tx.close();
      }
    });
    // Outside the lock: the next transaction commits while this one's WAL frames are being synced.
    await this.#walSync();
    return result;
  }

  /** Waits for the last WAL sync, then closes the `-wal` handle (after `drain`). */
  async close(): Promise<void> {
    await this.#walSyncNext?.catch(() => undefined);
    await this.#wal.close();
  }

  /** Waits for the transactions queued on the lock (close waits for them before closing anything). */
  drain(): Promise<void> {
    return this.#lock.run(async () => undefined);
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
}
