/**
 * Moving the directory writer role (issue 14, item 1; decision 0011): three real appliances in this
 * process on loopback, north (runs the hub, the initial writer), central and south (replicas through
 * north's sync gateway), each with its federation API on port.sync and the others in `federation.peers`.
 *
 * - `delegato federation writer central` (the real CLI, at north): north records the move and pushes it;
 *   central becomes the writer once it pulled the record, north and south replicas naming central;
 * - a change made in south lands in every region, applied by central (central logs it as forwarded by
 *   south);
 * - the old writer forwards: a change made in north, and one forwarded to north by a region whose replica
 *   still names north, are applied by central (a second hop, logged there as forwarded by north);
 * - moving to an unknown region, or to the writer itself, is refused (exit 2).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Actor, ForwardingWriter } from '@delegato/directory';
import {
  createFederationCa,
  federationFetch,
  freeLoopbackPort,
  installRegionBundle,
  issueRegionBundle,
  loadRegionTls,
} from '@delegato/federation';
import { tempDir, waitFor } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import type { Config } from '../src/config/schema.js';
import { replicationOf } from '../src/services/federation-directory.js';
import { testConfig } from './appliance-support.js';
import { runCli, startRegion } from './federation-support.js';

const REGIONS = ['north', 'central', 'south'] as const;
type Region = (typeof REGIONS)[number];
/** Changes made in a region's own process, as its CLI operator would (rebuilt at the writer). */
const OP: Actor = { kind: 'operator', name: 'cli:test', from: 'local' };

const dir = tempDir('delegato-fedwriter-');
const dataOf = (r: Region) => join(dir.path, r);
const apps = {} as Record<Region, RunningAppliance>;
const logs = { north: [], central: [], south: [] } as Record<Region, Array<Record<string, unknown>>>;
let syncPorts = {} as Record<Region, number>;
let configOf: (r: Region) => Config;
const stopped = new Set<Region>();

async function stateOf(r: Region) {
  const replication = replicationOf(apps[r].directory);
  if (!replication) throw new Error(`${r} is not replicated`);
  return replication.state();
}

/** Waits until every region lists `domain`. */
async function everywhere(domain: string): Promise<void> {
  const op: Actor = { kind: 'operator', name: 'cli:test', from: 'local' };
  await waitFor(async () => {
    for (const r of REGIONS) {
      const list = await apps[r].directory.listDomains(op);
      if (!list.some((d) => d.name === domain)) return false;
    }
    return true;
  }, 20_000);
}

const forwardedAt = (r: Region, from: string, kind: string) =>
  logs[r].some(
    (l) =>
      l.event === 'federation.change_forwarded' &&
      l.region === from &&
      l.kind === kind &&
      l.outcome === 'applied',
  );

beforeAll(async () => {
  for (const r of REGIONS) mkdirSync(dataOf(r), { recursive: true });
  const federationKey = randomBytes(32);
  await createFederationCa(dataOf('north'));
  for (const r of REGIONS)
    await installRegionBundle(
      dataOf(r),
      await issueRegionBundle(dataOf('north'), { region: r, hosts: ['127.0.0.1'], federationKey }),
    );
  syncPorts = {
    north: await freeLoopbackPort(),
    central: await freeLoopbackPort(),
    south: await freeLoopbackPort(),
  };
  const peers = REGIONS.map((r) => ({
    region: r,
    host: '127.0.0.1',
    port: 1, // no mail in this test
    syncPort: syncPorts[r],
  }));
  configOf = (r: Region): Config => {
    const config = testConfig(dir.path, {
      DELEGATO_DATA_DIR: dataOf(r),
      DELEGATO_REGION_ID: r,
      DELEGATO_SMTP_HOSTNAME: `mx.${r}.example`,
      DELEGATO_PORT_SYNC: String(syncPorts[r]),
      ...(r === 'north'
        ? { DELEGATO_FEDERATION_HUB: 'true', DELEGATO_FEDERATION_HUB_REGION: 'north' }
        : {
            DELEGATO_FEDERATION_HUB_REGION: 'north',
            DELEGATO_FEDERATION_HUB_URL: `https://127.0.0.1:${syncPorts.north}`,
          }),
    });
    config.federation.peers = peers;
    return config;
  };
  apps.north = await startRegion(configOf('north'), logs.north);
  [apps.central, apps.south] = await Promise.all([
    startRegion(configOf('central'), logs.central),
    startRegion(configOf('south'), logs.south),
  ]);
  // Every region's row, created by the writer for the replicas, is everywhere.
  await waitFor(async () => {
    for (const r of REGIONS) {
      const names = (await apps[r].directory.listRegions()).map((x) => x.name).sort();
      if (names.join() !== 'central,north,south') return false;
    }
    return true;
  }, 30_000);
}, 120_000);

afterAll(async () => {
  for (const r of ['south', 'central', 'north'] as const) if (!stopped.has(r)) await apps[r]?.stop();
  dir.remove();
});

