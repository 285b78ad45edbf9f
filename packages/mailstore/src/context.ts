/**
 * The state the parts of `MailStore` share (internal: one per open store): the two connections, the body
 * files, write transactions with their post-commit effects, the operations in progress, the known users.
 */
import type { Client, Transaction } from '@libsql/client';
import { StoreError, type StoreEvent, type UserId } from './backend.js';
import type { BlobFiles } from './blob-files.js';
import { BulkReader } from './bulk-reader.js';
import { StoreEvents } from './events.js';
import type { Transactions } from './transactions.js';

/** Size of the cache of known user ids (cleared when full). */
const KNOWN_USERS_MAX = 100_000;

/** Post-commit effects of a write: events to publish and body files to remove. */
export interface Effects {
  events: StoreEvent[];
  unlink: string[];
}

export class StoreContext {
  readonly dir: string;
  /** The single writer (used through `write`, and by recovery) and the query-only reader. */
  readonly writer: Client;
  readonly reader: Client;
  readonly transactions: Transactions;
  readonly files: BlobFiles;
  /** Bulk reads of small bodies in a worker thread (`readBody`). */
  readonly bulk = new BulkReader();
  readonly events = new StoreEvents();
  readonly now: () => Date;
  readonly quotaLimit: ((userId: string) => Promise<number | null>) | undefined;
  /** Users known to exist (a cache for the fast path of `deliver`; `purgeUser` forgets). */
  readonly knownUsers = new Set<UserId>();
  /** Public operations in progress; `close` waits for them. */
  readonly running = new Set<Promise<unknown>>();
  closing = false;
  closed = false;

  constructor(init: {
    dir: string;
    writer: Client;
    reader: Client;
    transactions: Transactions;
    files: BlobFiles;
    now: () => Date;
    quotaLimit: ((userId: string) => Promise<number | null>) | undefined;
  }) {
    this.dir = init.dir;
    this.writer = init.writer;
    this.reader = init.reader;
    this.transactions = init.transactions;
    this.files = init.files;
    this.now = init.now;
    this.quotaLimit = init.quotaLimit;
  }

  /** A public operation: refused once closing, tracked until it settles. */
  op<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new StoreError('cannot', 'the mail store is closed'));
    const p = fn();
    this.running.add(p);
    const done = () => this.running.delete(p);
    p.then(done, done);
    return p;
  }

  /** One durable write transaction; events and body removals happen after the commit. */
  async write<T>(fn: (tx: Transaction, fx: Effects) => Promise<T>): Promise<T> {
    const fx: Effects = { events: [], unlink: [] };
    const result = await this.transactions.run((tx) => fn(tx, fx));
    this.events.emit(fx.events);
    if (fx.unlink.length > 0) await this.files.remove(fx.unlink);
    return result;
  }

  rememberUser(userId: UserId): void {
    if (this.knownUsers.size >= KNOWN_USERS_MAX) this.knownUsers.clear();
    this.knownUsers.add(userId);
  }
}
