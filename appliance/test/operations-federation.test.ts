/**
 * The statistics and health of every region reach the operator's pages (issue 16): two real regions in
 * this process, north and south, with the federation PKI (one CA, a certificate per region) and each
 * other's federation API (port.sync) in `federation.peers`. Mail into each region is counted there; the
 * operator at north gets both regions' rows in the CSV and both regions on the health page; a domain
 * admin at north gets their own domain's rows only, from every region. A region that does not answer is
 * named on the page.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  createFederationCa,
  freeLoopbackPort,
  installRegionBundle,
  issueRegionBundle,
} from '@delegato/federation';
import { tempDir, waitFor } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { OP, WebClient } from './admin-support.js';
import { testConfig } from './appliance-support.js';
import { listenerPort, startRegionsOnFreePorts } from './federation-support.js';
import { mxSend, submit } from './operations-support.js';

const dir = tempDir('delegato-ops-federation-');
const northData = join(dir.path, 'north');
const southData = join(dir.path, 'south');
let north: RunningAppliance;
let south: RunningAppliance;
let southStopped = false;

beforeAll(async () => {
  mkdirSync(northData, { recursive: true });
  mkdirSync(southData, { recursive: true });
  const federationKey = randomBytes(32);
  await createFederationCa(northData);
  for (const [data, region] of [
    [northData, 'north'],
    [southData, 'south'],
  ] as const)
    await installRegionBundle(
      data,
      await issueRegionBundle(northData, { region, hosts: ['127.0.0.1'], federationKey }),
    );
  [north, south] = (await startRegionsOnFreePorts(async () => {
    const fed = { north: await freeLoopbackPort(), south: await freeLoopbackPort() };
    const sync = { north: await freeLoopbackPort(), south: await freeLoopbackPort() };
    return (['north', 'south'] as const).map((region) => {
      const config = testConfig(dir.path, {
        DELEGATO_DATA_DIR: region === 'north' ? northData : southData,
        DELEGATO_REGION_ID: region,
        DELEGATO_PORT_FEDERATION: String(fed[region]),
        DELEGATO_FEDERATION_PEERS: `north=127.0.0.1:${fed.north},south=127.0.0.1:${fed.south}`,
      });
      config.port.sync = sync[region];
      config.federation.peers = config.federation.peers.map((p) => ({
        ...p,
        syncPort: sync[p.region as 'north' | 'south'],
      }));
      return { config };
    });
  })) as [RunningAppliance, RunningAppliance];
  for (const [app, domain] of [
    [north, 'north.example'],
    [south, 'south.example'],
  ] as const) {
    // Each region's own directory (no replication here), its own domain homed in it.
    await app.directory.addDomain(OP, domain);
    await app.directory.addMailbox(OP, {
      domain,
      kind: 'role',
      localPart: 'user',
      password: 'Mailbox-Pass-1',
    });
  }
  await north.directory.addAdmin(OP, {
    username: 'north-admin',
    role: 'domain-admin',
    domains: ['north.example'],
    password: 'Quiet-Lantern-North-7',
  });
  for (let i = 0; i < 2; i++)
    await mxSend(listenerPort(north, 'smtp'), 'a@outside.example', 'user@north.example', 'n');
  for (let i = 0; i < 3; i++)
    await mxSend(listenerPort(south, 'smtp'), 'a@outside.example', 'user@south.example', 's');
  // north's directory knows south.example, homed in south: a north user's message to it crosses over the
  // federation channel (out of north.example at north, into south.example at south).
  await north.directory.addRegion(OP, 'south');
  await north.directory.addDomain(OP, 'south.example', { region: 'south' });
  await north.directory.addMailbox(OP, {
    domain: 'south.example',
    kind: 'role',
    localPart: 'user',
    password: 'Mailbox-Pass-1',
  });
  await submit(
    listenerPort(north, 'submission'),
    'user@north.example',
    'Mailbox-Pass-1',
    ['user@south.example'],
    'x',
  );
  const southUser = (await south.directory.resolveLogin('user@south.example'))?.id ?? '';
  // Delivered once north's queue holds nothing: south answered 250, after counting it (a reader of south's
  // mail store can see the message a moment before that).
  await waitFor(async () => (await north.queue.list()).length === 0, 30_000);
  expect((await south.store.snapshot(southUser, 'INBOX')).messages).toHaveLength(4);
  await north.scheduler.runNow('stats-rollup');
  await south.scheduler.runNow('stats-rollup');
}, 120_000);

afterAll(async () => {
  await north?.stop();
  if (!southStopped) await south?.stop();
  dir.remove();
});

const csvRows = (text: string) => {
  const [head, ...lines] = text.trim().split('\r\n');
  const cols = (head ?? '').split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
};
const incoming = (rows: Array<Record<string, string>>) =>
  Object.fromEntries(
    [...new Set(rows.map((r) => `${r.region} ${r.domain}`))].map((k) => [
      k,
      rows.filter((r) => `${r.region} ${r.domain}` === k).reduce((n, r) => n + Number(r.messages_in), 0),
    ]),
  );

describe('statistics and health across regions', { timeout: 60_000 }, () => {
  it("the operator at north sees both regions' figures and health", async () => {
    const web = new WebClient(`https://127.0.0.1:${listenerPort(north, 'admin')}`);
    await web.signIn('operator', 'operator-test-pw');
    const csv = await web.fetch('GET', '/stats.csv');
    expect(csv.status).toBe(200);
    const rows = csvRows(csv.body);
    // The message from north's user: out of north.example (counted at north), into south.example (at south).
    expect(incoming(rows), csv.body).toEqual({ 'north north.example': 2, 'south south.example': 4 });
    const out = rows
      .filter((r) => r.domain === 'north.example')
      .reduce((n, r) => n + Number(r.messages_out), 0);
    expect(out).toBe(1);
    const health = await web.fetch('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatch(/Region north: /);
    expect(health.body).toMatch(/Region south: /);
    expect(health.body).toContain(`127.0.0.1:${listenerPort(south, 'smtp')} answers`);
  });

  it("a domain admin at north gets their own domain's rows only", async () => {
    const web = new WebClient(`https://127.0.0.1:${listenerPort(north, 'admin')}`);
    await web.signIn('north-admin', 'Quiet-Lantern-North-7');
    const csv = await web.fetch('GET', '/d/north.example/stats.csv');
    expect(csv.status).toBe(200);
    expect(incoming(csvRows(csv.body))).toEqual({ 'north north.example': 2 });
    expect(csv.body).not.toContain('south.example');
    expect((await web.fetch('GET', '/d/south.example/stats.csv')).status).toBe(403);
  });

  it('a region that does not answer is named, the others are shown', async () => {
    await south.stop();
    southStopped = true;
    const web = new WebClient(`https://127.0.0.1:${listenerPort(north, 'admin')}`);
    await web.signIn('operator', 'operator-test-pw');
    const page = await web.fetch('GET', '/stats');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/Not included, the region did not answer:\s*south \(/);
    const health = await web.fetch('GET', '/health');
    expect(health.body).toMatch(/Region south: did not answer/);
  });
});
