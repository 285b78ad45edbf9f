/**
 * The outbound queue's durable store: messages for other regions, remote forwards, distribution lists and
 * (with submission) external domains. A message is persisted (spool file fsynced, rows committed) before
 * the SMTP 250; delivery (worker.ts), retries and DSNs work from here.
 *
 * Local store, not the replicated directory: `@libsql/client` file database `<dir>/queue.db`, spool files
 * under `<dir>/spool/`. A recipient is `queued` until it reaches a final state (`delivered`, `relayed`,
 * `bounced`); a message (rows and spool file) is removed once every recipient is final and every outcome has
 * been handed to the DSN generator. The delivery log (`delivery_log`) outlives the message, for `trace`.
 *
 * Schema changes are additive only: `CREATE ... IF NOT EXISTS` and `ALTER TABLE ... ADD COLUMN` guarded by
 * `PRAGMA table_info`, so an older queue.db is upgraded in place.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { type Client, createClient, type InStatement, type Row } from '@libsql/client';
import { ulid } from 'ulid';
import { writeDurably } from '../fsync.js';

export type Route = 'remote' | 'region';
export type RecipientState = 'queued' | 'delivered' | 'relayed' | 'bounced';
export type FinalState = Exclude<RecipientState, 'queued'>;
export type DeliveryEvent =
  | 'received'
  | 'delivered'
  | 'relayed'
  | 'deferred'
  | 'bounced'
  | 'dsn-sent'
  | 'deleted';

export interface QueuedRecipient {
  address: string;
  /** `remote`: by MX lookup; `region`: to the peer region over the federation channel. */
  route: Route;
  region?: string;
  /** The original recipient (RFC 3461 ORCPT, `addr-type;address`, xtext-decoded), e.g. the alias the target was expanded from. */
  orcpt?: string;
  /** RFC 3461 NOTIFY values. */
  notify?: string[];
}

/** A recipient as stored. The fields after `lastReply` are filled by this store; optional for hand-made values. */
export interface QueueRecipientState extends QueuedRecipient {
  state: RecipientState;
  attempts: number;
  lastReply: string | null;
  /** Row id: what the store's delivery methods take. */
  id?: number;
  /** ISO time of the next attempt (meaningful while `queued`). */
  nextAttemptAt?: string;
  /** Host that gave `lastReply`, when it came from one. */
  remoteHost?: string | null;
  /** ISO time a delay notice was handed to the DSN generator, once. */
  delayNotifiedAt?: string | null;
  /** Final, but the outcome was not yet handed to the DSN generator (the message is kept until it is). */
  outcomePending?: boolean;
}

export interface QueuedMessage {
  id: string;
  sender: string;
  envid: string | null;
  ret: 'FULL' | 'HDRS' | null;
  requireTls: boolean;
  size: number;
  createdAt: string;
  /** The message's `Message-ID:` header value, when it had one. */
  messageId?: string | null;
  /** Spool file name (see `spoolPath`). */
  spoolFile?: string;
  recipients: QueueRecipientState[];
}

/** A recipient as returned by the delivery methods: every store field present. */
export interface StoredRecipient extends QueueRecipientState {
  id: number;
  nextAttemptAt: string;
  remoteHost: string | null;
  delayNotifiedAt: string | null;
  outcomePending: boolean;
}

/** A message with (a subset of) its recipients, as the delivery methods return it. */
export interface StoredMessage extends QueuedMessage {
  messageId: string | null;
  spoolFile: string;
  recipients: StoredRecipient[];
}

export interface LogEntry {
  id: number;
  at: string;
  /** Queue id (or, for events the MX logs itself, its transaction id). */
  messageId: string;
  /** The message's `Message-ID:` header value. */
  headerMessageId: string | null;
  sender: string | null;
  recipient: string | null;
  /** The original recipient's address (ORCPT without its `rfc822;` type). */
  orcpt: string | null;
  event: DeliveryEvent;
  remoteHost: string | null;
  reply: string | null;
}

export interface LogEventInput {
  messageId: string;
  event: DeliveryEvent;
  recipient?: string | null;
  orcpt?: string | null;
  sender?: string | null;
  headerMessageId?: string | null;
  remoteHost?: string | null;
  reply?: string | null;
  at?: Date;
}

