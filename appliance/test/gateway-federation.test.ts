/**
 * The attachment gateway for mail arriving from another region (issue 15): north's user submits a message
 * with a 3 MiB PDF to a mailbox homed in south that is registered there; north's queue carries it unchanged
 * over the federation channel, and south's delivery into its mail store replaces the PDF by a link to
 * south's web listener. Two real appliances in this process, with the federation PKI (as federation-smtp).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  createFederationCa,
  freeLoopbackPort,
  installRegionBundle,
  issueRegionBundle,
} from '@delegato/federation';
import { LineClient, tempDir, waitFor } from '@delegato/testkit';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { TEST_OPERATOR as OP, testConfig } from './appliance-support.js';
import { listenerPort, startRegionsOnFreePorts } from './federation-support.js';
import { downloadPaths, httpsGet, MiB, randomPdf, scanMessage, sha256 } from './gateway-support.js';

const PW = 'Gateway-Fed-Pass-1';
const NORA = 'nora@north.example';
const SAM = 'sam@south.example';
const dir = tempDir('delegato-gwfed-');
let north: RunningAppliance;
let south: RunningAppliance;
let samId = '';

beforeAll(async () => {
  const northData = join(dir.path, 'north');
  const southData = join(dir.path, 'south');
  mkdirSync(northData, { recursive: true });
  mkdirSync(southData, { recursive: true });
  const federationKey = randomBytes(32);
  await createFederationCa(northData);
  for (const [region, data] of [
    ['north', northData],
    ['south', southData],
  ] as const) {
    await installRegionBundle(
      data,
      await issueRegionBundle(northData, { region, hosts: ['127.0.0.1'], federationKey }),
    );
  }
  [north, south] = (await startRegionsOnFreePorts(async () => {
    const ports = { north: await freeLoopbackPort(), south: await freeLoopbackPort() };
    const peers = `north=127.0.0.1:${ports.north},south=127.0.0.1:${ports.south}`;
    return (['north', 'south'] as const).map((region) => ({
      config: testConfig(dir.path, {
        DELEGATO_DATA_DIR: region === 'north' ? northData : southData,
        DELEGATO_REGION_ID: region,
        DELEGATO_SMTP_HOSTNAME: `mx.${region}.example`,
        DELEGATO_PORT_FEDERATION: String(ports[region]),
        DELEGATO_FEDERATION_PEERS: peers,
        DELEGATO_QUEUE_RETRY_SCHEDULE: '1',
      }),
    }));
  })) as [RunningAppliance, RunningAppliance];
  // Each region's own directory knows both domains (no replication in this test).
  for (const [app, other] of [
    [north, 'south'],
    [south, 'north'],
  ] as const) {
    await app.directory.addRegion(OP, other);
    await app.directory.addDomain(OP, `${app === north ? 'north' : 'south'}.example`);
    await app.directory.addDomain(OP, `${other}.example`, { region: other });
    for (const [domain, localPart] of [
      ['north.example', 'nora'],
      ['south.example', 'sam'],
    ] as const)
      await app.directory.addMailbox(OP, { domain, kind: 'role', localPart, password: PW });
  }
  samId = (await south.directory.resolveLogin(SAM))?.id ?? '';
  await south.store.ensureUser(samId);
  await south.directory.registerGateway(OP, { target: SAM });
}, 120_000);

afterAll(async () => {
  await north?.stop();
  await south?.stop();
  dir.remove();
});

describe('attachment gateway across regions', () => {
  it('replaces the PDF of mail arriving from another region, in the recipient’s home region', async () => {
    const pdf = randomPdf(3 * MiB);
    const c = await LineClient.connect(listenerPort(north, 'submission'));
    try {
      await c.smtpReply();
      await c.smtp('EHLO client.example');
      await c.smtp('STARTTLS');
      await c.startTls();
      await c.smtp('EHLO client.example');
      expect((await c.smtp(`AUTH PLAIN ${Buffer.from(`\0${NORA}\0${PW}`).toString('base64')}`)).code).toBe(
        235,
      );
      expect((await c.smtp(`MAIL FROM:<${NORA}>`)).code).toBe(250);
      expect((await c.smtp(`RCPT TO:<${SAM}>`)).code).toBe(250);
      expect((await c.smtp('DATA')).code).toBe(354);
      const message = scanMessage(SAM, pdf)
        .toString('latin1')
        .replace('From: Librarian <librarian@lib.example>', `From: <${NORA}>`);
      c.write(Buffer.from(message, 'latin1'));
      const done = await c.smtp('.', 60_000);
      expect(done.code, done.text).toBe(250);
      await c.smtp('QUIT');
    } finally {
      c.close();
    }
    let stored = Buffer.alloc(0);
    await waitFor(async () => {
      const [meta] = await south.store.listMessages(samId, 'INBOX');
      if (!meta) return false;
      const chunks: Buffer[] = [];
      for await (const chunk of (await south.store.openMessage(samId, 'INBOX', meta.uid)) as Readable)
        chunks.push(chunk as Buffer);
      stored = Buffer.concat(chunks);
      return true;
    }, 30_000);
    const text = stored.toString('latin1');
    expect(text).toMatch(/Received: from north \(region north/);
    expect(text).toContain('X-Delegato-Gateway: 1 part(s) replaced by download links at mx.south.example');
    expect(stored.length).toBeLessThan(20_000);
    const [path] = await downloadPaths(stored);
    expect((await simpleParser(stored)).text).toContain(
      `https://mx.south.example:${listenerPort(south, 'web')}/gateway/`,
    );
    const got = await httpsGet(listenerPort(south, 'web'), path as string);
    expect(got.status).toBe(200);
    expect(sha256(got.body)).toBe(sha256(pdf));
    // The link is south's: north's web listener does not know it.
    expect((await httpsGet(listenerPort(north, 'web'), path as string)).status).toBe(404);
  });
});
