/**
 * Delegato's side: a fresh data dir with one domain and one mailbox (made with the CLI, which opens the
 * data dir directly while no appliance runs), then `delegato start` as a child process whose MX listener
 * (DELEGATO_PORT_SMTP=0) is read from the `smtp <host>:<port>` line it prints.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Client, createClient } from '@libsql/client';
import { procStatusBytes, run, stopChild } from './util.js';

export const OUR_DOMAIN = 'bench.example';
export const OUR_RECIPIENT = 'bench.user@bench.example';
/** The mail store's message table (packages/mailstore/src/store.ts). */
const MESSAGES_TABLE = 'messages';

const REPO = resolve(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'appliance', 'bin', 'delegato.mjs');

export function applianceEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DELEGATO_DATA_DIR: dataDir,
    DELEGATO_LISTEN: '127.0.0.1',
    DELEGATO_OPERATOR_PASSWORD: 'bench-operator-pw',
    DELEGATO_LOG_LEVEL: 'warn',
    DELEGATO_SMTP_MAX_RECIPIENTS: '100',
  };
  for (const p of [
    'SMTP',
    'SUBMISSION',
    'SUBMISSIONS',
    'IMAP',
    'IMAPS',
    'POP3',
    'POP3S',
    'ADMIN',
    'WEB',
    'FEDERATION',
  ]) {
    env[`DELEGATO_PORT_${p}`] = '0';
  }
  return env;
}

function cli(args: string[], env: NodeJS.ProcessEnv) {
  return run(process.execPath, [CLI, ...args], { env, cwd: REPO });
}

export interface RunningOurs {
  pid: number;
  smtpPort: number;
  /** From spawn to the `smtp` line, ms. */
  startupMs: number;
  storeDb: string;
  /** Messages in the mail store, read through a second (reader) connection; undefined if unreadable. */
  count(): Promise<number | undefined>;
  /** VmHWM of the appliance's node process, bytes. */
  peakRss(): number | undefined;
  /** VmRSS now, bytes. */
  rss(): number | undefined;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
  /** What the appliance wrote on stdout (its listeners) and stderr (log lines at warn and above). */
  stdout(): string;
  stderr(): string;
}

/** Creates the data dir's domain and mailbox with the CLI. */
export async function prepareOurs(dataDir: string): Promise<void> {
  const env = applianceEnv(dataDir);
  await cli(['domain', 'add', OUR_DOMAIN], env);
  await cli(['mailbox', 'add', OUR_DOMAIN, '--first', 'Bench', '--last', 'User'], env);
}

export async function startOurs(dataDir: string, timeoutMs = 60_000): Promise<RunningOurs> {
  const env = applianceEnv(dataDir);
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, [CLI, 'start'], {
    env,
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const smtpPort = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no "smtp" line from delegato start within ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.stdout?.on('data', () => {
      const m = /^smtp\s+[\d.]+:(\d+)\s*$/m.exec(stdout);
      if (m?.[1]) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`delegato start exited (${code ?? signal}) before an smtp line:\n${stdout}${stderr}`));
    });
  }).catch(async (err) => {
    await stopChild(child);
    throw err;
  });
  const startupMs = performance.now() - spawnedAt;
  const pid = child.pid as number;
  const storeDb = join(dataDir, 'mailstore', 'mailstore.db');
  let reader: Client | undefined;
  return {
    pid,
    smtpPort,
    startupMs,
    storeDb,
    count: async () => {
      try {
        reader ??= createClient({ url: pathToFileURL(storeDb).href });
        const rs = await reader.execute(`SELECT count(*) FROM ${MESSAGES_TABLE}`);
        return Number(rs.rows[0]?.[0]);
      } catch {
        return undefined;
      }
    },
    peakRss: () => procStatusBytes(pid, 'VmHWM'),
    rss: () => procStatusBytes(pid, 'VmRSS'),
    stop: async () => {
      reader?.close();
      reader = undefined;
      await stopChild(child);
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

/** Counts the stored messages with a separate `node -e` process, after the appliance has stopped. */
export async function countStoredAfterStop(storeDb: string): Promise<number> {
  const script = `
    const { createClient } = await import('@libsql/client');
    const db = createClient({ url: ${JSON.stringify(pathToFileURL(storeDb).href)} });
    const rs = await db.execute('SELECT count(*) FROM ${MESSAGES_TABLE}');
    console.log(String(rs.rows[0][0]));
    db.close();`;
  const r = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO });
  return Number(r.stdout.trim());
}
