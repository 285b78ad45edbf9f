/**
 * The statistics roll-up (job `stats-rollup`): for each day asked (by default yesterday and today, in the
 * appliance's time zone), one `daily_stats` row per hosted domain with traffic here or homed here:
 * the listeners' counters (traffic-counter.ts), the deferred and bounced deliveries of the queue's
 * delivery log (attributed to the sender's domain) and the domain's active mailboxes. Rolling a day up
 * again replaces its rows, so the job can run as often as wanted.
 */
import { join } from 'node:path';
import { type Actor, type Directory, todayIn } from '@delegato/directory';
import { COUNTERS, type DailyRow, type OperationsDb, readDatabase } from '@delegato/mailstore';
import type { TrafficCounter } from './traffic-counter.js';

const ROLLUP: Actor = { kind: 'system', name: 'job:stats-rollup', from: 'local' };
const DAY_MS = 86_400_000;

/** `day` plus `n` calendar days (`YYYY-MM-DD`). */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

export interface RollupOptions {
  directory: Directory;
  db: OperationsDb;
  counter: TrafficCounter;
  /** The outbound queue's directory (queue.db: the delivery log). */
  queueDir: string;
  region: string;
  timezone: string;
  now?: () => Date;
}

/** Deferred and bounced log entries of `days`, by day and sender domain. */
async function queueOutcomes(opts: RollupOptions, days: string[]) {
  const out = new Map<string, { deferred: number; bounced: number }>();
  const sorted = [...days].sort();
  const first = sorted[0] as string;
  const last = sorted[sorted.length - 1] as string;
  // A day in the appliance's zone lies within a day either side of the same UTC day.
  const rows = await readDatabase(join(opts.queueDir, 'queue.db'), async (c) => {
    const exists = await c.execute("SELECT 1 FROM sqlite_master WHERE name = 'delivery_log'");
    if (exists.rows.length === 0) return [];
    const rs = await c.execute({
      sql: `SELECT at, sender, event FROM delivery_log
            WHERE event IN ('deferred', 'bounced') AND at >= ? AND at < ?`,
      args: [`${addDays(first, -1)}T00:00:00`, `${addDays(last, 2)}T00:00:00`],
    });
    return rs.rows;
  });
  for (const r of rows) {
    const sender = String(r.sender ?? '');
    if (!sender.includes('@')) continue;
    const day = todayIn(opts.timezone, new Date(String(r.at)));
    if (!days.includes(day)) continue;
    const key = `${day} ${sender.slice(sender.lastIndexOf('@') + 1).toLowerCase()}`;
    const v = out.get(key) ?? { deferred: 0, bounced: 0 };
    if (r.event === 'deferred') v.deferred++;
    else v.bounced++;
    out.set(key, v);
  }
  return out;
}

export async function rollUp(
  opts: RollupOptions,
  days?: string[],
): Promise<{ days: string[]; rows: number }> {
  const now = opts.now?.() ?? new Date();
  const today = todayIn(opts.timezone, now);
  const wanted = days ?? [addDays(today, -1), today];
  await opts.counter.flush();
  const domains = await opts.directory.listDomains(ROLLUP);
  const hosted = new Map(domains.map((d) => [d.name.toLowerCase(), d]));
  const outcomes = await queueOutcomes(opts, wanted);
  let total = 0;
  for (const day of wanted) {
    const counts = await opts.db.countsOf(day);
    const rows: DailyRow[] = [];
    for (const [name, d] of hosted) {
      const c = counts.get(name);
      const q = outcomes.get(`${day} ${name}`);
      const home = d.region === opts.region;
      if (!c && !q && !home) continue;
      const row = { day, domain: name, region: opts.region, mailboxes: home ? d.mailboxes : 0 } as DailyRow;
      for (const k of COUNTERS) row[k] = c?.get(k) ?? 0;
      row.deferred += q?.deferred ?? 0;
      row.bounced += q?.bounced ?? 0;
      rows.push(row);
    }
    await opts.db.replaceDay(day, rows, now);
    total += rows.length;
  }
  return { days: wanted, rows: total };
}
