/**
 * The replication hub: `tursodb --sync-server` on loopback, supervised by the hub region's appliance.
 *
 * We spawn the `tursodb` binary of the `turso` package's platform dependency ourselves, never the `turso`
 * wrapper: the wrapper runs tursodb with spawnSync, and signalling the wrapper orphans tursodb, which keeps
 * the port and the database file lock (docs/federation.md, "Measured facts"). Measured on tursodb 0.6.0:
 *
 * - `tursodb --sync-server 127.0.0.1:<port> <file>` prints nothing when ready and has no health path (every
 *   GET answers 404); a Hrana `SELECT 1` on `POST /v2/pipeline` tells that it serves (0.1-0.2 s after the
 *   spawn). Every answer carries `Connection: close`. A taken port: exit status 1, "Address already in use".
 * - A second tursodb on the same file exits with status 1 and "File is locked by another process".
 * - It dies on SIGTERM (no handler). If our process dies, it would run on as an orphan: we start it through
 *   `setpriv --pdeathsig SIGTERM` (util-linux; it execs, so the PID is tursodb's own) and record its PID
 *   and ours in `tursodb.pid`, so that the next start stops a survivor that still holds the file (and
 *   refuses to start when the recorded supervisor is alive and still its parent). The death signal follows
 *   the spawning *thread*: start the hub from the main thread, never from a worker thread that may end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { type Logger, logEvent, logEventAt } from '@delegato/observability';

/** The platform packages of `turso` 0.6.0 (as its own wrapper names them). */
const PLATFORM_PACKAGES: Record<string, string> = {
  'darwin-arm64': '@tursodatabase/cli-darwin-arm64',
  'darwin-x64': '@tursodatabase/cli-darwin-x64',
  'linux-arm64': '@tursodatabase/cli-linux-arm64-gnu',
  'linux-x64': '@tursodatabase/cli-linux-x64-gnu',
  'win32-x64': '@tursodatabase/cli-win32-x64-msvc',
};

/**
 * Path of the `tursodb` binary: resolved from the `turso` package (our dependency) to its platform
 * package, wherever npm placed it.
 */
export function tursodbPath(): string {
  const key = `${process.platform}-${process.arch}`;
  const pkg = PLATFORM_PACKAGES[key];
  if (!pkg) throw new Error(`no tursodb binary for ${key}`);
  const fromHere = createRequire(import.meta.url);
  const fromTurso = createRequire(fromHere.resolve('turso/package.json'));
  const binary = process.platform === 'win32' ? 'tursodb.exe' : 'tursodb';
  return join(dirname(fromTurso.resolve(`${pkg}/package.json`)), binary);
}

/** A loopback TCP port that was free a moment ago (tursodb cannot report the port it got for port 0). */
export function freeLoopbackPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no port')),
      );
    });
  });
}

const SETPRIV = '/usr/bin/setpriv';
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

export interface HubOptions {
  /** The hub's directory (created, mode 0700): `hub.db` (+ its WAL files) and `tursodb.pid`. */
  dir: string;
  logger: Logger;
  /** Loopback address to bind; default 127.0.0.1. Anything else is refused: the hub has no authentication. */
  host?: string;
  /** Port; absent or 0: a free loopback port, chosen once and kept across restarts. */
  port?: number;
  /** The tursodb binary; default {@link tursodbPath}. */
  binary?: string;
  /** How long one start may take until the hub answers; default 10 s. */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL; default 5 s. */
  stopTimeoutMs?: number;
  /** First restart delay after an unexpected exit; doubled per consecutive failure; default 250 ms. */
  restartDelayMs?: number;
  /** Longest restart delay; default 30 s. */
  maxRestartDelayMs?: number;
  /** A run at least this long resets the restart delay; default 30 s. */
  stableAfterMs?: number;
}

export type HubState = 'starting' | 'running' | 'waiting' | 'stopping' | 'stopped';

interface Run {
  child: ChildProcess;
  startedAt: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderrTail: string[];
}

const STDERR_LINES = 20;

/**
 * Supervises one tursodb sync server: starts it, restarts it with backoff when it exits unexpectedly,
 * stops it by PID. `start()` resolves once the hub answers and rejects when the first start fails.
 */
export class HubSupervisor {
  readonly dir: string;
  readonly dbFile: string;
  readonly pidFile: string;
  readonly host: string;
  #port: number;
  #state: HubState = 'stopped';
  #run: Run | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #restarts = 0;
  #waiters: (() => void)[] = [];
  readonly #binary: string;
  readonly #logger: Logger;
  readonly #opts: Required<
    Pick<
      HubOptions,
      'startTimeoutMs' | 'stopTimeoutMs' | 'restartDelayMs' | 'maxRestartDelayMs' | 'stableAfterMs'
    >
  >;

