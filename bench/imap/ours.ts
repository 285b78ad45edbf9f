/**
 * Delegato's side: the data dir and the filled mail store come from bench/pop3 (prepareOurs, fillOurs);
 * here `delegato start` runs as a child process whose IMAP listener (DELEGATO_PORT_IMAP=0) is read from
 * the `imap <host>:<port>` line it prints. IMAP without TLS: LOGIN is allowed from loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { applianceEnv } from '../smtp-inbound/ours.js';
import { procStatusBytes, stopChild } from '../smtp-inbound/util.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const CLI = join(REPO, 'appliance', 'bin', 'delegato.mjs');

export interface RunningOurs {
  pid: number;
  imapPort: number;
  startupMs: number;
  rss(): number | undefined;
  peakRss(): number | undefined;
  stop(): Promise<void>;
  stderr(): string;
}

export async function startOurs(dataDir: string, timeoutMs = 60_000): Promise<RunningOurs> {
  const spawnedAt = performance.now();
  // The IDLE phase holds 1,000+ sockets: give the appliance room (ulimit -n in its environment).
  const child: ChildProcess = spawn(
    'sh',
    ['-c', 'ulimit -n 20000 2>/dev/null || true; exec "$0" "$@"', process.execPath, CLI, 'start'],
    { env: applianceEnv(dataDir), cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const imapPort = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no "imap" line from delegato start within ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.stdout?.on('data', () => {
      const m = /^imap\s+[\d.]+:(\d+)\s*$/m.exec(stdout);
      if (m?.[1]) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`delegato start exited (${code ?? signal}) before an imap line:\n${stdout}${stderr}`));
    });
  }).catch(async (err) => {
    await stopChild(child);
    throw err;
  });
  const pid = child.pid as number;
  return {
    pid,
    imapPort,
    startupMs: performance.now() - spawnedAt,
    rss: () => procStatusBytes(pid, 'VmRSS'),
    peakRss: () => procStatusBytes(pid, 'VmHWM'),
    stop: () => stopChild(child),
    stderr: () => stderr,
  };
}
