/**
 * Delegato's side of every benchmark: the CLI on a data dir (while no appliance runs), and `delegato start`
 * as a child process with every listener on port 0 (loopback), whose port for the measured protocol is
 * read from the `<name> <host>:<port>` line it prints.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { procStatusBytes, run, stopChild } from './proc.js';

export const REPO = resolve(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'appliance', 'bin', 'delegato.mjs');

export function applianceEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DELEGATO_DATA_DIR: dataDir,
    DELEGATO_LISTEN: '127.0.0.1',
    DELEGATO_OPERATOR_PASSWORD: 'bench-operator-pw',
    DELEGATO_LOG_LEVEL: 'warn',
    DELEGATO_SMTP_MAX_RECIPIENTS: '100',
    // As the Postfix it is compared with (no SPF/DKIM/DMARC milter), and no DNS off the machine: the
    // message-authentication checks of the MX are off (docs/message-authentication.md).
    DELEGATO_AUTH_INBOUND: 'false',
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

/** `delegato <args>` on the data dir (the appliance must not be running); `input` goes to its stdin. */
export function delegatoCli(dataDir: string, args: string[], input?: string) {
  return run(process.execPath, [CLI, ...args], {
    env: applianceEnv(dataDir),
    cwd: REPO,
    ...(input === undefined ? {} : { input }),
  });
}

export interface RunningAppliance {
  pid: number;
  /** The listener's port, from the `<listener> 127.0.0.1:<port>` line. */
  port: number;
  /** From spawn to that line, ms. */
  startupMs: number;
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

export interface StartOptions {
  /** The listener line to wait for: `smtp`, `pop3`, `imap`. */
  listener: string;
  /** Runs the appliance under `ulimit -n <nofile>` (ignored where the limit cannot be raised). */
  nofile?: number;
  timeoutMs?: number;
}

export async function startAppliance(dataDir: string, options: StartOptions): Promise<RunningAppliance> {
  const { listener, nofile, timeoutMs = 60_000 } = options;
  const spawnedAt = performance.now();
  // With `nofile` (e.g. 1,000+ IDLE sockets), a shell raises the limit and execs node in its place.
  const [cmd, args] =
    nofile === undefined
      ? [process.execPath, [CLI, 'start']]
      : [
          'sh',
          ['-c', `ulimit -n ${nofile} 2>/dev/null || true; exec "$0" "$@"`, process.execPath, CLI, 'start'],
        ];
  const child: ChildProcess = spawn(cmd, args, {
    env: applianceEnv(dataDir),
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
  const line = new RegExp(`^${listener}\\s+[\\d.]+:(\\d+)\\s*$`, 'm');
  const article = /^[aeiosx]/.test(listener) ? 'an' : 'a';
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(`no "${listener}" line from delegato start within ${timeoutMs} ms:\n${stdout}${stderr}`),
      );
    }, timeoutMs);
    child.stdout?.on('data', () => {
      const m = line.exec(stdout);
      if (m?.[1]) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `delegato start exited (${code ?? signal}) before ${article} ${listener} line:\n${stdout}${stderr}`,
        ),
      );
    });
  }).catch(async (err) => {
    await stopChild(child);
    throw err;
  });
  const startupMs = performance.now() - spawnedAt;
  const pid = child.pid as number;
  return {
    pid,
    port,
    startupMs,
    peakRss: () => procStatusBytes(pid, 'VmHWM'),
    rss: () => procStatusBytes(pid, 'VmRSS'),
    stop: () => stopChild(child),
    stdout: () => stdout,
    stderr: () => stderr,
  };
}
