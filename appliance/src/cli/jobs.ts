/**
 * `delegato jobs [--json]`: the scheduled jobs of the running appliance (schedule, next run, last run with
 * its duration and outcome); `delegato jobs run <name>`: runs one now and waits for it (a run already
 * in progress is joined, never doubled).
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { NoApplianceError, sendControlRequest } from '../control/client.js';
import { controlSocketPath } from '../control/paths.js';
import { dataPaths } from '../data-dir.js';
import type { JobStatus, Scheduler } from '../jobs/scheduler.js';
import { summarise } from '../jobs/scheduler.js';
import { type CommandResult, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './commands.js';

export const JOBS_USAGE = 'usage: delegato jobs [--json] | delegato jobs run <name>';

/** The table `delegato jobs` prints. */
export function jobsTable(jobs: JobStatus[]): string {
  const rows = jobs.map((j) => [
    j.name,
    j.schedule,
    j.running ? 'running' : (j.nextRun ?? '-'),
    j.lastRun
      ? `${j.lastRun.startedAt} ${j.lastRun.outcome} ${j.lastRun.ms} ms: ${j.lastRun.detail}`
      : 'never',
  ]);
  const head = ['JOB', 'SCHEDULE', 'NEXT', 'LAST RUN'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows]
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}

/** The appliance side: answers `jobs ...` on the control socket; undefined for any other command. */
export function jobsControl(scheduler: () => Scheduler | undefined) {
  return (argv: string[]): Promise<CommandResult> | undefined => {
    const words = argv.filter((a) => !a.startsWith('-'));
    if (words[0] !== 'jobs') return undefined;
    const json = argv.includes('--json');
    return (async () => {
      const s = scheduler();
      if (!s) return { code: EXIT_FAILURE, stdout: '', stderr: 'delegato: the scheduler is not running\n' };
      if (words.length === 1) {
        const list = s.list();
        return {
          code: EXIT_OK,
          stdout: json ? `${JSON.stringify(list, null, 2)}\n` : `${jobsTable(list)}\n`,
          stderr: '',
        };
      }
      if (words[1] === 'run' && words.length === 3) {
        const name = words[2] as string;
        try {
          const result = await s.runNow(name);
          const status = s.list().find((j) => j.name === name);
          return {
            code: EXIT_OK,
            stdout: json
              ? `${JSON.stringify({ job: name, result, lastRun: status?.lastRun ?? null })}\n`
              : `${name}: ok in ${status?.lastRun?.ms ?? 0} ms: ${summarise(result)}\n`,
            stderr: '',
          };
        } catch (err) {
          return {
            code: EXIT_FAILURE,
            stdout: '',
            stderr: `delegato: job ${name} failed: ${err instanceof Error ? err.message : String(err)}\n`,
          };
        }
      }
      return { code: EXIT_USAGE, stdout: '', stderr: `delegato: ${JOBS_USAGE}\n` };
    })();
  };
}

/** The CLI side: the jobs run inside the appliance, so this needs a running one. */
export async function runJobs(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const config = loadConfig({ file: values.config, env: process.env, cwd: process.cwd() });
  try {
    const res = await sendControlRequest(
      controlSocketPath(config.data.dir),
      dataPaths(config.data.dir).controlToken,
      { user: userInfo().username, argv },
    );
    process.stdout.write(res.stdout);
    process.stderr.write(res.stderr);
    return res.code;
  } catch (err) {
    if (!(err instanceof NoApplianceError)) throw err;
    process.stderr.write(
      `delegato: no appliance is running on ${config.data.dir}: the jobs run inside it (delegato start)\n`,
    );
    return EXIT_FAILURE;
  }
}
