/**
 * `delegato`: the operator's command line. `start` runs the appliance; directory commands go to a running
 * appliance over its control socket, or open the data dir directly when none runs.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { logEvent, logEventAt } from '@delegato/observability';
import { stringify } from 'yaml';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { NoApplianceError, sendControlRequest } from '../control/client.js';
import { controlSocketPath } from '../control/paths.js';
import { dataPaths } from '../data-dir.js';
import { openDirectory } from '../open-directory.js';
import {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  executeCommand,
  GLOBAL_OPTIONS,
  parseCommand,
  UsageError,
  usageText,
} from './commands.js';
import { importFileInput } from './mailbox-bulk.js';

/** Errors are one line on stderr (docs/cli.md): a multi-line message (several config issues) is joined. */
function fail(code: number, message: string): number {
  const line = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ');
  process.stderr.write(`delegato: ${line}\n`);
  return code;
}

function configFrom(file: string | undefined): Config {
  return loadConfig({ file, env: process.env, cwd: process.cwd() });
}

/** Reads all of standard input (used by --password-stdin). */
function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}

async function runStart(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 1) throw new UsageError('usage: delegato start [--config <region file>]');
  const config = configFrom(values.config);
  // Loaded only here: the directory commands need none of the mail services, and loading them all took
  // most of every CLI invocation's start-up time.
  const { SHUTDOWN_DEADLINE_MS, startAppliance } = await import('../appliance.js');
  const app = await startAppliance(config, { out: process.stdout, env: process.env });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logEvent(app.logger, 'appliance.stop', { signal }, 'shutting down');
      const deadline = setTimeout(() => {
        logEventAt(app.logger, 'error', 'appliance.stop', {}, 'shutdown deadline passed; exiting');
        process.exit(EXIT_FAILURE);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      void app.stop().then(resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return EXIT_OK;
}

function runConfig(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const [, sub, file, ...extra] = positionals;
  if (sub === 'show' && file === undefined) {
    const config = configFrom(values.config);
    process.stdout.write(values.json ? `${JSON.stringify(config, null, 2)}\n` : stringify(config));
    return EXIT_OK;
  }
  if (sub === 'check' && extra.length === 0) {
    const target = file ?? values.config;
    configFrom(target);
    process.stdout.write(`${target ?? 'embedded defaults and environment'}: valid\n`);
    return EXIT_OK;
  }
  throw new UsageError(
    'usage: delegato config show [--config <file>] | delegato config check [<region file>]',
  );
}

async function runDirectoryCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: GLOBAL_OPTIONS,
    allowPositionals: true,
    strict: false,
  });
  const config = configFrom(typeof values.config === 'string' ? values.config : undefined);
  // Usage errors (unknown command or option, wrong arity) are reported before the data dir is touched:
  // nothing is created or locked for a mistyped command.
  parseCommand(argv);
  const stdin = argv.includes('--password-stdin') ? readStdin() : importFileInput(argv);
  const user = userInfo().username;
  let result: { code: number; stdout: string; stderr: string };
  try {
    result = await sendControlRequest(
      controlSocketPath(config.data.dir),
      dataPaths(config.data.dir).controlToken,
      {
        user,
        argv,
        ...(stdin !== undefined ? { stdin } : {}),
      },
    );
  } catch (err) {
    if (!(err instanceof NoApplianceError)) throw err;
    const directory = await openDirectory(config);
    let queue: import('@delegato/mta').OutboundQueue | undefined;
    try {
      result = await executeCommand(argv, {
        directory,
        actor: { kind: 'operator', name: `cli:${user}`, from: 'local' },
        ...(stdin !== undefined ? { stdin } : {}),
        purgeMail: async (ids) => {
          // The mail store is opened only when there is mail to purge (loaded lazily, like start).
          const { MailStore } = await import('@delegato/mailstore');
          const store = await MailStore.open({ dir: dataPaths(config.data.dir).mailStore });
          try {
            for (const id of ids) await store.purgeUser(id);
          } finally {
            await store.close();
          }
        },
        queue: async () => {
          const { OutboundQueue } = await import('@delegato/mta');
          queue ??= await OutboundQueue.open({ dir: dataPaths(config.data.dir).queue });
          return queue;
        },
        lists: async () => (await import('../services/lists.js')).offlineModeration(config),
      });
    } finally {
      await queue?.close();
      await directory.close();
    }
  }
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  return result.code;
}

export async function main(argv: string[]): Promise<number> {
  try {
    // The first word that is not an option or an option's value (`--config <file> config show`).
    const [command] = parseArgs({
      args: argv,
      options: GLOBAL_OPTIONS,
      allowPositionals: true,
      strict: false,
    }).positionals;
    if (command === undefined) {
      if (argv.includes('--help') || argv.includes('-h')) {
        process.stdout.write(`${usageText()}\n`);
        return EXIT_OK;
      }
      return fail(EXIT_USAGE, 'no command given; run "delegato --help"');
    }
    if (argv.includes('--help') || argv.includes('-h') || command === 'help') {
      process.stdout.write(`${usageText()}\n`);
      return EXIT_OK;
    }
    if (command === 'start') return await runStart(argv.filter((_, i) => i !== argv.indexOf('start')));
    if (command === 'config') return runConfig(argv);
    if (command === 'federation') return await (await import('./federation.js')).runFederation(argv);
    if (command === 'lab') return await (await import('./lab.js')).runLab(argv);
    if (command === 'dns') return await (await import('./dns.js')).runDns(argv);
    if (command === 'jobs') return await (await import('./jobs.js')).runJobs(argv);
    if (command === 'backup') return await (await import('./backup.js')).runBackup(argv);
    if (command === 'restore') return await (await import('./backup.js')).runRestore(argv);
    return await runDirectoryCommand(argv);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) return fail(EXIT_USAGE, err.message);
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      return fail(EXIT_USAGE, err.message);
    }
    return fail(EXIT_FAILURE, err instanceof Error ? err.message : String(err));
  }
}
