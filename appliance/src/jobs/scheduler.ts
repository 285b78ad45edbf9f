/**
 * The scheduled jobs, declared in one table (node-cron, no overlapping runs). Each run is logged
 * (`job.run`, `job.error`).
 */
import { type Logger, logEvent, logEventAt } from '@delegato/observability';
import cron from 'node-cron';

export interface JobSpec {
  name: string;
  /** cron expression, in the appliance's time zone. */
  schedule: string;
  run(): Promise<unknown>;
}

export interface Scheduler {
  /** Runs a job now (operators, tests), with the same logging and no overlap guard bypass. */
  runNow(name: string): Promise<unknown>;
  stop(): Promise<void>;
}

export function startScheduler(jobs: JobSpec[], opts: { timezone: string; logger: Logger }): Scheduler {
  const running = new Map<string, Promise<unknown>>();
  const execute = (job: JobSpec): Promise<unknown> => {
    const existing = running.get(job.name);
    if (existing) return existing; // no overlapping runs
    const started = Date.now();
    const p = job
      .run()
      .then((result) => {
        logEvent(opts.logger, 'job.run', { job: job.name, ms: Date.now() - started });
        return result;
      })
      .catch((err: unknown) => {
        logEventAt(
          opts.logger,
          'error',
          'job.error',
          { job: job.name, err: (err as Error).message },
          'job failed',
        );
        throw err;
      })
      .finally(() => running.delete(job.name));
    running.set(job.name, p);
    return p;
  };
  const tasks = jobs.map((job) =>
    cron.schedule(job.schedule, () => execute(job).catch(() => undefined), {
      name: job.name,
      timezone: opts.timezone,
      noOverlap: true,
    }),
  );
  return {
    runNow(name) {
      const job = jobs.find((j) => j.name === name);
      if (!job) return Promise.reject(new Error(`no job ${name}`));
      return execute(job);
    },
    async stop() {
      for (const t of tasks) await t.destroy();
      await Promise.allSettled([...running.values()]);
    },
  };
}
