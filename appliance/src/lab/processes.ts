/**
 * The lab's processes: appliances started detached (they outlive `delegato lab up`), found again by the
 * PIDs in lab.json, and signalled only after /proc shows that the PID is still ours (a PID may have been
 * reused since): the appliance by its command line (`delegato.mjs start --config <its region file>`), the
 * hub by tursodb on the lab's hub database.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { get } from 'node:https';
import { createServer, type Server } from 'node:net';

export function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** True while `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** The lab appliance of `regionFile`, alive. */
export function isOurAppliance(pid: number | null, regionFile: string): pid is number {
  if (pid === null || !isAlive(pid)) return false;
  const argv = commandLine(pid) ?? [];
  return argv.some((a) => a.endsWith('delegato.mjs')) && argv.includes('start') && argv.includes(regionFile);
}

/** The lab's tursodb on `hubDb`, alive. */
export function isOurHub(pid: number | null, hubDb: string): pid is number {
  if (pid === null || !isAlive(pid)) return false;
  const argv = commandLine(pid) ?? [];
  return (argv[0] ?? '').endsWith('tursodb') && argv.includes(hubDb);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** SIGTERM, SIGKILL after `graceMs`; resolves once the process is gone. */
export async function terminate(pid: number, graceMs: number): Promise<'SIGTERM' | 'SIGKILL' | 'gone'> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'gone';
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (!isAlive(pid)) return 'SIGTERM';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
  while (isAlive(pid)) await sleep(25);
  return 'SIGKILL';
}

/** Starts `delegato start --config <file>` detached, its output appended to `log`; returns its PID. */
export function spawnAppliance(opts: {
  bin: string;
  regionFile: string;
  cwd: string;
  log: string;
  env: Record<string, string>;
}): number {
  // DELEGATO_* of the caller (DELEGATO_DATA_DIR, ports...) would override the region file: not passed on.
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('DELEGATO_')) env[key] = value;
  }
  const fd = openSync(opts.log, 'a', 0o600);
  try {
    const child = spawn(process.execPath, [opts.bin, 'start', '--config', opts.regionFile], {
      cwd: opts.cwd,
      env: { ...env, ...opts.env },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${opts.bin}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** GET https://host:port/healthz (self-signed lab certificates); resolves with the status, 0 on error. */
export function healthz(host: string, port: number): Promise<number> {
  return new Promise((done) => {
    const req = get(
      { host, port, path: '/healthz', rejectUnauthorized: false, agent: false, timeout: 2_000 },
      (res) => {
        res.resume();
        done(res.statusCode ?? 0);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(0));
  });
}

/** Waits until /healthz answers 200; fails when the process exits or the deadline passes. */
export async function waitHealthy(opts: {
  pid: number;
  host: string;
  port: number;
  timeoutMs: number;
  log: string;
}): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if ((await healthz(opts.host, opts.port)) === 200) return;
    if (!isAlive(opts.pid)) throw new Error(`the appliance exited during start-up: ${logTail(opts.log)}`);
    if (Date.now() > deadline) {
      throw new Error(
        `no /healthz answer on ${opts.host}:${opts.port} within ${opts.timeoutMs} ms: ${logTail(opts.log)}`,
      );
    }
    await sleep(100);
  }
}

/** The last lines of a log, one line (for error messages). */
export function logTail(file: string, lines = 4): string {
  try {
    const text = readFileSync(file, 'utf8').trim().split('\n').slice(-lines);
    return text.map((l) => l.slice(0, 300)).join(' | ');
  } catch {
    return '(no log)';
  }
}

/**
 * `count` TCP ports that are free on `host` now, all different: each server is kept open until all are
 * chosen. (A port may still be taken by someone else before the appliance binds it: start-up then fails
 * with EADDRINUSE, and `lab up` says so.)
 */
export async function freePorts(host: string, count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((done, fail) => {
          server.once('error', fail);
          server.listen(0, host, () => {
            const address = server.address();
            if (typeof address === 'object' && address) done(address.port);
            else fail(new Error('no port'));
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((done) => s.close(() => done()))));
  }
}