describe('federation writer <region>', () => {
  it('every region opens its federation API on port.sync; north writes first', async () => {
    for (const r of REGIONS) {
      expect(apps[r].listeners.find((l) => l.name === 'sync')?.port).toBe(syncPorts[r]);
      expect((await stateOf(r)).writer).toBe('north');
    }
    expect((await stateOf('north')).role).toBe('writer');
    expect((await stateOf('central')).role).toBe('replica');
  });

  it('refuses an unknown region and the writer itself (exit 2)', async () => {
    const env = { DELEGATO_DATA_DIR: dataOf('north') };
    const unknown = await runCli(['federation', 'writer', 'west'], { cwd: dir.path, env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^delegato: no region west in the directory/);
    const same = await runCli(['federation', 'writer', 'north'], { cwd: dir.path, env });
    expect(same.code).toBe(2);
    expect(same.stderr).toBe('delegato: north is already the writer region\n');
  }, 30_000);

  it('north -> central; a change made in south lands via central; the old writer forwards', async () => {
    const moved = await runCli(['federation', 'writer', 'central', '--json'], {
      cwd: dir.path,
      env: { DELEGATO_DATA_DIR: dataOf('north') },
    });
    expect(moved.stderr).toBe('');
    expect(moved.code).toBe(0);
    expect(JSON.parse(moved.stdout)).toEqual({ region: 'central', previous: 'north' });
    expect(logs.north.some((l) => l.event === 'federation.writer_moved' && l.region === 'central')).toBe(
      true,
    );

    // Every replica names central once it pulled the record; central writes, north no longer does.
    await waitFor(async () => {
      for (const r of REGIONS) if ((await stateOf(r)).writer !== 'central') return false;
      return true;
    }, 10_000);
    expect((await stateOf('central')).role).toBe('writer');
    expect((await stateOf('north')).role).toBe('replica');
    expect((await stateOf('south')).role).toBe('replica');
    expect(await apps.south.directory.recordedWriter()).toBe('central');

    // A change made in south: forwarded to central, applied there, everywhere.
    await apps.south.directory.addDomain(OP, 'from-south.example');
    expect(forwardedAt('central', 'south', 'domain.add')).toBe(true);
    await everywhere('from-south.example');

    // A change made at the old writer: forwarded to central.
    await apps.north.directory.addDomain(OP, 'from-north.example');
    expect(forwardedAt('central', 'north', 'domain.add')).toBe(true);
    await everywhere('from-north.example');

    // A region whose replica still names north sends its change there: north forwards it to central.
    const southTls = await loadRegionTls(dataOf('south'));
    const transport = federationFetch({ hubRegion: 'north', tls: southTls });
    try {
      const stale = new ForwardingWriter({
        writer: 'north',
        regionId: 'south',
        url: `https://127.0.0.1:${syncPorts.north}`,
        fetch: transport.fetch as typeof fetch,
      });
      await stale.mutate(OP, { kind: 'domain.add', input: { domain: 'stale.example', region: 'south' } });
    } finally {
      transport.close();
    }
    expect(forwardedAt('north', 'south', 'domain.add')).toBe(true);
    expect(
      logs.central.filter((l) => l.event === 'federation.change_forwarded' && l.region === 'north').length,
    ).toBe(2);
    await everywhere('stale.example');
    // The audit trail at the writer names the hops.
    const audit = await apps.central.directory.listAudit(OP, { limit: 10 });
    expect(audit.find((a) => a.target === 'stale.example')?.actorFrom).toBe('north/south/local');
  }, 90_000);

  it('takeover: refused while the writer answers; central gone, south takes the role; central comes back as a replica', async () => {
    const at = (r: Region) => ({ cwd: dir.path, env: { DELEGATO_DATA_DIR: dataOf(r) } });
    const answering = await runCli(['federation', 'writer', 'south', '--takeover'], at('south'));
    expect(answering.code).toBe(2);
    expect(answering.stderr).toMatch(
      /^delegato: the writer region central answers: move the role without --takeover/,
    );
    const elsewhere = await runCli(['federation', 'writer', 'south', '--takeover'], at('north'));
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(/a takeover is made at the region that takes the role/);

    await apps.central.stop();
    stopped.add('central');
    // With the writer gone, changes are refused, naming it.
    await expect(apps.north.directory.addDomain(OP, 'while-gone.example')).rejects.toThrow(/central/);

    const taken = await runCli(['federation', 'writer', 'south', '--takeover', '--json'], at('south'));
    expect(taken.stderr).toBe('');
    expect(taken.code).toBe(0);
    expect(JSON.parse(taken.stdout)).toEqual({ region: 'south', previous: 'central' });
    expect(
      logs.south.some(
        (l) => l.event === 'federation.writer_moved' && l.region === 'south' && l.takeover === true,
      ),
    ).toBe(true);
    expect((await stateOf('south')).role).toBe('writer');
    await waitFor(async () => (await stateOf('north')).writer === 'south', 10_000);

    // North's change now goes to south.
    await apps.north.directory.addDomain(OP, 'after-takeover.example');
    expect(forwardedAt('south', 'north', 'domain.add')).toBe(true);

    // Central comes back: it finds the record with its first pull and is a replica that forwards to south.
    apps.central = await startRegion(configOf('central'), logs.central);
    stopped.delete('central');
    expect((await stateOf('central')).role).toBe('replica');
    expect((await stateOf('central')).writer).toBe('south');
    await apps.central.directory.addDomain(OP, 'central-back.example');
    expect(forwardedAt('south', 'central', 'domain.add')).toBe(true);
    await everywhere('central-back.example');
    await everywhere('after-takeover.example');
    // The audit trail at the new writer says who took the role, from where.
    const audit = await apps.south.directory.listAudit(OP, { limit: 20 });
    expect(audit.find((a) => a.action === 'federation.writer' && a.target === 'south')).toBeDefined();
  }, 120_000);
});
