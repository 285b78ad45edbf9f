import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir, waitFor } from '@delegato/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { HubSupervisor, tursodbPath } from '../src/index.js';
import { capturingLogger, processExists } from './support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function hubIn(dir: string, extra: Partial<ConstructorParameters<typeof HubSupervisor>[0]> = {}) {
  const { logger, lines } = capturingLogger();
  const hub = new HubSupervisor({ dir: join(dir, 'hub'), logger, restartDelayMs: 50, ...extra });
  cleanups.push(() => hub.stop());
  return { hub, lines };
}

async function answers(url: string): Promise<number> {
  return (await fetch(url)).status;
}

describe('replication hub supervisor', () => {
  it('resolves the tursodb binary of the platform package, not the turso wrapper', () => {
    const path = tursodbPath();
    expect(path).toMatch(/@tursodatabase\/cli-[a-z0-9-]+\/tursodb$/);
    expect(existsSync(path)).toBe(true);
  });

  it('starts tursodb on loopback, restarts it when killed, stops it by PID with nothing left behind', async () => {
    const dir = tempDir('delegato-hub-');
    cleanups.push(dir.remove);
    const { hub, lines } = hubIn(dir.path);
    await hub.start();
    expect(hub.state).toBe('running');
    expect(hub.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await answers(`${hub.url}/`)).toBe(404); // tursodb's answer to anything but the sync paths
    const first = hub.pid;
    expect(first).toBeTypeOf('number');
    expect(readFileSync(join(hub.dir, 'tursodb.pid'), 'utf8').trim()).toBe(`${first} ${process.pid}`);
    // The PID is tursodb itself (setpriv execs), not a wrapper.
    expect(readFileSync(`/proc/${first}/cmdline`, 'utf8').split('\0')[0]).toBe(tursodbPath());

    process.kill(first as number, 'SIGKILL');
    await waitFor(() => hub.state === 'running' && hub.pid !== first, 15_000);
    expect(await processExists(first as number)).toBe(false);
    expect(hub.restarts).toBe(1);
    expect(await answers(`${hub.url}/`)).toBe(404);
    const exit = lines.find((l) => l.event === 'federation.hub_exit');
    expect(exit).toMatchObject({ pid: first, signal: 'SIGKILL', level: 40 });
    expect(lines.filter((l) => l.event === 'federation.hub_start')).toHaveLength(2);

    const second = hub.pid as number;
    await hub.stop();
    expect(hub.state).toBe('stopped');
    expect(hub.pid).toBeUndefined();
    expect(await processExists(second)).toBe(false);
    expect(existsSync(join(hub.dir, 'tursodb.pid'))).toBe(false);
    expect(lines.find((l) => l.event === 'federation.hub_stop')).toMatchObject({
      pid: second,
      how: 'SIGTERM',
    });
    await expect(fetch(`${hub.url}/`)).rejects.toThrow();
  });

  it('backs off while the hub cannot restart, and runs again once it can', async () => {
    const dir = tempDir('delegato-hub-');
    cleanups.push(dir.remove);
    const { hub, lines } = hubIn(dir.path, { restartDelayMs: 200, startTimeoutMs: 3_000 });
    await hub.start();
    const first = hub.pid as number;
    // The hub dies and another tursodb takes its database file: restarts fail on the file lock.
    process.kill(first, 'SIGKILL');
    await waitFor(() => hub.state === 'waiting');
    const intruder = spawn(tursodbPath(), ['--sync-server', '127.0.0.1:0', hub.dbFile], { stdio: 'ignore' });
    const intruderGone = new Promise((r) => intruder.once('exit', r));
    cleanups.push(async () => {
      if (intruder.exitCode === null && intruder.signalCode === null) intruder.kill('SIGKILL');
      await intruderGone;
    });
    const failures = () =>
      lines.filter((l) => l.event === 'federation.hub_exit' && typeof l.error === 'string');
    await waitFor(() => failures().length >= 2, 15_000);
    expect(failures()[0]?.error).toMatch(/File is locked by another process/);
    const delays = lines.filter((l) => l.event === 'federation.hub_exit').map((l) => l.restartInMs);
    expect(delays.slice(0, 3)).toEqual([200, 400, 800]);
    expect(hub.state).not.toBe('running');

    intruder.kill('SIGTERM');
    await intruderGone;
    await hub.whenRunning(15_000);
    expect(await answers(`${hub.url}/`)).toBe(404);
    expect(await processExists(first)).toBe(false);
  });

  it('start() fails with the reason when tursodb cannot start, or when another supervisor runs it', async () => {
    const dir = tempDir('delegato-hub-');
    cleanups.push(dir.remove);
    const { hub } = hubIn(dir.path);
    mkdirSync(hub.dir, { recursive: true });
    const intruder = spawn(tursodbPath(), ['--sync-server', '127.0.0.1:0', hub.dbFile], { stdio: 'ignore' });
    const intruderGone = new Promise((r) => intruder.once('exit', r));
    cleanups.push(async () => {
      if (intruder.exitCode === null && intruder.signalCode === null) intruder.kill('SIGKILL');
      await intruderGone;
    });
    await waitFor(() => existsSync(hub.dbFile));
    await new Promise((r) => setTimeout(r, 200));
    await expect(hub.start()).rejects.toThrow(/did not start: tursodb exited \(status 1\).*File is locked/);
    expect(hub.state).toBe('stopped');
    expect(hub.pid).toBeUndefined();
    intruder.kill('SIGTERM');
    await intruderGone;

    await hub.start();
    const other = hubIn(dir.path);
    await expect(other.hub.start()).rejects.toThrow(`already run by process ${process.pid}`);
    expect(hub.state).toBe('running');
    expect(await answers(`${hub.url}/`)).toBe(404);
  });

  it('a port held by another server is not mistaken for the hub', async () => {
    const dir = tempDir('delegato-hub-');
    cleanups.push(dir.remove);
    const other = createServer((_req, res) => res.end('not a hub'));
    await new Promise<void>((done) => other.listen(0, '127.0.0.1', done));
    cleanups.push(() => new Promise<void>((done) => other.close(() => done())));
    const port = (other.address() as AddressInfo).port;
    const { hub } = hubIn(dir.path, { port, startTimeoutMs: 3_000 });
    await expect(hub.start()).rejects.toThrow(/tursodb exited \(status 1\).*Address already in use/);
    expect(hub.state).toBe('stopped');
  });

  it('stops a tursodb that an earlier appliance process left on the same file', async () => {
    const dir = tempDir('delegato-hub-');
    cleanups.push(dir.remove);
    const { hub, lines } = hubIn(dir.path);
    await hub.start();
    await hub.stop();
    // As if the appliance had been killed: a tursodb still holds hub.db, its PID in tursodb.pid.
    const survivor = spawn(tursodbPath(), ['--sync-server', '127.0.0.1:0', hub.dbFile], { stdio: 'ignore' });
    const survivorGone = new Promise((r) => survivor.once('exit', r));
    cleanups.push(async () => {
      if (survivor.exitCode === null && survivor.signalCode === null) survivor.kill('SIGKILL');
      await survivorGone;
    });
    writeFileSync(hub.pidFile, `${survivor.pid}\n`);
    await new Promise((r) => setTimeout(r, 300));
    await hub.start();
    await survivorGone;
    expect(lines.find((l) => l.event === 'federation.hub_survivor')).toMatchObject({ pid: survivor.pid });
    expect(hub.pid).not.toBe(survivor.pid);
    await hub.stop();
  });

  it('refuses to bind anywhere but loopback (the hub has no authentication)', () => {
    const { logger } = capturingLogger();
    expect(() => new HubSupervisor({ dir: '/nonexistent', logger, host: '0.0.0.0' })).toThrow(
      /loopback only/,
    );
  });
});
