/**
 * The operations database, `<data dir>/stats.db` (libSQL, local to this region, never replicated):
 *
 *   traffic_counters   raw per-day, per-domain counters as the listeners count them (flushed from memory)
 *   daily_stats        the roll-up job's result: one row per day and domain (what the charts show)
 *   expiry_warnings    which mailbox was warned about which expiration date (one warning each)
 *   backups            the backups taken (`delegato backup`, the backup job), for the health page
 *
 * Schema changes are additive (`CREATE ... IF NOT EXISTS`), like the queue's.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Client, createClient } from '@libsql/client';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS traffic_counters (
     day TEXT NOT NULL, domain TEXT NOT NULL, counter TEXT NOT NULL, value INTEGER NOT NULL,
     PRIMARY KEY (day, domain, counter))`,
  `CREATE TABLE IF NOT EXISTS daily_stats (
     day TEXT NOT NULL, domain TEXT NOT NULL, region TEXT NOT NULL,
     messages_in INTEGER NOT NULL, messages_out INTEGER NOT NULL, messages_internal INTEGER NOT NULL,
     bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL, bytes_internal INTEGER NOT NULL,
     rejected INTEGER NOT NULL, deferred INTEGER NOT NULL, bounced INTEGER NOT NULL, gateway INTEGER NOT NULL,
     mailboxes INTEGER NOT NULL, rolled_up_at TEXT NOT NULL,
     PRIMARY KEY (day, domain))`,
  `CREATE TABLE IF NOT EXISTS expiry_warnings (
     mailbox_id TEXT NOT NULL, expires_on TEXT NOT NULL, address TEXT NOT NULL, sent_to TEXT NOT NULL,
     sent_at TEXT NOT NULL, PRIMARY KEY (mailbox_id, expires_on))`,
  `CREATE TABLE IF NOT EXISTS backups (
     id INTEGER PRIMARY KEY AUTOINCREMENT, snapshot TEXT NOT NULL, dir TEXT NOT NULL, started_at TEXT NOT NULL,
     ms INTEGER NOT NULL, outcome TEXT NOT NULL, files_copied INTEGER NOT NULL, bytes_copied INTEGER NOT NULL,
     detail TEXT)`,
];

export const STATS_DB = 'stats.db';

/** Per-domain counters of one day (the columns of `daily_stats`). */
export const COUNTERS = [
  'messages_in',
  'messages_out',
  'messages_internal',
  'bytes_in',
  'bytes_out',
  'bytes_internal',
  'rejected',
  'deferred',
  'bounced',
  'gateway',
] as const;
export type Counter = (typeof COUNTERS)[number];

export type DailyRow = { day: string; domain: string; region: string; mailboxes: number } & Record<
  Counter,
  number
>;

export interface BackupRecord {
  snapshot: string;
  dir: string;
  startedAt: string;
  ms: number;
  outcome: 'ok' | 'error';
  filesCopied: number;
  bytesCopied: number;
  detail: string | null;
}

const num = (v: unknown) => Number(v ?? 0);

/** The operations database of one data dir (one process owns it, like the mail store). */
export class OperationsDb {
  private constructor(readonly client: Client) {}

  static async open(dataDir: string): Promise<OperationsDb> {
    const client = createClient({ url: pathToFileURL(join(dataDir, STATS_DB)).href });
    await client.execute('PRAGMA journal_mode = WAL');
    await client.execute('PRAGMA busy_timeout = 5000');
    for (const sql of SCHEMA) await client.execute(sql);
    return new OperationsDb(client);
  }

  /** Adds counted increments: `(day, domain, counter) -> delta`, in one transaction. */
  async addCounts(
    entries: Array<{ day: string; domain: string; counter: Counter; delta: number }>,
  ): Promise<void> {
    if (entries.length === 0) return;
    await this.client.batch(
      entries.map((e) => ({
        sql: `INSERT INTO traffic_counters (day, domain, counter, value) VALUES (?,?,?,?)
              ON CONFLICT (day, domain, counter) DO UPDATE SET value = value + excluded.value`,
        args: [e.day, e.domain, e.counter, e.delta],
      })),
      'write',
    );
  }

  /** The raw counters of `day`: domain -> counter -> value. */
  async countsOf(day: string): Promise<Map<string, Map<Counter, number>>> {
    const rs = await this.client.execute({
      sql: 'SELECT domain, counter, value FROM traffic_counters WHERE day = ?',
      args: [day],
    });
    const out = new Map<string, Map<Counter, number>>();
    for (const r of rs.rows) {
      const domain = String(r.domain);
      const m = out.get(domain) ?? new Map<Counter, number>();
      m.set(String(r.counter) as Counter, num(r.value));
      out.set(domain, m);
    }
    return out;
  }

