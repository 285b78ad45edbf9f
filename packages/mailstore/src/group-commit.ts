/**
 * Delivery with group commit. A delivery streams its body to disk (blob-files.ts), then waits in a queue
 * that is committed as soon as the writer is free: the group is whatever arrived during the previous
 * commit, with one fsync per shard directory and one metadata transaction (one WAL fsync) for all of it.
 * Each delivery stays all-or-nothing: one whose user vanished fails alone; if the shared transaction fails,
 * the deliveries are committed one by one. `deliver` resolves only after its rows are committed (the MTA
 * answers 250 then): body fdatasynced, shard directory fsynced, metadata committed and its WAL synced.
 */
import { rm } from 'node:fs/promises';
import type { Transaction } from '@libsql/client';
import { type DeliveryRequest, type DeliveryResult, StoreError, type UserId } from './backend.js';
import type { BlobFile } from './blob-files.js';
import type { Effects, StoreContext } from './context.js';
import { limitFor } from './quota.js';
import { checkDate, checkUserId } from './rows.js';

/** Most deliveries committed in one transaction. */
const MAX_GROUP = 256;

interface PendingDelivery {
  users: UserId[];
  blob: BlobFile;
  internalDate: Date;
  /** Each user's quota in bytes (absent or null: unlimited), read before the commit. */
  limits: Map<UserId, number | null>;
  resolve: (done: Delivered) => void;
  reject: (err: unknown) => void;
}

/** What a committed delivery gives back: UIDs, and whose usage crossed the warning level with it. */
interface Delivered {
  uids: Map<UserId, number>;
  nearQuota: UserId[];
}

/** Usage at or above this share of the quota earns the user a warning (`DeliveryResult.nearQuota`). */
export const QUOTA_WARNING_SHARE = 0.9;

export class GroupCommit {
  readonly #ctx: StoreContext;
  #pending: PendingDelivery[] = [];
  #flushScheduled = false;
  #flushing = false;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  deliver(req: DeliveryRequest): Promise<DeliveryResult> {
    const ctx = this.#ctx;
    if (ctx.closing) req.source.destroy();
    return ctx.op(async () => {
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
      const internalDate = req.internalDate ?? ctx.now();
      const blob = await ctx.files.write(req.source, { maxBytes: req.maxBytes });
      try {
        const limits = new Map<UserId, number | null>();
        if (ctx.quotaLimit) for (const u of users) limits.set(u, await limitFor(ctx, u));
        const done = await new Promise<Delivered>((resolve, reject) => {
          this.#pending.push({ users, blob, internalDate, limits, resolve, reject });
          this.#scheduleFlush();
        });
        return { size: blob.size, uids: done.uids, nearQuota: done.nearQuota };
      } catch (err) {
        await rm(blob.abs, { force: true });
        throw err;
      }
    });
  }

  /** Fails fast (before the body is received) when a user is unknown; the commit checks again. */
  async #checkUsers(users: UserId[]): Promise<void> {
    const ctx = this.#ctx;
    const unknown = users.filter((u) => !ctx.knownUsers.has(u));
    if (unknown.length === 0) return;
    const r = await ctx.reader.execute({
      sql: 'SELECT id FROM users WHERE id IN (SELECT value FROM json_each(?))',
      args: [JSON.stringify(unknown)],
    });
    for (const row of r.rows) ctx.rememberUser(String(row.id));
    const missing = unknown.filter((u) => !ctx.knownUsers.has(u));
    if (missing.length > 0) throw new StoreError('no-such-user', `no such user ${missing.join(', ')}`);
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
          await this.#ctx.files.syncShards(group.map((d) => d.blob.shard));
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
    const ctx = this.#ctx;
    let outcomes: Array<Delivered | StoreError>;
    try {
      outcomes = await ctx.write((tx, fx) => applyDeliveries(tx, fx, group));
    } catch (err) {
      if (group.length === 1) {
        group[0]?.reject(err);
        return;
      }
      for (const d of group) {
        try {
          const [outcome] = await ctx.write((tx, fx) => applyDeliveries(tx, fx, [d]));
          if (outcome instanceof StoreError || !outcome) d.reject(outcome);
          else d.resolve(outcome);
        } catch (err1) {
          d.reject(err1);
        }
      }
      return;
    }
    group.forEach((d, i) => {
      const outcome = outcomes[i];
      if (outcome instanceof StoreError || !outcome) d.reject(outcome);
      else d.resolve(outcome);
    });
  }
}

