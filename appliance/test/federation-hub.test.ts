/**
 * An appliance configured as the hub region (`federation.hub`), as a real `delegato start` process: it
 * starts tursodb under the supervisor and the sync gateway (listener line `sync`), replicas of two other
 * regions push and pull through the gateway with their issued certificates, `federation hub stop | start`
 * work over the control socket, `join` is refused while it runs, and SIGTERM leaves no tursodb behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RegionTls, syncConnectOptions } from '@delegato/federation';
import { ALL_PORTS_ZERO, tempDir } from '@delegato/testkit';
import { connect, type Database } from '@tursodatabase/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, issue, join as joinFederation } from '../src/cli/federation.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { directorySyncOptions } from '../src/services/federation-sync.js';
import { alive, BIN, refusal, runCli } from './federation-support.js';

const work = tempDir('delegato-fed-hub-');
const northDir = join(work.path, 'north');
const northEnv = {
  ...ALL_PORTS_ZERO,
  DELEGATO_PORT_SYNC: '0',
  DELEGATO_REGION_ID: 'north',
  DELEGATO_DATA_DIR: northDir,
  DELEGATO_FEDERATION_HUB: 'true',
};
const configOf = (env: Record<string, string>): Config => loadConfig({ env, cwd: work.path });

let appliance: ChildProcess | undefined;
let out = '';
let syncPort = 0;
let centralTls: RegionTls;
const closers: (() => unknown)[] = [];

/** The tursodb PID the supervisor recorded, and the supervisor's. */
function hubPids(): { tursodb: number; supervisor: number } | undefined {
  const file = join(northDir, 'hub', 'tursodb.pid');
  if (!existsSync(file)) return undefined;
  const [tursodb, supervisor] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
  return { tursodb: tursodb as number, supervisor: supervisor as number };
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

beforeAll(async () => {
  // The PKI, with the same functions as the CLI: CA in north, bundles installed in south and central.
  await init(configOf(northEnv), []);
  for (const region of ['south', 'central']) {
    await issue(configOf(northEnv), region, [], `${region}.json`, work.path);
    await joinFederation(
      configOf({ DELEGATO_REGION_ID: region, DELEGATO_DATA_DIR: join(work.path, region) }),
      `${region}.json`,
      false,
      work.path,
    );
  }
  const bundle = JSON.parse(readFileSync(join(work.path, 'central.json'), 'utf8'));
  centralTls = { region: 'central', certPem: bundle.cert, keyPem: bundle.key, caCertPem: bundle.ca };

  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('DELEGATO_')) env[key] = value;
  }
  appliance = spawn(process.execPath, [BIN, 'start'], {
    cwd: work.path,
    env: { ...env, ...northEnv, DELEGATO_OPERATOR_PASSWORD: 'operator-test-pw', DELEGATO_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  appliance.stdout?.setEncoding('utf8');
  appliance.stderr?.resume();
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no sync listener line within 60 s:\n${out}`)), 60_000);
    appliance?.once('exit', (code) => fail(new Error(`the appliance exited (${code}):\n${out}`)));
    appliance?.stdout?.on('data', (chunk: string) => {
      out += chunk;
      const m = /^sync 127\.0\.0\.1:(\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        syncPort = Number(m[1]);
        done();
      }
    });
  });
}, 120_000);

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  const pids = hubPids();
  if (appliance && appliance.exitCode === null) {
    appliance.kill('SIGKILL');
    await new Promise((done) => appliance?.once('exit', done));
  }
  if (pids && alive(pids.tursodb)) process.kill(pids.tursodb, 'SIGKILL');
  work.remove();
});

async function rows(db: Database, sql: string): Promise<unknown[]> {
  return (await db.prepare(sql)).all();
}

describe('an appliance that runs the hub', () => {
  it('starts tursodb under its supervisor and the gateway, printed as the last listener line', () => {
    const names = out
      .split('\n')
      .filter((l) => /^\w+ \S+:\d+$/.test(l))
      .map((l) => l.split(' ')[0]);
    expect(names.at(-1)).toBe('sync');
    expect(names).toContain('admin');
    const pids = hubPids();
    expect(pids?.supervisor).toBe(appliance?.pid);
    expect(alive(pids?.tursodb ?? -1)).toBe(true);
    expect(parentOf(pids?.tursodb ?? -1)).toBe(appliance?.pid);
  });

  it('replicas of two regions push and pull through it with their certificates', async () => {
    const url = `https://127.0.0.1:${syncPort}`;
    // South as the directory integration will open it: from its configuration and installed bundle.
    const southConfig = configOf({
      DELEGATO_REGION_ID: 'south',
      DELEGATO_DATA_DIR: join(work.path, 'south'),
      DELEGATO_FEDERATION_HUB_REGION: 'north',
      DELEGATO_FEDERATION_HUB_URL: url,
    });
    const southSync = await directorySyncOptions(southConfig);
    expect(southSync?.kind).toBe('federation');
    if (!southSync) throw new Error('no sync options');
    const south = await connect({ path: join(work.path, 'south-replica.db'), ...southSync.options });
    closers.push(southSync.close, () => south.close());
    // Central with the plain transport and its issued certificate.
    const centralSync = syncConnectOptions({ kind: 'federation', url, hubRegion: 'north', tls: centralTls });
    const central = await connect({ path: join(work.path, 'central-replica.db'), ...centralSync.options });
    closers.push(centralSync.close, () => central.close());

    await south.exec('CREATE TABLE mailbox (id TEXT PRIMARY KEY, address TEXT NOT NULL UNIQUE)');
    await south.exec("INSERT INTO mailbox VALUES ('01J00000000000000000000001', 'rose@iat.example')");
    await south.push();
    await central.pull();
    expect(await rows(central, 'SELECT address FROM mailbox')).toEqual([{ address: 'rose@iat.example' }]);

    await central.exec("INSERT INTO mailbox VALUES ('01J00000000000000000000002', 'lily@iat.example')");
    await central.push();
    await south.pull();
    expect(await rows(south, 'SELECT address FROM mailbox ORDER BY address')).toEqual([
      { address: 'lily@iat.example' },
      { address: 'rose@iat.example' },
    ]);

    // `federation hub stop`: tursodb is gone and stays gone (the supervisor does not restart it); the
    // gateway answers 502 and the push fails saying so.
    const before = hubPids()?.tursodb ?? -1;
    const stopped = await runCli(['federation', 'hub', 'stop', '--json'], { cwd: work.path, env: northEnv });
    expect(stopped.stderr).toBe('');
    expect(stopped.code).toBe(0);
    expect(JSON.parse(stopped.stdout)).toMatchObject({
      state: 'stopped',
      stoppedByOperator: true,
      pid: null,
    });
    expect(alive(before)).toBe(false);
    await south.exec("INSERT INTO mailbox VALUES ('01J00000000000000000000003', 'iris@iat.example')");
    await expect(south.push()).rejects.toThrow(/502|replication hub unreachable/);
    await new Promise((done) => setTimeout(done, 600)); // longer than the first restart delay (250 ms)
    expect(hubPids()).toBeUndefined();

    const started = await runCli(['federation', 'hub', 'start', '--json'], { cwd: work.path, env: northEnv });
    expect(started.code).toBe(0);
    const after = JSON.parse(started.stdout);
    expect(after).toMatchObject({ state: 'running', stoppedByOperator: false });
    expect(alive(after.pid)).toBe(true);
    await south.push();
    await central.pull();
    expect(await rows(central, 'SELECT count(*) AS n FROM mailbox')).toEqual([{ n: 3 }]);
  });

  it('federation status shows the hub; join is refused while the appliance runs', async () => {
    const status = await runCli(['federation', 'status', '--json'], { cwd: work.path, env: northEnv });
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s).toMatchObject({
      region: 'north',
      appliance: { running: true },
      config: { hub: true, hubRegion: 'north' },
      hub: { state: 'running', pid: hubPids()?.tursodb, gateway: `https://127.0.0.1:${syncPort}` },
    });
    const refused = refusal(
      await runCli(['federation', 'join', 'south.json'], {
        cwd: work.path,
        env: { ...northEnv, DELEGATO_REGION_ID: 'south' },
      }),
    );
    expect(refused).toMatchObject({ code: 1, lines: 1 });
    expect(refused.line).toContain('an appliance is running');
  });

  it('SIGTERM stops the gateway, the directory and then the hub: no tursodb left', async () => {
    const pid = hubPids()?.tursodb ?? -1;
    expect(alive(pid)).toBe(true);
    const exited = new Promise<number | null>((done) => appliance?.once('exit', (code) => done(code)));
    appliance?.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(hubPids()).toBeUndefined();
  });
});