  /** Replaces the rolled-up rows of `day`. */
  async replaceDay(day: string, rows: DailyRow[], at: Date): Promise<void> {
    const cols = ['day', 'domain', 'region', ...COUNTERS, 'mailboxes', 'rolled_up_at'];
    await this.client.batch(
      [
        { sql: 'DELETE FROM daily_stats WHERE day = ?', args: [day] },
        ...rows.map((r) => ({
          sql: `INSERT INTO daily_stats (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(',')})`,
          args: [r.day, r.domain, r.region, ...COUNTERS.map((c) => r[c]), r.mailboxes, at.toISOString()],
        })),
      ],
      'write',
    );
  }

  /** Rolled-up rows from `from` to `to` (inclusive days), of `domains` (null: all), by day then domain. */
  async daily(q: { from: string; to: string; domains: readonly string[] | null }): Promise<DailyRow[]> {
    if (q.domains !== null && q.domains.length === 0) return [];
    const filter = q.domains === null ? '' : ` AND domain IN (${q.domains.map(() => '?').join(',')})`;
    const rs = await this.client.execute({
      sql: `SELECT * FROM daily_stats WHERE day >= ? AND day <= ?${filter} ORDER BY day, domain`,
      args: [q.from, q.to, ...(q.domains ?? [])],
    });
    return rs.rows.map((r) => {
      const row = {
        day: String(r.day),
        domain: String(r.domain),
        region: String(r.region),
        mailboxes: num(r.mailboxes),
      } as DailyRow;
      for (const c of COUNTERS) row[c] = num(r[c]);
      return row;
    });
  }

  /** True when the warning for this mailbox and expiration date was already sent. */
  async expiryWarned(mailboxId: string, expiresOn: string): Promise<boolean> {
    const rs = await this.client.execute({
      sql: 'SELECT 1 FROM expiry_warnings WHERE mailbox_id = ? AND expires_on = ?',
      args: [mailboxId, expiresOn],
    });
    return rs.rows.length > 0;
  }

  async recordExpiryWarning(w: {
    mailboxId: string;
    expiresOn: string;
    address: string;
    sentTo: string;
    at: Date;
  }): Promise<void> {
    await this.client.execute({
      sql: `INSERT OR IGNORE INTO expiry_warnings (mailbox_id, expires_on, address, sent_to, sent_at)
            VALUES (?,?,?,?,?)`,
      args: [w.mailboxId, w.expiresOn, w.address, w.sentTo, w.at.toISOString()],
    });
  }

  async recordBackup(b: BackupRecord): Promise<void> {
    await this.client.execute({
      sql: `INSERT INTO backups (snapshot, dir, started_at, ms, outcome, files_copied, bytes_copied, detail)
            VALUES (?,?,?,?,?,?,?,?)`,
      args: [b.snapshot, b.dir, b.startedAt, b.ms, b.outcome, b.filesCopied, b.bytesCopied, b.detail],
    });
  }

  /** The newest backup record (any outcome), or null. */
  async lastBackup(): Promise<BackupRecord | null> {
    const rs = await this.client.execute('SELECT * FROM backups ORDER BY id DESC LIMIT 1');
    const r = rs.rows[0];
    if (!r) return null;
    return {
      snapshot: String(r.snapshot),
      dir: String(r.dir),
      startedAt: String(r.started_at),
      ms: num(r.ms),
      outcome: String(r.outcome) === 'ok' ? 'ok' : 'error',
      filesCopied: num(r.files_copied),
      bytesCopied: num(r.bytes_copied),
      detail: r.detail === null ? null : String(r.detail),
    };
  }

  close(): void {
    this.client.close();
  }
}

/**
 * A consistent copy of a SQLite/libSQL database file while its owner keeps writing: `VACUUM INTO` reads
 * one snapshot (WAL mode: the writer is not blocked) and writes a compact database to `target`.
 */
export async function snapshotDatabase(file: string, target: string): Promise<void> {
  const client = createClient({ url: pathToFileURL(file).href });
  try {
    await client.execute('PRAGMA busy_timeout = 5000');
    await client.execute({ sql: 'VACUUM INTO ?', args: [target] });
  } finally {
    client.close();
  }
}

/** Reads rows of a query from a database file another process component owns (WAL readers do not block). */
export async function readDatabase<T>(file: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = createClient({ url: pathToFileURL(file).href });
  try {
    await client.execute('PRAGMA query_only = ON');
    return await fn(client);
  } finally {
    client.close();
  }
}
