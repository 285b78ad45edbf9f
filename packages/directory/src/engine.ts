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
import { type CapturedChange, capturedChanges, inverseStatements } from './cdc.js';
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

/** How a replica reaches its hub: what `connect()` of @tursodatabase/sync takes besides the path. */
export interface SyncRemoteOptions {
  url: string;
  /** Turso Cloud's database token. */
  authToken?: string;
  /** The transport (the federation's mutual-TLS fetch). */
  fetch?: typeof fetch;
}

export interface EngineOptions {
  /** The database file. */
  path: string;
  /** Replication hub URL alone (a plain tursodb sync server); `sync` gives the whole remote. */
  syncUrl?: string;
  /** Replication hub with its token or transport; absent (and no `syncUrl`) for a standalone appliance. */
  sync?: SyncRemoteOptions;
}

/** The replication counters of a replica (`Database.stats()` of @tursodatabase/sync). */
export interface EngineSyncStats {
  /** Local changes not pushed yet (as the engine counts them). */
  cdcOperations: number;
  /** Unix seconds of the last successful pull and push. */
  lastPullUnixTime: number;
  lastPushUnixTime: number | null;
  revision: string | null;
}

/** An open directory database: typed reads, serialised write transactions. */
export class Engine {
  readonly db: DirectoryDb;
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly raw: Database,
    /** True when the database is a replica of a hub (it can pull and push). */
    readonly replicated: boolean,
  ) {
    this.db = proxyOver(raw as unknown as Preparer, new Map());
  }

  static async open(opts: EngineOptions): Promise<Engine> {
    const remote = opts.sync ?? (opts.syncUrl ? { url: opts.syncUrl } : undefined);
    const raw = await connect({
      path: opts.path,
      ...(remote
        ? {
            url: remote.url,
            ...(remote.authToken ? { authToken: remote.authToken } : {}),
            ...(remote.fetch ? { fetch: remote.fetch } : {}),
            clientName: 'delegato',
          }
        : {}),
    });
    return new Engine(raw, remote !== undefined);
  }

  /** Pulls the hub's changes; true when some arrived. Waits for the write transactions queued before it. */
  pull(): Promise<boolean> {
    return this.#serial(() => this.raw.pull());
  }

  /** Pushes the local changes to the hub. */
  push(): Promise<void> {
    return this.#serial(() => this.raw.push());
  }

  async syncStats(): Promise<EngineSyncStats> {
    const s = await this.raw.stats();
    return {
      cdcOperations: s.cdcOperations,
      lastPullUnixTime: s.lastPullUnixTime,
      lastPushUnixTime: s.lastPushUnixTime,
      revision: s.revision,
    };
  }

  /**
   * The last change id of the change-data-capture table (cdc.ts): changes recorded after it are the ones
   * {@link compensateSince} undoes. 0 when nothing was recorded yet.
   */
  async changeMark(): Promise<number> {
    if (!this.replicated) return 0;
    const rows = (await (
      await this.raw.prepare('SELECT max(change_id) AS m FROM turso_cdc')
    ).all()) as Array<{
      m: number | null;
    }>;
    return Number(rows[0]?.m ?? 0);
  }

  /** The row changes recorded locally after `mark`, oldest first. */
  async changesSince(mark: number): Promise<CapturedChange[]> {
    const stmt = await this.raw.prepare(
      'SELECT change_id, change_type, table_name, id, "before" FROM turso_cdc WHERE change_id > ? ORDER BY change_id',
    );
    return capturedChanges((await stmt.all(mark)) as Record<string, unknown>[]);
  }

  /**
   * The compensating write: undoes every row change recorded after `mark`, newest first, in one
   * transaction (the inverse is recorded too, so a later push carries both). Returns how many row changes
   * it undid.
   */
  compensateSince(mark: number): Promise<number> {
    return this.#serial(async () => {
      const changes = await this.changesSince(mark);
      if (changes.length === 0) return 0;
      const columns = new Map<string, string[]>();
      for (const table of new Set(changes.map((c) => c.table))) {
        const info = (await (
          await this.raw.prepare(`PRAGMA table_info("${table.replaceAll('"', '""')}")`)
        ).all()) as Array<{ name: string }>;
        columns.set(
          table,
          info.map((c) => c.name),
        );
      }
      const statements = inverseStatements(changes, (t) => columns.get(t) ?? []);
      const undo = this.raw.transactionAsync(async (txn) => {
        for (const s of statements) await (await txn.prepare(s.sql)).run(...s.params);
      });
      await undo();
      return changes.length;
    });
  }

  /** Runs `fn` after the write transactions queued before it, and before those queued after. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.catch(() => undefined);
    return result;
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