export interface MessageDetails extends StoredMessage {
  /** The header block of the spooled message (up to 64 KiB). */
  headers: string;
  /** The message's delivery log. */
  log: LogEntry[];
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
  `CREATE TABLE IF NOT EXISTS delivery_log (
     id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, message_id TEXT NOT NULL,
     header_message_id TEXT, sender TEXT, recipient TEXT, orcpt TEXT, event TEXT NOT NULL,
     remote_host TEXT, reply TEXT)`,
  'CREATE INDEX IF NOT EXISTS delivery_log_message ON delivery_log (message_id)',
  'CREATE INDEX IF NOT EXISTS delivery_log_header ON delivery_log (header_message_id)',
  'CREATE INDEX IF NOT EXISTS delivery_log_recipient ON delivery_log (recipient COLLATE NOCASE)',
  'CREATE INDEX IF NOT EXISTS delivery_log_orcpt ON delivery_log (orcpt COLLATE NOCASE)',
  'CREATE INDEX IF NOT EXISTS delivery_log_sender ON delivery_log (sender COLLATE NOCASE)',
  'CREATE INDEX IF NOT EXISTS delivery_log_at ON delivery_log (at)',
];

/** Columns added after the first schema: ALTER TABLE ADD COLUMN when missing. */
const ADDED_COLUMNS: Array<[table: string, column: string, definition: string]> = [
  ['queue_messages', 'header_message_id', 'TEXT'],
  ['queue_recipients', 'remote_host', 'TEXT'],
  ['queue_recipients', 'delay_notified_at', 'TEXT'],
  ['queue_recipients', 'outcome_pending', 'INTEGER NOT NULL DEFAULT 0'],
  ['queue_recipients', 'final_at', 'TEXT'],
];

const MAX_HEADER_BYTES = 64 * 1024;

/** The address of an ORCPT value (`rfc822;a@b` → `a@b`). */
export function orcptAddress(orcpt: string | null | undefined): string | null {
  if (!orcpt) return null;
  const semi = orcpt.indexOf(';');
  return semi >= 0 ? orcpt.slice(semi + 1) : orcpt;
}

function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function toRecipient(r: Row): StoredRecipient {
  return {
    id: Number(r.id),
    address: String(r.address),
    route: String(r.route) as Route,
    ...(r.region !== null ? { region: String(r.region) } : {}),
    ...(r.orcpt !== null ? { orcpt: String(r.orcpt) } : {}),
    ...(r.notify !== null ? { notify: String(r.notify).split(',') } : {}),
    state: String(r.state) as RecipientState,
    attempts: Number(r.attempts),
    lastReply: str(r.last_reply),
    nextAttemptAt: String(r.next_attempt_at),
    remoteHost: str(r.remote_host),
    delayNotifiedAt: str(r.delay_notified_at),
    outcomePending: Number(r.outcome_pending ?? 0) === 1,
  };
}

function toMessage(m: Row, recipients: StoredRecipient[]): StoredMessage {
  return {
    id: String(m.id),
    sender: String(m.sender),
    envid: str(m.envid),
    ret: m.ret === null ? null : (String(m.ret) as 'FULL' | 'HDRS'),
    requireTls: Number(m.require_tls) === 1,
    size: Number(m.size),
    createdAt: String(m.created_at),
    messageId: str(m.header_message_id),
    spoolFile: String(m.spool_file),
    recipients,
  };
}

function toLogEntry(r: Row): LogEntry {
  return {
    id: Number(r.id),
    at: String(r.at),
    messageId: String(r.message_id),
    headerMessageId: str(r.header_message_id),
    sender: str(r.sender),
    recipient: str(r.recipient),
    orcpt: str(r.orcpt),
    event: String(r.event) as DeliveryEvent,
    remoteHost: str(r.remote_host),
    reply: str(r.reply),
  };
}

