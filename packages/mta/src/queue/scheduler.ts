/**
 * Retry scheduling and concurrency: the loop that looks for due recipients (on start, on every enqueue,
 * every freed slot and every poll interval), groups them into jobs by message and destination (a remote
 * domain or a peer region), and starts the jobs that fit the limits (per destination, overall). A job that
 * fails unexpectedly (a store error) cools its recipients down for one poll interval. When each recipient is
 * due again is the retry schedule's business (settle.ts).
 */

import { logEventAt } from '@delegato/observability';
import type { StoredMessage } from './outbound-queue.js';
import type { Job, WorkerContext } from './worker-context.js';

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

export class Scheduler {
  readonly #c: WorkerContext;
  /** Runs one job to its outcomes. */
  readonly #run: (job: Job) => Promise<void>;
  /** Hands committed outcomes to the DSN generator before each pass. */
  readonly #beforePass: () => Promise<void>;
  readonly #active = new Map<string, number>();
  /** Recipients whose job failed unexpectedly (a store error): left alone until the time given. */
  readonly #cooldown = new Map<number, number>();
  readonly #running = new Set<Promise<void>>();
  #total = 0;
  #started = false;
  #stopping = false;
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #tickAgain = false;
  #unsubscribe: (() => void) | undefined;

  constructor(ctx: WorkerContext, run: (job: Job) => Promise<void>, beforePass: () => Promise<void>) {
    this.#c = ctx;
    this.#run = run;
    this.#beforePass = beforePass;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#stopping = false;
    this.#unsubscribe = this.#c.o.queue.onEnqueued(() => this.kick());
    this.kick();
  }

  kick(): void {
    if (!this.#started || this.#stopping) return;
    this.#arm(0);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#started = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  async runOnce(): Promise<void> {
    await this.#beforePass();
    const seen = new Set<number>();
    for (;;) {
      const started = await this.#pass(seen);
      if (this.#running.size === 0 && started === 0) break;
      if (started === 0) await Promise.race(this.#running);
    }
  }

  #arm(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#ticking) {
      this.#tickAgain = true;
      return;
    }
    this.#ticking = true;
    let wait = this.#c.pollMs;
    try {
      await this.#beforePass();
      await this.#pass();
      // Past-due work is in flight, cooling down or waiting for a slot: a finished job kicks the loop.
      const next = await this.#c.o.queue.nextDueAt();
      const until = next ? next.getTime() - this.#c.now().getTime() : wait;
      if (until > 0) wait = Math.min(wait, until);
    } catch (err) {
      logEventAt(
        this.#c.o.logger,
        'error',
        'queue.error',
        { err: (err as Error).message },
        'queue pass failed',
      );
    } finally {
      this.#ticking = false;
    }
    if (this.#stopping || !this.#started) return;
    if (this.#tickAgain) {
      this.#tickAgain = false;
      wait = 0;
    }
    this.#arm(Math.max(wait, 10));
  }

  /** Starts the due jobs that fit in the limits; returns how many were started. */
  async #pass(seen?: Set<number>): Promise<number> {
    if (this.#stopping) return 0;
    const c = this.#c;
    const nowMs = c.now().getTime();
    for (const [id, until] of this.#cooldown) if (until <= nowMs) this.#cooldown.delete(id);
    const skipped = new Set<number>();
    let started = 0;
    for (let round = 0; round < 10 && this.#total < c.max; round++) {
      const exclude = [...c.inFlight, ...this.#cooldown.keys(), ...skipped, ...(seen ?? [])];
      const due = await c.o.queue.due({
        now: c.now(),
        limit: c.o.batchSize ?? 500,
        exclude,
      });
      if (due.length === 0 || this.#stopping) break;
      for (const job of jobsOf(due)) {
        const active = this.#active.get(job.key) ?? 0;
        if (this.#total >= c.max || active >= c.perDestination) {
          for (const r of job.recipients) skipped.add(r.id);
          continue;
        }
        for (const r of job.recipients) seen?.add(r.id);
        this.#startJob(job);
        started++;
      }
    }
    return started;
  }

  #startJob(job: Job): void {
    const c = this.#c;
    for (const r of job.recipients) c.inFlight.add(r.id);
    this.#active.set(job.key, (this.#active.get(job.key) ?? 0) + 1);
    this.#total++;
    const run = this.#run(job)
      .catch((err) => {
        const until = c.now().getTime() + c.pollMs;
        for (const r of job.recipients) this.#cooldown.set(r.id, until);
        logEventAt(
          c.o.logger,
          'error',
          'queue.error',
          { id: job.message.id, err: (err as Error).message },
          'delivery failed unexpectedly',
        );
      })
      .finally(() => {
        for (const r of job.recipients) c.inFlight.delete(r.id);
        const left = (this.#active.get(job.key) ?? 1) - 1;
        if (left <= 0) this.#active.delete(job.key);
        else this.#active.set(job.key, left);
        this.#total--;
        this.#running.delete(run);
        this.kick();
      });
    this.#running.add(run);
  }
}

/** The due messages' recipients as jobs: one per message and destination (domain, or peer region). */
function jobsOf(messages: StoredMessage[]): Job[] {
  const jobs: Job[] = [];
  for (const message of messages) {
    const byKey = new Map<string, Job>();
    for (const r of message.recipients) {
      const region = r.route === 'region' ? (r.region ?? '') : undefined;
      const domain = domainOf(r.address);
      const key = region !== undefined ? `region:${region}` : `domain:${domain}`;
      let job = byKey.get(key);
      if (!job) {
        job = { key, message, recipients: [], domain, ...(region !== undefined ? { region } : {}) };
        byKey.set(key, job);
        jobs.push(job);
      }
      job.recipients.push(r);
    }
  }
  return jobs;
}
