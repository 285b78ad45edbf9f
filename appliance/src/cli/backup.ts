/**
 * `delegato backup <dir> [--keep <n>]`: a consistent snapshot of the data dir into `<dir>`, taken by the
 * running appliance (or by the CLI itself when none runs); incremental after the first (jobs/backup.ts).
 * `delegato restore <dir> [--snapshot <id>]`: restores the newest (or the named) snapshot into the
 * configured data dir (DELEGATO_DATA_DIR), which must be fresh; the appliance must be stopped.
 */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Directory } from '@delegato/directory';
import { loadConfig } from '../config/load.js';
import { NoApplianceError, sendControlRequest } from '../control/client.js';
import { controlSocketPath } from '../control/paths.js';
import { dataPaths } from '../data-dir.js';
import { type BackupResult, restoreBackup, takeBackup } from '../jobs/backup.js';
import { openDirectory } from '../open-directory.js';
import { type CommandResult, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './commands.js';

export const BACKUP_USAGE = 'usage: delegato backup <dir> [--keep <n>] [--json]';
export const RESTORE_USAGE = 'usage: delegato restore <dir> [--snapshot <id>]';

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean' },
      keep: { type: 'string' },
      snapshot: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [command, dir, ...extra] = positionals;
  const usage = command === 'restore' ? RESTORE_USAGE : BACKUP_USAGE;
  if (!dir || extra.length > 0) throw new UsageError(usage);
  const keep = values.keep === undefined ? undefined : Number(values.keep);
  if (keep !== undefined && (!Number.isInteger(keep) || keep < 1))
    throw new UsageError(`--keep takes a whole number of snapshots, at least 1 (${BACKUP_USAGE})`);
  return { values, dir: resolve(dir), keep };
}

export function backupText(r: BackupResult, json: boolean): string {
  if (json) return `${JSON.stringify(r)}\n`;
  return (
    `backup ${r.snapshot} in ${r.dir}: ${r.blobs} message file(s), ${r.spool} queued message(s); ` +
    `copied ${r.filesCopied} file(s), ${r.bytesCopied} bytes` +
    (r.removed.length > 0 ? `; removed old snapshot(s) ${r.removed.join(', ')}` : '') +
    '\n'
  );
}

/** The appliance side of `backup <dir>` on the control socket; undefined for other commands. */
export function backupControl(run: (dir: string, keep: number | undefined) => Promise<BackupResult>) {
  return (argv: string[]): Promise<CommandResult> | undefined => {
    if (argv.filter((a) => !a.startsWith('-'))[0] !== 'backup') return undefined;
    return (async () => {
      try {
        const { values, dir, keep } = parse(argv);
        return { code: EXIT_OK, stdout: backupText(await run(dir, keep), values.json === true), stderr: '' };
      } catch (err) {
        const usage = err instanceof UsageError;
        return {
          code: usage ? EXIT_USAGE : EXIT_FAILURE,
          stdout: '',
          stderr: `delegato: ${usage ? '' : 'backup failed: '}${(err as Error).message}\n`,
        };
      }
    })();
  };
}

export async function runBackup(argv: string[]): Promise<number> {
  const { values, dir, keep } = parse(argv);
  const config = loadConfig({ file: values.config, env: process.env, cwd: process.cwd() });
  const paths = dataPaths(config.data.dir);
  try {
    // The directory made absolute: the appliance's working directory is not the caller's.
    const forward = [
      'backup',
      dir,
      ...(keep ? ['--keep', String(keep)] : []),
      ...(values.json ? ['--json'] : []),
    ];
    const res = await sendControlRequest(controlSocketPath(config.data.dir), paths.controlToken, {
      user: userInfo().username,
      argv: forward,
    });
    process.stdout.write(res.stdout);
    process.stderr.write(res.stderr);
    return res.code;
  } catch (err) {
    if (!(err instanceof NoApplianceError)) throw err;
  }
  // No appliance runs: this process owns the data dir for the time of the backup.
  const directory: Directory = await openDirectory(config);
  try {
    const r = await takeBackup({
      dataDir: config.data.dir,
      backupDir: dir,
      directory,
      region: config.region.id,
      ...(keep ? { keep } : {}),
    });
    process.stdout.write(backupText(r, values.json === true));
    return EXIT_OK;
  } finally {
    await directory.close();
  }
}

export async function runRestore(argv: string[]): Promise<number> {
  const { values, dir } = parse(argv);
  const config = loadConfig({ file: values.config, env: process.env, cwd: process.cwd() });
  const running = await sendControlRequest(
    controlSocketPath(config.data.dir),
    dataPaths(config.data.dir).controlToken,
    { user: userInfo().username, argv: ['jobs'] },
  ).then(
    () => true,
    (err) => !(err instanceof NoApplianceError),
  );
  if (running) {
    process.stderr.write(
      `delegato: an appliance is running on ${config.data.dir}: stop it before a restore\n`,
    );
    return EXIT_FAILURE;
  }
  const r = await restoreBackup({
    backupDir: dir,
    dataDir: config.data.dir,
    ...(values.snapshot ? { snapshot: values.snapshot } : {}),
  });
  process.stdout.write(
    `restored backup ${r.snapshot} into ${config.data.dir}: ${r.messages} message file(s), ${r.spool} queued message(s)\n`,
  );
  return EXIT_OK;
}