/**
 * Each limited user's usage now (every folder), read inside the commit's transaction: the quota check
 * sees what the deliveries before it in this group added.
 */
async function usageOf(tx: Transaction, group: PendingDelivery[]): Promise<Map<UserId, number>> {
  const limited = [
    ...new Set(group.flatMap((d) => d.users.filter((u) => (d.limits.get(u) ?? null) !== null))),
  ];
  const used = new Map<UserId, number>();
  if (limited.length === 0) return used;
  const r = await tx.execute({
    sql:
      'SELECT user_id, COALESCE(SUM(total_size), 0) AS used FROM folders ' +
      'WHERE user_id IN (SELECT value FROM json_each(?)) GROUP BY user_id',
    args: [JSON.stringify(limited)],
  });
  for (const row of r.rows) used.set(String(row.user_id), Number(row.used));
  return used;
}

/**
 * The metadata of a group of deliveries, set-based: one read of the INBOX rows, then one statement each
 * for blobs, messages and folder counters whatever the group size. UIDs follow queue order.
 *
 * Quota: a delivery that would take any of its users past their quota (usage plus this message's size,
 * RFC 5321 §4.5.3.1.10's "mailbox full" case) fails as a whole with `over-quota`, storing nothing; the
 * SIZE check at RCPT time cannot see an undeclared size, this one always does.
 */
async function applyDeliveries(
  tx: Transaction,
  fx: Effects,
  group: PendingDelivery[],
): Promise<Array<Delivered | StoreError>> {
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
  const outcomes: Array<Delivered | StoreError> = [];
  const used = await usageOf(tx, group);
  for (const d of group) {
    const missing = d.users.filter((u) => !inbox.has(u));
    if (missing.length > 0) {
      outcomes.push(new StoreError('no-such-user', `no such user ${missing.join(', ')}`));
      continue;
    }
    const full = d.users.filter((u) => {
      const limit = d.limits.get(u) ?? null;
      return limit !== null && (used.get(u) ?? 0) + d.blob.size > limit;
    });
    if (full.length > 0) {
      outcomes.push(new StoreError('over-quota', `quota exceeded by this message for ${full.join(', ')}`));
      continue;
    }
    const nearQuota: UserId[] = [];
    for (const u of d.users) {
      const limit = d.limits.get(u) ?? null;
      if (limit === null) continue;
      const before = used.get(u) ?? 0;
      const after = before + d.blob.size;
      used.set(u, after);
      if (before < limit * QUOTA_WARNING_SHARE && after >= limit * QUOTA_WARNING_SHARE) nearQuota.push(u);
    }
    blobs.push([d.blob.id, d.blob.rel, d.blob.size, d.users.length]);
    const uids = new Map<UserId, number>();
    for (const userId of d.users) {
      const f = inbox.get(userId) as { id: number; uidNext: number; modSeq: number; n: number; size: number };
      const uid = f.uidNext;
      f.uidNext += 1;
      f.modSeq += 1;
      f.n += 1;
      f.size += d.blob.size;
      messages.push([f.id, uid, d.blob.id, d.blob.size, d.internalDate.getTime(), f.modSeq]);
      uids.set(userId, uid);
      fx.events.push({ kind: 'exists', userId, folder: 'INBOX', uid, modSeq: f.modSeq });
    }
    outcomes.push({ uids, nearQuota });
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