  constructor(opts: HubOptions) {
    this.dir = resolve(opts.dir);
    this.dbFile = join(this.dir, 'hub.db');
    this.pidFile = join(this.dir, 'tursodb.pid');
    this.host = opts.host ?? '127.0.0.1';
    if (!LOOPBACK.test(this.host)) {
      throw new Error(
        `the replication hub binds to loopback only (it has no authentication), not ${this.host}`,
      );
    }
    this.#port = opts.port ?? 0;
    this.#binary = opts.binary ?? tursodbPath();
    this.#logger = opts.logger;
    this.#opts = {
      startTimeoutMs: opts.startTimeoutMs ?? 10_000,
      stopTimeoutMs: opts.stopTimeoutMs ?? 5_000,
      restartDelayMs: opts.restartDelayMs ?? 250,
      maxRestartDelayMs: opts.maxRestartDelayMs ?? 30_000,
      stableAfterMs: opts.stableAfterMs ?? 30_000,
    };
  }

  /** `http://127.0.0.1:<port>`: the loopback URL for the local replica and the sync gateway. */
  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  /** PID of the running tursodb, if any. */
  get pid(): number | undefined {
    return this.#run?.child.pid;
  }

  get state(): HubState {
    return this.#state;
  }

  /** Restarts after unexpected exits since start(). */
  get restarts(): number {
    return this.#restarts;
  }

  async start(): Promise<void> {
    if (this.#state !== 'stopped') throw new Error(`hub already ${this.#state}`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.#stopSurvivor();
    if (this.#port === 0) this.#port = await freeLoopbackPort(this.host);
    this.#failures = 0;
    this.#restarts = 0;
    this.#state = 'starting';
    try {
      await this.#launch();
    } catch (err) {
      this.#state = 'stopped';
      throw err;
    }
  }

  /** Resolves when the hub is running (now or after the restart under way); rejects after `timeoutMs`. */
  whenRunning(timeoutMs = 30_000): Promise<void> {
    if (this.#state === 'running') return Promise.resolve();
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error('the replication hub is not running')), timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        done();
      });
    });
  }

  /** Stops the hub: SIGTERM, SIGKILL after the deadline; resolves once the process is gone. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    this.#state = 'stopping';
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const run = this.#run;
    if (run) {
      const how = await this.#terminate(run);
      logEvent(this.#logger, 'federation.hub_stop', { pid: run.child.pid, how });
    }
    this.#run = undefined;
    await rm(this.pidFile, { force: true });
    this.#state = 'stopped';
  }

  /** SIGTERM, then SIGKILL after stopTimeoutMs; resolves with the signal that ended it. */
  async #terminate(run: Run): Promise<'exited' | 'SIGTERM' | 'SIGKILL'> {
    if (run.child.exitCode !== null || run.child.signalCode !== null) return 'exited';
    run.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((done) => {
      timer = setTimeout(() => done('late'), this.#opts.stopTimeoutMs);
    });
    const first = await Promise.race([run.exited, late]);
    clearTimeout(timer);
    if (first !== 'late') return 'SIGTERM';
    run.child.kill('SIGKILL');
    await run.exited;
    return 'SIGKILL';
  }

  async #launch(): Promise<void> {
    const args = ['--sync-server', `${this.host}:${this.#port}`, this.dbFile];
    const useSetpriv = process.platform === 'linux' && existsSync(SETPRIV);
    const child = useSetpriv
      ? spawn(SETPRIV, ['--pdeathsig', 'SIGTERM', '--', this.#binary, ...args], {
          stdio: ['ignore', 'ignore', 'pipe'],
          env: hubEnv(),
        })
      : spawn(this.#binary, args, { stdio: ['ignore', 'ignore', 'pipe'], env: hubEnv() });
    const stderrTail: string[] = [];
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (line.trim() === '') continue;
        stderrTail.push(line.slice(0, 500));
        if (stderrTail.length > STDERR_LINES) stderrTail.shift();
      }
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
      child.once('exit', (code, signal) => done({ code, signal }));
    });
    const spawned = new Promise<void>((done, fail) => {
      child.once('spawn', done);
      child.once('error', fail);
    });
    const run: Run = { child, startedAt: Date.now(), exited, stderrTail };
    this.#run = run;
    await spawned;
    if (child.pid !== undefined)
      await writeFile(this.pidFile, `${child.pid} ${process.pid}\n`, { mode: 0o600 });
    exited.then((how) => this.#onExit(run, how));

    const began = Date.now();
    try {
      await waitUntilAnswering(this.host, this.#port, this.#opts.startTimeoutMs, exited);
    } catch (err) {
      if (this.#run === run) {
        await this.#terminate(run);
        this.#run = undefined;
      }
      const detail = stderrTail.join(' ').trim();
      throw new Error(
        `the replication hub did not start: ${(err as Error).message}${detail ? `: ${detail}` : ''}`,
      );
    }
    if (this.#run !== run || this.#state === 'stopping') return;
    this.#state = 'running';
    logEvent(this.#logger, 'federation.hub_start', {
      pid: child.pid,
      url: this.url,
      ms: Date.now() - began,
      restarts: this.#restarts,
    });
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  #onExit(run: Run, how: { code: number | null; signal: NodeJS.Signals | null }): void {
    if (this.#run !== run || this.#state === 'stopping' || this.#state === 'stopped') return;
    if (this.#state === 'starting') return; // #launch reports it
    this.#run = undefined;
    const ranMs = Date.now() - run.startedAt;
    if (ranMs >= this.#opts.stableAfterMs) this.#failures = 0;
    const delayMs = Math.min(this.#opts.maxRestartDelayMs, this.#opts.restartDelayMs * 2 ** this.#failures);
    this.#failures++;
    this.#state = 'waiting';
    logEventAt(
      this.#logger,
      'warn',
      'federation.hub_exit',
      {
        pid: run.child.pid,
        code: how.code,
        signal: how.signal,
        ranMs,
        restartInMs: delayMs,
        stderr: run.stderrTail.slice(-5),
      },
      'the replication hub exited; restarting',
    );
    this.#restartTimer = setTimeout(() => this.#restart(), delayMs);
  }

  #restart(): void {
    this.#restartTimer = undefined;
    if (this.#state !== 'waiting') return;
    this.#state = 'starting';
    this.#restarts++;
    this.#launch().catch((err: Error) => {
      if (this.#state !== 'starting') return;
      const delayMs = Math.min(this.#opts.maxRestartDelayMs, this.#opts.restartDelayMs * 2 ** this.#failures);
      this.#failures++;
      this.#state = 'waiting';
      logEventAt(
        this.#logger,
        'warn',
        'federation.hub_exit',
        { error: err.message, restartInMs: delayMs },
        'the replication hub failed to restart; trying again',
      );
      this.#restartTimer = setTimeout(() => this.#restart(), delayMs);
    });
  }

  /**
   * A tursodb left by an earlier process of ours (the appliance was killed) holds the file lock: stop it.
   * Only a process whose command line is tursodb on this very database file is signalled.
   */
  async #stopSurvivor(): Promise<void> {
    let pid: number;
    let supervisor: number;
    try {
      [pid, supervisor] = readFileSync(this.pidFile, 'utf8')
        .trim()
        .split(/\s+/)
        .map((n) => Number.parseInt(n, 10)) as [number, number];
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 1) return;
    const argv = commandLine(pid) ?? [];
    if (!argv[0]?.endsWith('tursodb') || !argv.includes(this.dbFile) || !isAlive(pid)) {
      await rm(this.pidFile, { force: true });
      return;
    }
    if (parentOf(pid) === supervisor && isAlive(supervisor)) {
      throw new Error(`the replication hub in ${this.dir} is already run by process ${supervisor}`);
    }
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + this.#opts.stopTimeoutMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(25);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(25);
    logEvent(this.#logger, 'federation.hub_survivor', { pid });
    await rm(this.pidFile, { force: true });
  }
}

/** Environment of tursodb: ours, without Rust backtraces (they fill the stderr tail we log). */
function hubEnv(): NodeJS.ProcessEnv {
  return { ...process.env, RUST_BACKTRACE: '0', RUST_LIB_BACKTRACE: '0' };
}

function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** The parent PID of `pid` (field 4 of /proc/<pid>/stat, after the parenthesised command name). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number.parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '', 10);
  } catch {
    return undefined;
  }
}

/** True while `pid` exists and is not a zombie. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/**
 * Polls until the hub answers a Hrana `SELECT 1` on `POST /v2/pipeline`, the deadline, or the process's
 * exit. A positive answer, not just any HTTP one: when the port is taken, tursodb exits ("Address already
 * in use") about 20 ms after the spawn, and whatever holds the port may answer the first probe.
 */
async function waitUntilAnswering(
  host: string,
  port: number,
  timeoutMs: number,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
): Promise<void> {
  let gone: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  exited.then((how) => {
    gone = how;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone) throw new Error(`tursodb exited (${gone.signal ?? `status ${gone.code}`})`);
    if (await answers(host, port)) return;
    if (Date.now() > deadline) throw new Error(`no answer on ${host}:${port} within ${timeoutMs} ms`);
    await sleep(25);
  }
}

const PROBE = JSON.stringify({ requests: [{ type: 'execute', stmt: { sql: 'SELECT 1' } }] });

/** True when a sync server answers the probe with a Hrana result. */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const req = request(
      {
        host,
        port,
        path: '/v2/pipeline',
        method: 'POST',
        timeout: 1_000,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(PROBE) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 4096) body += chunk;
        });
        res.on('end', () => done(res.statusCode === 200 && /"results":\[\{"type":"ok"/.test(body)));
        res.on('error', () => done(false));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(false));
    req.end(PROBE);
  });
}
