/**
 * `delegato lab up | stop | start | down` as real commands: three regions on 127.0.1.1, 127.0.2.1 and
 * 127.0.3.1 and the hub in north, one up/down cycle (the machine has 2 cores). lab.json has the issue's
 * shape; every /healthz answers 200; central stops and starts; down leaves none of the recorded PIDs alive.
 */
import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { tempDir } from '@delegato/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import type { LabFile } from '../src/lab/layout.js';
import { alive, refusal, runCli } from './federation-support.js';

const work = tempDir('delegato-fed-lab-');
const dir = join(work.path, 'lab');
const every: number[] = [];

afterAll(async () => {
  // Whatever happened, nothing of ours outlives the test.
  await runCli(['lab', 'down', '--dir', dir], { cwd: work.path, timeoutMs: 120_000 }).catch(() => undefined);
  for (const pid of every) if (alive(pid)) process.kill(pid, 'SIGKILL');
  work.remove();
}, 180_000);

const readLab = (): LabFile => JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as LabFile;

function healthz(host: string, port: number): Promise<number> {
  return new Promise((done) => {
    const req = get({ host, port, path: '/healthz', rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('error', () => done(0));
  });
}

describe('delegato lab', () => {
  it('up, stop/start central, down', { timeout: 400_000 }, async () => {
    expect(refusal(await runCli(['lab', 'up'], { cwd: work.path })).code).toBe(2);
    expect(refusal(await runCli(['lab', 'stop', 'west', '--dir', dir], { cwd: work.path })).code).toBe(2);

    const began = Date.now();
    const up = await runCli(['lab', 'up', '--dir', dir, '--json'], { cwd: work.path, timeoutMs: 300_000 });
    const upSeconds = (Date.now() - began) / 1000;
    expect(up.stderr).toContain('lab up in');
    expect(up.code).toBe(0);
    console.log(`lab up: ${upSeconds.toFixed(1)} s (${/lab up in ([\d.]+ s)/.exec(up.stderr)?.[1]} inside)`);
    const lab = readLab();
    expect(JSON.parse(up.stdout)).toEqual(lab);
    for (const pid of [lab.hub.pid, ...Object.values(lab.regions).map((r) => r.pid)])
      every.push(pid as number);

    // The shape of issue 14, plus the sync port of the hub region.
    expect(Object.keys(lab)).toEqual(['hub', 'writer', 'regions']);
    expect(lab.writer).toBe('north');
    expect(Object.keys(lab.regions)).toEqual(['north', 'central', 'south']);
    expect(lab.hub.url).toBe(`https://127.0.1.1:${lab.regions.north.ports.sync}`);
    expect(alive(lab.hub.pid as number)).toBe(true);
    const mailPorts = [
      'smtp',
      'submission',
      'submissions',
      'imap',
      'imaps',
      'pop3',
      'pop3s',
      'admin',
      'web',
      'federation',
    ];
    for (const [name, host] of [
      ['north', '127.0.1.1'],
      ['central', '127.0.2.1'],
      ['south', '127.0.3.1'],
    ] as const) {
      const r = lab.regions[name];
      expect(Object.keys(r)).toEqual(['host', 'pid', 'ports', 'dataDir', 'operator']);
      expect(r.host).toBe(host);
      expect(r.dataDir).toBe(join(dir, name));
      // Every region has its federation API on port.sync (decision 0011); north's is the sync gateway too.
      expect(Object.keys(r.ports)).toEqual([...mailPorts, 'sync']);
      for (const port of Object.values(r.ports)) expect(port).toBeGreaterThan(0);
      expect(r.operator.username).toBe('operator');
      expect(r.operator.password.length).toBeGreaterThanOrEqual(16);
      expect(alive(r.pid as number)).toBe(true);
      expect(await healthz(host, r.ports.admin)).toBe(200);
    }

    // Each region's CLI works with DELEGATO_DATA_DIR=<dir>/<region> (through its control socket).
    const status = await runCli(['federation', 'status', '--json'], {
      cwd: work.path,
      env: { DELEGATO_DATA_DIR: join(dir, 'central') },
    });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      region: 'central',
      appliance: { running: true },
      certificate: { region: 'central' },
      config: { hubRegion: 'north', hubUrl: lab.hub.url },
    });

    const centralPid = lab.regions.central.pid as number;
    const stop = await runCli(['lab', 'stop', 'central', '--dir', dir], {
      cwd: work.path,
      timeoutMs: 60_000,
    });
    expect(stop.code).toBe(0);
    expect(alive(centralPid)).toBe(false);
    expect(readLab().regions.central.pid).toBeNull();
    expect(await healthz('127.0.2.1', lab.regions.central.ports.admin)).toBe(0);
    expect(await healthz('127.0.1.1', lab.regions.north.ports.admin)).toBe(200);

    const start = await runCli(['lab', 'start', 'central', '--dir', dir], {
      cwd: work.path,
      timeoutMs: 120_000,
    });
    expect(start.code).toBe(0);
    const restarted = readLab().regions.central.pid as number;
    every.push(restarted);
    expect(restarted).not.toBe(centralPid);
    expect(alive(restarted)).toBe(true);
    expect(await healthz('127.0.2.1', lab.regions.central.ports.admin)).toBe(200);

    // The hub: stopped through north's control socket (the supervisor does not bring it back), started again.
    const hubPid = readLab().hub.pid as number;
    expect((await runCli(['lab', 'stop', 'hub', '--dir', dir], { cwd: work.path })).code).toBe(0);
    expect(alive(hubPid)).toBe(false);
    expect(readLab().hub.pid).toBeNull();
    expect((await runCli(['lab', 'start', 'hub', '--dir', dir], { cwd: work.path })).code).toBe(0);
    const newHub = readLab().hub.pid as number;
    every.push(newHub);
    expect(alive(newHub)).toBe(true);

    const down = await runCli(['lab', 'down', '--dir', dir], { cwd: work.path, timeoutMs: 120_000 });
    expect(down.code).toBe(0);
    for (const pid of every) expect(alive(pid), `pid ${pid}`).toBe(false);
    const after = readLab();
    expect([after.hub.pid, ...Object.values(after.regions).map((r) => r.pid)]).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });
});
