/**
 * Runs the scheduled jobs (declared in one place: declarations.ts) with node-cron. A job never overlaps
 * itself: a tick or `runNow` while it runs joins the run in progress. Every run is logged with its
 * duration and outcome (`job.run`, `job.error`) and remembered for `delegato jobs` (the last run of each
 * job, in memory: a restart forgets them, the log keeps them).
 */
import { type Logger, logEvent, logEventAt } from '@delegato/observability';
import cron, { type ScheduledTask } from 'node-cron';

export interface JobSpec {
  name: string;
  /** cron expression, in the appliance's time zone. */
  schedule: string;
  /** One line for `delegato jobs`. */
  description?: string;
  /** What the job did, for the log and `delegato jobs` (a count, a summary object). */
  run(): Promise<unknown>;
}

export interface JobRun {
  startedAt: string;
  ms: number;
  outcome: 'ok' | 'error';
  /** The job's result (ok) or its error message. */
  detail: string;
}

export interface JobStatus {
  name: string;
  schedule: string;
  description: string;
  running: boolean;
  nextRun: string | null;
  lastRun: JobRun | null;
  runs: number;
  failures: number;
}

export interface Scheduler {
  /** Runs a job now (operators, tests), with the same logging and no overlap guard bypass. */
  runNow(name: string): Promise<unknown>;
  /** Every declared job with its schedule, next and last run. */
  list(): JobStatus[];
  stop(): Promise<void>;
}

/** A job's result as one short line (`delegato jobs`, the `job.run` event). */
export function summarise(result: unknown): string {
  if (result === undefined || result === null) return 'done';
  if (Array.isArray(result)) return `${result.length} item(s)`;
  if (typeof result === 'object') return JSON.stringify(result).slice(0, 200);
  return String(result).slice(0, 200);
}

export function startScheduler(jobs: JobSpec[], opts: { timezone: string; logger: Logger }): Scheduler {
  const names = new Set<string>();
  for (const job of jobs) {
    if (names.has(job.name)) throw new Error(`job ${job.name} is declared twice`);
    if (!cron.validate(job.schedule)) throw new Error(`job ${job.name}: invalid schedule "${job.schedule}"`);
    names.add(job.name);
  }
  const running = new Map<string, Promise<unknown>>();
  const history = new Map<string, { last: JobRun | null; runs: number; failures: number }>(
    jobs.map((j) => [j.name, { last: null, runs: 0, failures: 0 }]),
  );
  let stopped = false;
  const execute = (job: JobSpec): Promise<unknown> => {
    const existing = running.get(job.name);
    if (existing) return existing; // no overlapping runs
    if (stopped) return Promise.reject(new Error('the scheduler is stopped'));
    const started = Date.now();
    const record = (outcome: JobRun['outcome'], detail: string) => {
      const h = history.get(job.name);
      if (!h) return;
      h.last = { startedAt: new Date(started).toISOString(), ms: Date.now() - started, outcome, detail };
      h.runs++;
      if (outcome === 'error') h.failures++;
    };
    const p = Promise.resolve()
      .then(() => job.run())
      .then((result) => {
        const detail = summarise(result);
        record('ok', detail);
        logEvent(opts.logger, 'job.run', { job: job.name, ms: Date.now() - started, outcome: 'ok', detail });
        return result;
      })
      .catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        record('error', message);
        logEventAt(
          opts.logger,
          'error',
          'job.error',
          { job: job.name, ms: Date.now() - started, outcome: 'error', err: message },
          'job failed',
        );
        throw err;
      })
      .finally(() => running.delete(job.name));
    running.set(job.name, p);
    return p;
  };
  const tasks = new Map<string, ScheduledTask>(
    jobs.map((job) => [
      job.name,
      cron.schedule(job.schedule, () => execute(job).catch(() => undefined), {
        name: job.name,
        timezone: opts.timezone,
        noOverlap: true,
      }),
    ]),
  );
  return {
    runNow(name) {
      const job = jobs.find((j) => j.name === name);
      if (!job) return Promise.reject(new Error(`no job ${name}; the jobs: ${[...names].join(', ')}`));
      return execute(job);
    },
    list() {
      return jobs.map((job) => {
        const h = history.get(job.name);
        const next = stopped ? null : (tasks.get(job.name)?.getNextRun() ?? null);
        return {
          name: job.name,
          schedule: job.schedule,
          description: job.description ?? '',
          running: running.has(job.name),
          nextRun: next ? next.toISOString() : null,
          lastRun: h?.last ?? null,
          runs: h?.runs ?? 0,
          failures: h?.failures ?? 0,
        };
      });
    },
    async stop() {
      stopped = true;
      for (const t of tasks.values()) await t.destroy();
      await Promise.allSettled([...running.values()]);
    },
  };
}
