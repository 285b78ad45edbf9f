/**
 * The outbound queue's durable store: messages for other regions, remote forwards, distribution lists and
 * (with submission) external domains. A message is persisted (spool file fsynced, rows committed) before
 * the SMTP 250; delivery, retries and DSNs work from here.
 *
 * Local store, not the replicated directory: `@libsql/client` file database `<dir>/queue.db`, spool files
 * under `<dir>/spool/`.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { type Client, createClient } from '@libsql/client';
import { ulid } from 'ulid';
import { writeDurably } from '../fsync.js';

export type Route = 'remote' | 'region';
export type RecipientState = 'queued' | 'delivered' | 'relayed' | 'bounced';

export interface QueuedRecipient {
  address: string;
  /** `remote`: by MX lookup; `region`: to the peer region over the federation channel. */
  route: Route;
  region?: string;
  /** The original recipient (RFC 3461 ORCPT), e.g. the alias the target was expanded from. */
  orcpt?: string;
  /** RFC 3461 NOTIFY values. */
  notify?: string[];
}

export interface QueuedMessage {
  id: string;
  sender: string;
  envid: string | null;
  ret: 'FULL' | 'HDRS' | null;
  requireTls: boolean;
  size: number;
  createdAt: string;
  recipients: Array<QueuedRecipient & { state: RecipientState; attempts: number; lastReply: string | null }>;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS queue_messages (
     id TEXT PRIMARY KEY, sender TEXT NOT NULL, envid TEXT, ret TEXT, require_tls INTEGER NOT NULL,
     size INTEGER NOT NULL, spool_file TEXT NOT NULL, created_at TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS queue_recipients (
     id INTEGER PRIMARY KEY, message_id TEXT NOT NULL, address TEXT NOT NULL, route TEXT NOT NULL,
     region TEXT, orcpt TEXT, notify TEXT, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at TEXT NOT NULL, last_reply TEXT)`,
  'CREATE INDEX IF NOT EXISTS queue_recipients_due ON queue_recipients (state, next_attempt_at)',
  'CREATE INDEX IF NOT EXISTS queue_recipients_message ON queue_recipients (message_id)',
];

export class OutboundQueue {
  private constructor(
    private readonly client: Client,
    private readonly dir: string,
    private readonly now: () => Date,
  ) {}

  static async open(opts: { dir: string; now?: () => Date }): Promise<OutboundQueue> {
    mkdirSync(join(opts.dir, 'spool'), { recursive: true, mode: 0o700 });
    mkdirSync(join(opts.dir, 'tmp'), { recursive: true, mode: 0o700 });
    const client = createClient({ url: `file:${join(opts.dir, 'queue.db')}` });
    await client.execute('PRAGMA journal_mode=WAL');
    await client.execute('PRAGMA synchronous=FULL');
    await client.execute('PRAGMA busy_timeout=5000');
    for (const stmt of SCHEMA) await client.execute(stmt);
    const q = new OutboundQueue(client, opts.dir, opts.now ?? (() => new Date()));
    await q.removeOrphans();
    return q;
  }

  /** Spool files without a committed row (a crash between fsync and commit) and temp files are removed. */
  private async removeOrphans(): Promise<void> {
    for (const f of readdirSync(join(this.dir, 'tmp'))) rmSync(join(this.dir, 'tmp', f), { force: true });
    const rows = await this.client.execute('SELECT spool_file FROM queue_messages');
    const known = new Set(rows.rows.map((r) => String(r.spool_file)));
    for (const f of readdirSync(join(this.dir, 'spool')))
      if (!known.has(f)) rmSync(join(this.dir, 'spool', f), { force: true });
  }

  spoolPath(file: string): string {
    return join(this.dir, 'spool', file);
  }

  /** Writes a message's bytes to a new spool file, fsynced. Returns the file name and size. */
  async spool(source: Readable, maxBytes?: number): Promise<{ file: string; size: number }> {
    const file = ulid();
    const size = await writeDurably(source, join(this.dir, 'tmp', file), this.spoolPath(file), maxBytes);
    return { file, size };
  }

  /** Commits a spooled message and its recipients; the message is queued once this resolves. */
  async enqueue(m: {
    file: string;
    size: number;
    sender: string;
    envid?: string | null;
    ret?: 'FULL' | 'HDRS' | null;
    requireTls?: boolean;
    recipients: QueuedRecipient[];
  }): Promise<string> {
    const id = m.file;
    const now = this.now().toISOString();
    await this.client.batch(
      [
        {
          sql: 'INSERT INTO queue_messages (id, sender, envid, ret, require_tls, size, spool_file, created_at) VALUES (?,?,?,?,?,?,?,?)',
          args: [id, m.sender, m.envid ?? null, m.ret ?? null, m.requireTls ? 1 : 0, m.size, m.file, now],
        },
        ...m.recipients.map((r) => ({
          sql: `INSERT INTO queue_recipients (message_id, address, route, region, orcpt, notify, state, next_attempt_at)
                VALUES (?,?,?,?,?,?, 'queued', ?)`,
          args: [id, r.address, r.route, r.region ?? null, r.orcpt ?? null, r.notify?.join(',') ?? null, now],
        })),
      ],
      'write',
    );
    return id;
  }

  /** Discards a spool file that was never enqueued. */
  discard(file: string): void {
    rmSync(this.spoolPath(file), { force: true });
  }

  async list(): Promise<QueuedMessage[]> {
    const msgs = await this.client.execute('SELECT * FROM queue_messages ORDER BY created_at, id');
    const rcpts = await this.client.execute('SELECT * FROM queue_recipients ORDER BY id');
    return msgs.rows.map((m) => ({
      id: String(m.id),
      sender: String(m.sender),
      envid: m.envid === null ? null : String(m.envid),
      ret: m.ret === null ? null : (String(m.ret) as 'FULL' | 'HDRS'),
      requireTls: Number(m.require_tls) === 1,
      size: Number(m.size),
      createdAt: String(m.created_at),
      recipients: rcpts.rows
        .filter((r) => r.message_id === m.id)
        .map((r) => ({
          address: String(r.address),
          route: String(r.route) as Route,
          ...(r.region !== null ? { region: String(r.region) } : {}),
          ...(r.orcpt !== null ? { orcpt: String(r.orcpt) } : {}),
          ...(r.notify !== null ? { notify: String(r.notify).split(',') } : {}),
          state: String(r.state) as RecipientState,
          attempts: Number(r.attempts),
          lastReply: r.last_reply === null ? null : String(r.last_reply),
        })),
    }));
  }

  close(): Promise<void> {
    this.client.close();
    return Promise.resolve();
  }
}
