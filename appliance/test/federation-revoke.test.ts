/**
 * Revoking a region's certificates (issue 14, item 2; decision 0013): two real appliances in this process,
 * north (hub, writer) and south (a replica through north's sync gateway).
 *
 * - before: south's certificate opens north's federation SMTP port (220) and south pulls through the gateway;
 * - `delegato federation revoke south --reason ...` at north (the real CLI): north's federation SMTP port
 *   answers south's certificate with 554 5.7.0, the gateway answers 403 so south's pulls fail, the audit log records
 *   it; revoking the writer region is refused (exit 2);
 * - renewal: a certificate issued for south after the revocation (`issueRegionBundle` + install, south
 *   stopped meanwhile as `federation join` requires) is accepted again: south pulls, and greets.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import type { Actor } from '@delegato/directory';
import {
  createFederationCa,
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
import {
  federatedRegionConfig,
  listenerPort,
  runCli,
  startRegion,
  startRegionsOnFreePorts,
} from './federation-support.js';

const OP: Actor = { kind: 'operator', name: 'cli:test', from: 'local' };
const dir = tempDir('delegato-fedrevoke-');
const northData = join(dir.path, 'north');
const southData = join(dir.path, 'south');
const federationKey = randomBytes(32);
let north: RunningAppliance;
let south: RunningAppliance | undefined;
let southConfig: Config;
const northLog: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  mkdirSync(northData, { recursive: true });
  mkdirSync(southData, { recursive: true });
  await createFederationCa(northData);
  for (const [region, data] of [
    ['north', northData],
    ['south', southData],
  ] as const)
    await installRegionBundle(
      data,
      await issueRegionBundle(northData, { region, hosts: ['127.0.0.1'], federationKey }),
    );
  let syncPorts = { north: 0, south: 0 };
  const configOf = (region: 'north' | 'south'): Config =>
    federatedRegionConfig({
      root: dir.path,
      dataDir: region === 'north' ? northData : southData,
      region,
      syncPorts,
    });
  const [startedNorth] = await startRegionsOnFreePorts(async () => {
    syncPorts = { north: await freeLoopbackPort(), south: await freeLoopbackPort() };
    return [{ config: configOf('north'), log: northLog }];
  });
  const [startedSouth] = await startRegionsOnFreePorts(async () => {
    syncPorts = { ...syncPorts, south: await freeLoopbackPort() };
    southConfig = configOf('south');
    return [{ config: southConfig }];
  });
  if (!startedNorth || !startedSouth) throw new Error('a region did not start');
  [north, south] = [startedNorth, startedSouth];
  await waitFor(async () => (await north.directory.listRegions()).some((r) => r.name === 'south'), 20_000);
}, 180_000);

afterAll(async () => {
  await south?.stop();
  await north?.stop();
  dir.remove();
});

/** The first line north's federation SMTP port sends a client holding south's current certificate. */
async function greetingForSouth(): Promise<string> {
  const tls = await loadRegionTls(southData);
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port: listenerPort(north, 'federation'),
      cert: tls.certPem,
      key: tls.keyPem,
      ca: [tls.caCertPem],
      checkServerIdentity: () => undefined,
    });
    let text = '';
    const done = () => resolve(text.split('\r\n')[0] ?? '');
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      if (text.includes('\r\n')) {
        socket.destroy();
        done();
      }
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.setTimeout(10_000, () => socket.destroy());
  });
}

const southState = async () => {
  const replication = south ? replicationOf(south.directory) : undefined;
  if (!replication) throw new Error('south is not replicated');
  return replication.state();
};

describe('federation revoke <region>', () => {
  it('refuses the revoked certificate on the federation channel; a new certificate is accepted', async () => {
    expect(await greetingForSouth()).toMatch(/^220 /);
    expect((await southState()).pullError).toBeNull();

    const env = { DELEGATO_DATA_DIR: northData };
    const writer = await runCli(['federation', 'revoke', 'north'], { cwd: dir.path, env });
    expect(writer.code).toBe(2);
    expect(writer.stderr).toMatch(/north is the writer region: move the writer role first/);
    const unknown = await runCli(['federation', 'revoke', 'west'], { cwd: dir.path, env });
    expect(unknown.code).toBe(2);

    const revoked = await runCli(['federation', 'revoke', 'south', '--reason', 'laptop stolen', '--json'], {
      cwd: dir.path,
      env,
    });
    expect(revoked.stderr).toBe('');
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ region: 'south', reason: 'laptop stolen' });

    // North refuses south's certificate at once: 554 instead of a greeting, 403 at the gateway.
    expect(await greetingForSouth()).toBe('554 5.7.0 Federation certificate revoked');
    expect(
      northLog.some((l) => l.event === 'federation.smtp_refused' && l.reason === 'certificate revoked'),
    ).toBe(true);
    await waitFor(async () => /403/.test((await southState()).pullError ?? ''), 15_000);
    expect(
      northLog.some((l) => l.event === 'federation.gateway_refused' && l.reason === 'certificate revoked'),
    ).toBe(true);
    const audit = await north.directory.listAudit(OP, { limit: 20 });
    expect(audit.find((a) => a.action === 'federation.revoke')).toMatchObject({ target: 'south' });

    // Renewal: a certificate issued after the revocation (whole seconds later), installed while south is
    // stopped, as `federation join` requires.
    await new Promise((r) => setTimeout(r, 1100));
    await south?.stop();
    south = undefined;
    await installRegionBundle(
      southData,
      await issueRegionBundle(northData, { region: 'south', hosts: ['127.0.0.1'], federationKey }),
    );
    south = await startRegion(southConfig);
    expect(await greetingForSouth()).toMatch(/^220 /);
    await waitFor(
      async () => (await southState()).pullError === null && (await southState()).lastPullAt !== null,
      15_000,
    );
    // South pulls what happened meanwhile: the revocation itself.
    await waitFor(async () => ((await south?.directory.listRevocations()) ?? []).length === 1, 15_000);
  }, 120_000);
});
