/**
 * Delegato's side: a fresh data dir with one domain and one mailbox with a password (the CLI, which opens
 * the data dir directly while no appliance runs), the maildrop delivered straight into the mail store
 * (fill.ts, a child process), then `delegato start` as a child process whose POP3 listener
 * (DELEGATO_PORT_POP3=0) is read from the `pop3 <host>:<port>` line it prints.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { applianceEnv } from '../smtp-inbound/ours.js';
import { procStatusBytes, run, stopChild } from '../smtp-inbound/util.js';

export const OUR_DOMAIN = 'bench.example';

const REPO = resolve(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'appliance', 'bin', 'delegato.mjs');
const FILL = join(import.meta.dirname, 'fill.ts');

export interface FillResult {
  id: string;
  delivered: number;
  bytes: number;
  ms: number;
}

/** Creates the domain and the mailbox (bench.user@bench.example) with the CLI. */
export async function prepareOurs(dataDir: string, login: string, password: string): Promise<void> {
  const env = applianceEnv(dataDir);
  await run(process.execPath, [CLI, 'domain', 'add', OUR_DOMAIN], { env, cwd: REPO });
  const r = await run(
    process.execPath,
    [CLI, 'mailbox', 'add', OUR_DOMAIN, '--first', 'Bench', '--last', 'User', '--password-stdin'],
    { env, cwd: REPO, input: `${password}\n` },
  );
  if (!r.stdout.includes(login)) throw new Error(`mailbox add did not create ${login}:\n${r.stdout}`);
}

/** Delivers the maildrop into the mail store directly (no appliance running). */
export async function fillOurs(dataDir: string, login: string, count: number): Promise<FillResult> {
  const r = await run(process.execPath, ['--import', 'tsx', FILL, dataDir, login, String(count)], {
    cwd: REPO,
    env: { ...process.env, DELEGATO_LOG_LEVEL: 'warn' },
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as FillResult;
}

export interface RunningOurs {
  pid: number;
  pop3Port: number;
  startupMs: number;
  peakRss(): number | undefined;
  rss(): number | undefined;
  stop(): Promise<void>;
  stderr(): string;
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
  const pop3Port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no "pop3" line from delegato start within ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.stdout?.on('data', () => {
      const m = /^pop3\s+[\d.]+:(\d+)\s*$/m.exec(stdout);
      if (m?.[1]) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`delegato start exited (${code ?? signal}) before a pop3 line:\n${stdout}${stderr}`));
    });
  }).catch(async (err) => {
    await stopChild(child);
    throw err;
  });
  const pid = child.pid as number;
  return {
    pid,
    pop3Port,
    startupMs: performance.now() - spawnedAt,
    peakRss: () => procStatusBytes(pid, 'VmHWM'),
    rss: () => procStatusBytes(pid, 'VmRSS'),
    stop: () => stopChild(child),
    stderr: () => stderr,
  };
}