/** Reads the header block of a spool file (up to 64 KiB). */
async function readHeaderBlock(path: string): Promise<string> {
  const fd = await open(path, 'r');
  try {
    const buf = Buffer.alloc(MAX_HEADER_BYTES);
    let filled = 0;
    while (filled < buf.length) {
      const { bytesRead } = await fd.read(buf, filled, buf.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      const text = buf.subarray(0, filled).toString('latin1');
      const end = text.search(/\r?\n\r?\n/);
      if (end >= 0) return buf.subarray(0, end).toString('utf8');
    }
    return buf.subarray(0, filled).toString('utf8');
  } finally {
    await fd.close();
  }
}

/** The `Message-ID:` value of a header block (unfolded, trimmed), or null. */
export function headerMessageId(headers: string): string | null {
  const unfolded = headers.replace(/\r?\n[ \t]+/g, ' ');
  const m = /^message-id:[ \t]*(.*)$/im.exec(unfolded);
  const v = m?.[1]?.trim();
  return v ? v.slice(0, 998) : null;
}

/** `<a@b>` and `a@b` both find a Message-ID. */
function messageIdForms(q: string): string[] {
  const bare = q.replace(/^<(.*)>$/, '$1');
  return [bare, `<${bare}>`];
}

export class OutboundQueue {
  readonly #listeners = new Set<() => void>();

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
    for (const [table, column, definition] of ADDED_COLUMNS) {
      const info = await client.execute(`PRAGMA table_info(${table})`);
      if (!info.rows.some((r) => r.name === column))
        await client.execute(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
    }
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

  /**
   * Commits a spooled message and its recipients; the message is queued once this resolves. A `received`
   * event per recipient goes into the delivery log in the same transaction. `messageId` is the message's
   * `Message-ID:` header (read from the spool file when not given; `null`: none).
   */
  async enqueue(m: {
    file: string;
    size: number;
    sender: string;
    envid?: string | null;
    ret?: 'FULL' | 'HDRS' | null;
    requireTls?: boolean;
    messageId?: string | null;
    recipients: QueuedRecipient[];
  }): Promise<string> {
    const id = m.file;
    const now = this.now().toISOString();
    let messageId = m.messageId;
    if (messageId === undefined) {
      try {
        messageId = headerMessageId(await readHeaderBlock(this.spoolPath(m.file)));
      } catch {
        messageId = null;
      }
    }
    await this.client.batch(
      [
        {
          sql: `INSERT INTO queue_messages (id, sender, envid, ret, require_tls, size, spool_file, created_at, header_message_id)
                VALUES (?,?,?,?,?,?,?,?,?)`,
          args: [
            id,
            m.sender,
            m.envid ?? null,
            m.ret ?? null,
            m.requireTls ? 1 : 0,
            m.size,
            m.file,
            now,
            messageId ?? null,
          ],
        },
        ...m.recipients.map((r) => ({
          sql: `INSERT INTO queue_recipients (message_id, address, route, region, orcpt, notify, state, next_attempt_at)
                VALUES (?,?,?,?,?,?, 'queued', ?)`,
          args: [id, r.address, r.route, r.region ?? null, r.orcpt ?? null, r.notify?.join(',') ?? null, now],
        })),
        ...m.recipients.map((r) =>
          this.#logStatement({
            messageId: id,
            event: 'received',
            recipient: r.address,
            orcpt: orcptAddress(r.orcpt),
            sender: m.sender,
            headerMessageId: messageId ?? null,
          }),
        ),
      ],
      'write',
    );
    for (const listener of this.#listeners) listener();
    return id;
  }

  /** Calls `listener` after every enqueue (the worker uses it to start delivery at once). Returns an unsubscribe. */
  onEnqueued(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Discards a spool file that was never enqueued. */
  discard(file: string): void {
    rmSync(this.spoolPath(file), { force: true });
  }

  async list(): Promise<StoredMessage[]> {
    const msgs = await this.client.execute('SELECT * FROM queue_messages ORDER BY created_at, id');
    const rcpts = await this.client.execute('SELECT * FROM queue_recipients ORDER BY id');
    const byMessage = new Map<string, StoredRecipient[]>();
    for (const r of rcpts.rows) {
      const key = String(r.message_id);
      byMessage.set(key, [...(byMessage.get(key) ?? []), toRecipient(r)]);
    }
    return msgs.rows.map((m) => toMessage(m, byMessage.get(String(m.id)) ?? []));
  }

  /** One message with all its recipients, or null. */
  async get(id: string): Promise<StoredMessage | null> {
    const msg = await this.client.execute({ sql: 'SELECT * FROM queue_messages WHERE id = ?', args: [id] });
    const row = msg.rows[0];
    if (!row) return null;
    const rcpts = await this.client.execute({
      sql: 'SELECT * FROM queue_recipients WHERE message_id = ? ORDER BY id',
      args: [id],
    });
    return toMessage(row, rcpts.rows.map(toRecipient));
  }

  /** Operator `queue show`: the message, its recipients, its header block and its delivery log. */
  async show(id: string): Promise<MessageDetails | null> {
    const msg = await this.get(id);
    if (!msg) return null;
    let headers = '';
    try {
      headers = await readHeaderBlock(this.spoolPath(msg.spoolFile));
    } catch (err) {
      headers = `(spool file unreadable: ${(err as Error).message})`;
    }
    const log = await this.client.execute({
      sql: 'SELECT * FROM delivery_log WHERE message_id = ? ORDER BY id',
      args: [id],
    });
    return { ...msg, headers, log: log.rows.map(toLogEntry) };
  }

  /**
   * Recipients due for an attempt (`queued`, next attempt ≤ `now`), with their messages, oldest first.
   * `exclude`: recipient ids already in flight.
   */
  async due(opts: { now?: Date; limit?: number; exclude?: Iterable<number> } = {}): Promise<StoredMessage[]> {
    const now = (opts.now ?? this.now()).toISOString();
    const exclude = JSON.stringify([...(opts.exclude ?? [])]);
    const rcpts = await this.client.execute({
      sql: `SELECT * FROM queue_recipients
            WHERE state = 'queued' AND next_attempt_at <= ? AND id NOT IN (SELECT value FROM json_each(?))
            ORDER BY next_attempt_at, id LIMIT ?`,
      args: [now, exclude, opts.limit ?? 1000],
    });
    return this.#withMessages(rcpts.rows.map(toRecipient), rcpts.rows);
  }

  /** The earliest next attempt of any queued recipient, or null when nothing is queued. */
  async nextDueAt(): Promise<Date | null> {
    const r = await this.client.execute(
      "SELECT min(next_attempt_at) AS t FROM queue_recipients WHERE state = 'queued'",
    );
    const t = r.rows[0]?.t;
    return t === null || t === undefined ? null : new Date(String(t));
  }

  /** Final recipients whose outcome was not yet handed to the DSN generator. */
  async pendingOutcomes(limit = 1000): Promise<StoredMessage[]> {
    const rcpts = await this.client.execute({
      sql: "SELECT * FROM queue_recipients WHERE outcome_pending = 1 AND state != 'queued' ORDER BY id LIMIT ?",
      args: [limit],
    });
    return this.#withMessages(rcpts.rows.map(toRecipient), rcpts.rows);
  }

  async #withMessages(recipients: StoredRecipient[], rows: Row[]): Promise<StoredMessage[]> {
    if (recipients.length === 0) return [];
    const ids = [...new Set(rows.map((r) => String(r.message_id)))];
    const msgs = await this.client.execute({
      sql: 'SELECT * FROM queue_messages WHERE id IN (SELECT value FROM json_each(?)) ORDER BY created_at, id',
      args: [JSON.stringify(ids)],
    });
    return msgs.rows.map((m) =>
      toMessage(
        m,
        recipients.filter((_, i) => String(rows[i]?.message_id) === String(m.id)),
      ),
    );
  }

  /**
   * A failed attempt that will be retried: attempts + 1, the reply, the next attempt time; a `deferred`
   * event per recipient.
   */
  async recordDeferral(
    recipientIds: number[],
    d: { reply: string; nextAttemptAt: Date; remoteHost?: string | null },
  ): Promise<void> {
    if (recipientIds.length === 0) return;
    const rows = await this.#recipientRows(recipientIds);
    await this.client.batch(
      [
        {
          sql: `UPDATE queue_recipients SET attempts = attempts + 1, last_reply = ?, next_attempt_at = ?, remote_host = ?
                WHERE id IN (SELECT value FROM json_each(?)) AND state = 'queued'`,
          args: [d.reply, d.nextAttemptAt.toISOString(), d.remoteHost ?? null, JSON.stringify(recipientIds)],
        },
        ...rows
          .filter((r) => String(r.state) === 'queued')
          .map((r) =>
            this.#logStatement({
              messageId: String(r.message_id),
              event: 'deferred',
              recipient: String(r.address),
              orcpt: orcptAddress(str(r.orcpt)),
              sender: str(r.sender),
              headerMessageId: str(r.header_message_id),
              remoteHost: d.remoteHost ?? null,
              reply: d.reply,
            }),
          ),
      ],
      'write',
    );
  }

  /**
   * Recipients reach a final state (after the remote reply, never before): attempts + 1, the reply, an event
   * in the log. `outcomePending`: keep the message until `outcomeDone` (the DSN generator has it). Messages
   * whose recipients are all final and handed over are removed, their spool files after the commit.
   */
  async markFinal(
    recipientIds: number[],
    f: { state: FinalState; reply: string; remoteHost?: string | null; outcomePending?: boolean },
  ): Promise<void> {
    if (recipientIds.length === 0) return;
    const rows = await this.#recipientRows(recipientIds);
    const now = this.now().toISOString();
    const messageIds = [...new Set(rows.map((r) => String(r.message_id)))];
    await this.#commitAndRemove(
      [
        {
          sql: `UPDATE queue_recipients SET state = ?, attempts = attempts + 1, last_reply = ?, remote_host = ?,
                  outcome_pending = ?, final_at = ?
                WHERE id IN (SELECT value FROM json_each(?)) AND state = 'queued'`,
          args: [
            f.state,
            f.reply,
            f.remoteHost ?? null,
            f.outcomePending ? 1 : 0,
            now,
            JSON.stringify(recipientIds),
          ],
        },
        ...rows
          .filter((r) => String(r.state) === 'queued')
          .map((r) =>
            this.#logStatement({
              messageId: String(r.message_id),
              event: f.state,
              recipient: String(r.address),
              orcpt: orcptAddress(str(r.orcpt)),
              sender: str(r.sender),
              headerMessageId: str(r.header_message_id),
              remoteHost: f.remoteHost ?? null,
              reply: f.reply,
            }),
          ),
      ],
      messageIds,
    );
  }

  /** The DSN generator has the outcomes of these recipients; finished messages are removed. */
  async outcomeDone(recipientIds: number[]): Promise<void> {
    if (recipientIds.length === 0) return;
    const rows = await this.#recipientRows(recipientIds);
    await this.#commitAndRemove(
      [
        {
          sql: 'UPDATE queue_recipients SET outcome_pending = 0 WHERE id IN (SELECT value FROM json_each(?))',
          args: [JSON.stringify(recipientIds)],
        },
      ],
      [...new Set(rows.map((r) => String(r.message_id)))],
    );
  }

  /** A delay notice was handed to the DSN generator for these recipients (sent once). */
  async markDelayNotified(recipientIds: number[]): Promise<void> {
    if (recipientIds.length === 0) return;
    await this.client.execute({
      sql: 'UPDATE queue_recipients SET delay_notified_at = ? WHERE id IN (SELECT value FROM json_each(?))',
      args: [this.now().toISOString(), JSON.stringify(recipientIds)],
    });
  }

  /** Operator `queue retry`: the message's queued recipients are due now. Returns how many. */
  async retry(id: string): Promise<number> {
    const r = await this.client.execute({
      sql: "UPDATE queue_recipients SET next_attempt_at = ? WHERE message_id = ? AND state = 'queued'",
      args: [this.now().toISOString(), id],
    });
    return r.rowsAffected;
  }

  /**
   * Operator `queue delete`: removes the message without delivery and without a DSN; a `deleted` event per
   * recipient still queued. Returns false when there is no such message.
   */
  async delete(id: string): Promise<boolean> {
    const msg = await this.get(id);
    if (!msg) return false;
    await this.client.batch(
      [
        ...msg.recipients
          .filter((r) => r.state === 'queued')
          .map((r) =>
            this.#logStatement({
              messageId: id,
              event: 'deleted',
              recipient: r.address,
              orcpt: orcptAddress(r.orcpt),
              sender: msg.sender,
              headerMessageId: msg.messageId,
              reply: 'deleted by the operator',
            }),
          ),
        { sql: 'DELETE FROM queue_recipients WHERE message_id = ?', args: [id] },
        { sql: 'DELETE FROM queue_messages WHERE id = ?', args: [id] },
      ],
      'write',
    );
    rmSync(this.spoolPath(msg.spoolFile), { force: true });
    return true;
  }

  /** Adds an event to the delivery log (the MX logs local deliveries; the DSN generator `dsn-sent`). */
  async logEvent(e: LogEventInput): Promise<void> {
    await this.client.execute(this.#logStatement(e));
  }

  /** Several log events in one transaction (the MX batches its local deliveries' events). */
  async logEvents(events: LogEventInput[]): Promise<void> {
    if (events.length === 0) return;
    await this.client.batch(
      events.map((e) => this.#logStatement(e)),
      'write',
    );
  }

  /**
   * Operator `trace`: the delivery log events (oldest first) of a queue id, a Message-ID (with or without
   * angle brackets), or an address (as recipient, original recipient or sender).
   */
  async trace(query: string): Promise<LogEntry[]> {
    const q = query.trim();
    const [bare, bracketed] = messageIdForms(q);
    const r = await this.client.execute({
      sql: `SELECT * FROM delivery_log
            WHERE message_id = ? OR header_message_id IN (?, ?)
               OR recipient = ? COLLATE NOCASE OR orcpt = ? COLLATE NOCASE OR sender = ? COLLATE NOCASE
            ORDER BY id`,
      args: [q, bare ?? q, bracketed ?? q, q, q, q],
    });
    return r.rows.map(toLogEntry);
  }

  /** Removes delivery log entries older than `before` (the purge job). Returns how many. */
  async pruneLog(before: Date): Promise<number> {
    const r = await this.client.execute({
      sql: 'DELETE FROM delivery_log WHERE at < ?',
      args: [before.toISOString()],
    });
    return r.rowsAffected;
  }

  #logStatement(e: LogEventInput): InStatement {
    return {
      sql: `INSERT INTO delivery_log (at, message_id, header_message_id, sender, recipient, orcpt, event, remote_host, reply)
            VALUES (?,?,?,?,?,?,?,?,?)`,
      args: [
        (e.at ?? this.now()).toISOString(),
        e.messageId,
        e.headerMessageId ?? null,
        e.sender ?? null,
        e.recipient ?? null,
        e.orcpt ?? null,
        e.event,
        e.remoteHost ?? null,
        e.reply ?? null,
      ],
    };
  }

  async #recipientRows(ids: number[]): Promise<Row[]> {
    const r = await this.client.execute({
      sql: `SELECT r.*, m.sender, m.header_message_id FROM queue_recipients r
            JOIN queue_messages m ON m.id = r.message_id
            WHERE r.id IN (SELECT value FROM json_each(?))`,
      args: [JSON.stringify(ids)],
    });
    return r.rows;
  }

  /**
   * Runs `statements` and, in the same transaction, removes each of `messageIds` whose recipients are all
   * final and handed over. Spool files are deleted after the commit (a crash in between leaves an orphan
   * file, removed at the next open).
   */
  async #commitAndRemove(statements: InStatement[], messageIds: string[]): Promise<void> {
    const finished = (id: string): InStatement[] => [
      {
        sql: `DELETE FROM queue_recipients WHERE message_id = ?1 AND NOT EXISTS (
                SELECT 1 FROM queue_recipients WHERE message_id = ?1 AND (state = 'queued' OR outcome_pending = 1))`,
        args: [id],
      },
      {
        sql: `DELETE FROM queue_messages WHERE id = ?1
                AND NOT EXISTS (SELECT 1 FROM queue_recipients WHERE message_id = ?1) RETURNING spool_file`,
        args: [id],
      },
    ];
    const results = await this.client.batch([...statements, ...messageIds.flatMap(finished)], 'write');
    for (const res of results.slice(statements.length)) {
      for (const row of res.rows)
        if (row.spool_file) rmSync(this.spoolPath(String(row.spool_file)), { force: true });
    }
  }

  close(): Promise<void> {
    this.#listeners.clear();
    this.client.close();
    return Promise.resolve();
  }
}
