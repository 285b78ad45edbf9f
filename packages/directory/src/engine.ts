/**
 * The directory's storage engine: a Turso database (`@tursodatabase/sync`) bridged to drizzle-orm through
 * drizzle's `sqlite-proxy` driver: drizzle 0.45 has no driver for the Turso engine.
 *
 * A standalone appliance opens it without a sync URL and is its own writer; federation adds the URL.
 * The file is locked by the process that opens it, so exactly one process (the appliance, or the CLI when
 * no appliance runs) owns it.
 */
import { connect, type Database } from '@tursodatabase/sync';
import { drizzle, type SqliteRemoteDatabase } from 'drizzle-orm/sqlite-proxy';
import * as schema from './schema.js';

export type DirectoryDb = SqliteRemoteDatabase<typeof schema>;

/** What drizzle's proxy needs from a connection or a transaction handle. */
interface Preparer {
  prepare(sql: string): Promise<{
    raw(on: boolean): {
      all(...params: unknown[]): Promise<unknown[]>;
      get(...params: unknown[]): Promise<unknown>;
      run(...params: unknown[]): Promise<unknown>;
    };
  }>;
}

type Stmt = Awaited<ReturnType<Preparer['prepare']>>;

/**
 * drizzle's proxy callback over a connection. With `cache`, prepared statements are kept per SQL text and
 * reused (one statement is used by one query at a time): the directory is read on every SMTP RCPT, and
 * preparing each query again was the largest single cost in the inbound benchmark.
 */
function proxyOver(conn: Preparer, cache?: Map<string, Stmt[]>): DirectoryDb {
  const take = async (sql: string): Promise<Stmt> => cache?.get(sql)?.pop() ?? (await conn.prepare(sql));
  const give = (sql: string, stmt: Stmt) => {
    if (!cache) return;
    const idle = cache.get(sql) ?? [];
    if (idle.length < 4) idle.push(stmt);
    cache.set(sql, idle);
  };
  return drizzle(
    async (sql, params, method) => {
      const stmt = await take(sql);
      const raw = stmt.raw(true);
      try {
        switch (method) {
          case 'run':
            await raw.run(params);
            return { rows: [] };
          case 'get':
            return { rows: ((await raw.get(params)) as unknown[] | undefined) ?? [] };
          default:
            return { rows: (await raw.all(params)) as unknown[][] };
        }
      } finally {
        give(sql, stmt);
      }
    },
    { schema },
  );
}

export interface EngineOptions {
  /** The database file. */
  path: string;
  /** Replication hub; absent for a standalone appliance. */
  syncUrl?: string;
}

/** An open directory database: typed reads, serialised write transactions. */
export class Engine {
  readonly db: DirectoryDb;
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(readonly raw: Database) {
    this.db = proxyOver(raw as unknown as Preparer, new Map());
  }

  static async open(opts: EngineOptions): Promise<Engine> {
    const raw = await connect({ path: opts.path, ...(opts.syncUrl ? { url: opts.syncUrl } : {}) });
    return new Engine(raw);
  }

  /** Executes plain SQL (migrations). */
  exec(sql: string): Promise<void> {
    return this.raw.exec(sql);
  }

  /**
   * Runs `fn` in one transaction. Write transactions are serialised: the directory has one writer, and
   * uniqueness decisions (ambiguity, duplicates) must see every earlier change.
   */
  transaction<T>(fn: (tx: DirectoryDb) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const wrapped = this.raw.transactionAsync(async (txn) => fn(proxyOver(txn as unknown as Preparer)));
      return (await wrapped()) as T;
    };
    const result = this.#tail.then(run, run);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.#tail;
    await this.raw.close();
  }
}

/**
 * True when `err` is the engine's report of a violated UNIQUE constraint. drizzle wraps the engine's
 * error (DrizzleQueryError), so the constraint message may be in a `cause`.
 */
export function isUniqueViolation(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (/UNIQUE constraint failed/i.test(e.message)) return true;
  }
  return false;
}
