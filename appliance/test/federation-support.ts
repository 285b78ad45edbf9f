/**
 * Shared by the federation-*.test.ts files: the real `delegato` command in a child process, and regions'
 * appliances started in this process.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@delegato/observability';
import { type RunningAppliance, startAppliance } from '../src/appliance.js';
import type { Config } from '../src/config/schema.js';
import { testConfig } from './appliance-support.js';

export const BIN = fileURLToPath(new URL('../bin/delegato.mjs', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `delegato <args>` as a real process in `cwd`; `env` is added to an environment without the caller's
 * DELEGATO_* variables. Resolves when it has exited (killed after `timeoutMs`).
 */
export function runCli(
  args: string[],
  opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('DELEGATO_')) env[key] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      env: { ...env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === null) reject(new Error(`delegato ${args.join(' ')} killed by ${signal}\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

/** Expects the CLI's error style: exit `code`, nothing on stdout, one `delegato: ...` line on stderr. */
export function refusal(result: CliResult): { code: number; line: string; lines: number; stdout: string } {
  const lines = result.stderr.split('\n').filter(Boolean);
  return { code: result.code, line: lines[0] ?? '', lines: lines.length, stdout: result.stdout };
}

/** True while `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Starts a region's appliance in this process. With `log`, its JSON log lines (info and up) are collected
 * there, for tests that look for events; without, only warnings are logged, and dropped.
 */
export function startRegion(config: Config, log?: Array<Record<string, unknown>>): Promise<RunningAppliance> {
  const out = new PassThrough();
  if (log)
    out.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim()) log.push(JSON.parse(line) as Record<string, unknown>);
    });
  else out.resume();
  return startAppliance(config, {
    out: new PassThrough(),
    env: { DELEGATO_OPERATOR_PASSWORD: 'operator-test-pw' },
    logger: createLogger({ level: log ? 'info' : 'warn', destination: out }),
  });
}

/** The port of one of a running appliance's listeners, by name (`smtp`, `imap`, `federation`, …). */
export function listenerPort(app: RunningAppliance, name: string): number {
  const l = app.listeners.find((x) => x.name === name);
  if (!l) throw new Error(`no ${name} listener (have: ${app.listeners.map((x) => x.name).join(', ')})`);
  return l.port;
}

/** How many messages a user's INBOX holds in that appliance's mail store. */
export async function inboxCount(app: RunningAppliance, userId: string): Promise<number> {
  return (await app.store.snapshot(userId, 'INBOX')).messages.length;
}

/**
 * Starts several regions on ports picked beforehand (`pick` chooses free ports and returns the configs):
 * another test process may take such a port between the pick and the bind, so on EADDRINUSE whatever
 * started is stopped and the whole pick is made again (at most `attempts` times).
 */
export async function startRegionsOnFreePorts(
  pick: () => Promise<Array<{ config: Config; log?: Array<Record<string, unknown>> }>>,
  attempts = 5,
): Promise<RunningAppliance[]> {
  for (let attempt = 1; ; attempt++) {
    const wanted = await pick();
    const started = await Promise.allSettled(wanted.map((w) => startRegion(w.config, w.log)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (!failed) return started.map((s) => (s as PromiseFulfilledResult<RunningAppliance>).value);
    for (const s of started) if (s.status === 'fulfilled') await s.value.stop();
    const taken = String((failed.reason as { code?: string })?.code ?? failed.reason).includes('EADDRINUSE');
    if (!taken || attempt >= attempts) throw failed.reason;
  }
}

/**
 * A region of a replicated federation run in this process (no mail between regions: peers' SMTP port 1):
 * `hubRegion` runs the hub and its sync gateway on its port.sync, every other region syncs through it, and
 * every region's federation API is listed in `federation.peers` (`syncPorts`, one per region).
 */
export function federatedRegionConfig(opts: {
  root: string;
  dataDir: string;
  region: string;
  syncPorts: Record<string, number>;
  hubRegion?: string;
}): Config {
  const hub = opts.hubRegion ?? 'north';
  const config = testConfig(opts.root, {
    DELEGATO_DATA_DIR: opts.dataDir,
    DELEGATO_REGION_ID: opts.region,
    DELEGATO_SMTP_HOSTNAME: `mx.${opts.region}.example`,
    DELEGATO_PORT_SYNC: String(opts.syncPorts[opts.region]),
    DELEGATO_FEDERATION_HUB_REGION: hub,
    ...(opts.region === hub
      ? { DELEGATO_FEDERATION_HUB: 'true' }
      : { DELEGATO_FEDERATION_HUB_URL: `https://127.0.0.1:${opts.syncPorts[hub]}` }),
  });
  config.federation.peers = Object.entries(opts.syncPorts).map(([region, syncPort]) => ({
    region,
    host: '127.0.0.1',
    port: 1,
    syncPort,
  }));
  return config;
}
