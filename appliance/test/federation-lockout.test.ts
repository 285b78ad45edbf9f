/**
 * Login lockouts hold across regions (issue 14, item 1): two real appliances in this process on loopback,
 * north (runs the hub, the writer) and south (a replica through north's sync gateway).
 *
 * - five wrong IMAP passwords for a mailbox at south lock it at south; the lockout is recorded at the
 *   writer (the audit log names south as the origin) and, once replicated, north refuses the right
 *   password too, though north counted no failure;
 * - five wrong admin passwords at south's JSON API: north's API refuses the admin's right password;
 * - the recorded lockout lasts the counting limiter's window (its end is tested in the directory's own
 *   tests, with a clock).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Actor, adminAccountKey, mailboxAccountKey } from '@delegato/directory';
import {
  createFederationCa,
  freeLoopbackPort,
  installRegionBundle,
  issueRegionBundle,
} from '@delegato/federation';
import { LineClient, tempDir, waitFor } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import type { Config } from '../src/config/schema.js';
import { federatedRegionConfig, listenerPort, startRegionsOnFreePorts } from './federation-support.js';
import { httpsJson } from './security-admin-support.js';

const OP: Actor = { kind: 'operator', name: 'cli:test', from: 'local' };
const ADA = 'ada@lock.example';
const ADA_PASSWORD = 'ada right password 42';
const ADMIN = 'lock-admin';
const ADMIN_PASSWORD = 'admin right password 42';

const dir = tempDir('delegato-fedlock-');
const northData = join(dir.path, 'north');
const southData = join(dir.path, 'south');
let north: RunningAppliance;
let south: RunningAppliance;
let adaId = '';
const southLog: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  mkdirSync(northData, { recursive: true });
  mkdirSync(southData, { recursive: true });
  const federationKey = randomBytes(32);
  await createFederationCa(northData);
  for (const [region, data] of [
    ['north', northData],
    ['south', southData],
  ] as const)
    await installRegionBundle(
      data,
      await issueRegionBundle(northData, { region, hosts: ['127.0.0.1'], federationKey }),
    );

  let northSync = 0;
  const configOf = (region: 'north' | 'south', syncPorts: { north: number; south: number }): Config =>
    federatedRegionConfig({
      root: dir.path,
      dataDir: region === 'north' ? northData : southData,
      region,
      syncPorts,
    });
  let southSync = 0;
  const [startedNorth] = await startRegionsOnFreePorts(async () => {
    [northSync, southSync] = [await freeLoopbackPort(), await freeLoopbackPort()];
    return [{ config: configOf('north', { north: northSync, south: southSync }) }];
  });
  const [startedSouth] = await startRegionsOnFreePorts(async () => {
    southSync = await freeLoopbackPort();
    return [{ config: configOf('south', { north: northSync, south: southSync }), log: southLog }];
  });
  if (!startedNorth || !startedSouth) throw new Error('a region did not start');
  [north, south] = [startedNorth, startedSouth];

  await north.directory.addDomain(OP, 'lock.example');
  await north.directory.addMailbox(OP, {
    domain: 'lock.example',
    kind: 'role',
    localPart: 'ada',
    password: ADA_PASSWORD,
  });
  await north.directory.addAdmin(OP, {
    username: ADMIN,
    password: ADMIN_PASSWORD,
    role: 'domain-admin',
    domains: ['lock.example'],
  });
  await waitFor(async () => (await south.directory.resolveLogin(ADA)) !== null, 20_000);
  adaId = (await south.directory.resolveLogin(ADA))?.id ?? '';
}, 180_000);

afterAll(async () => {
  await south?.stop();
  await north?.stop();
  dir.remove();
});

/** One IMAPS LOGIN; the tagged answer. */
async function imapLogin(app: RunningAppliance, user: string, password: string): Promise<string> {
  const c = await LineClient.connect(listenerPort(app, 'imaps'), '127.0.0.1', { tls: true });
  try {
    await c.line();
    c.write(`a LOGIN ${user} "${password}"\r\n`);
    for (;;) {
      const line = await c.line();
      if (line.startsWith('a ')) return line;
    }
  } finally {
    c.close();
  }
}

const adminOrigin = (app: RunningAppliance) => `https://127.0.0.1:${listenerPort(app, 'admin')}`;
const token = (app: RunningAppliance, password: string) =>
  httpsJson(adminOrigin(app), 'POST', '/api/v1/tokens', { json: { username: ADMIN, password } });

describe('login lockouts across regions', () => {
  it('a mailbox locked by failures at south is refused at north', async () => {
    expect(await imapLogin(north, ADA, ADA_PASSWORD)).toMatch(/^a OK/);
    for (let i = 0; i < 5; i++) expect(await imapLogin(south, ADA, `wrong ${i}`)).toMatch(/^a NO/);
    expect(await imapLogin(south, ADA, ADA_PASSWORD)).toMatch(/^a NO/);
    // South recorded it at the writer; replicated, north knows it without having counted anything.
    await waitFor(async () => (await north.directory.lockedUntil(mailboxAccountKey(adaId))) !== null, 15_000);
    expect(southLog.some((l) => l.event === 'auth.lockout' && l.mailbox === ADA && l.shared === true)).toBe(
      true,
    );
    expect(await imapLogin(north, ADA, ADA_PASSWORD)).toMatch(/^a NO/);
    const audit = await north.directory.listAudit(OP, { domain: 'lock.example' });
    const row = audit.find((r) => r.action === 'auth.lockout' && r.target === ADA);
    expect(row?.actorFrom).toMatch(/^south\//);
    // Never a password in the record.
    expect(JSON.stringify(audit)).not.toContain('wrong 0');
  });

  it('an admin locked by failures at south is refused at north', async () => {
    expect((await token(north, ADMIN_PASSWORD)).status).toBe(201);
    for (let i = 0; i < 5; i++) expect((await token(south, `wrong ${i}`)).status).toBe(401);
    expect((await token(south, ADMIN_PASSWORD)).status).toBe(429);
    await waitFor(async () => (await north.directory.lockedUntil(adminAccountKey(ADMIN))) !== null, 15_000);
    // North's own limiter counted nothing: the directory's lockout answers like a wrong password.
    expect((await token(north, ADMIN_PASSWORD)).status).toBe(401);
  });

  it('lasts the window of the limiter that counted the failures, no longer', async () => {
    const until = await north.directory.lockedUntil(mailboxAccountKey(adaId));
    expect(until).not.toBeNull();
    // About 15 minutes: the limiter's window, not longer.
    expect((until as number) - Date.now()).toBeGreaterThan(10 * 60_000);
    expect((until as number) - Date.now()).toBeLessThanOrEqual(15 * 60_000);
  });
});
