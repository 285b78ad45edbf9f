/**
 * Built-in lists across regions (issue 19): two real appliances in this process, north and south, with the
 * federation PKI; the list's domain south.example is homed in south, and each region's own directory knows
 * the list (directory replication is not wired in these tests: see federation-smtp.test.ts).
 *
 * - a post accepted by north's submission is queued to south, expanded there (List-Id, the list's bounce
 *   address), and the member homed in north gets a copy back over the federation channel;
 * - when north's view of the list lets a sender through that south refuses (a change not replicated yet),
 *   south refuses in the transaction with north (550 5.7.1 with the reason) and the sender gets a DSN from
 *   north.
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { TEST_OPERATOR as OP, testConfig } from './appliance-support.js';
import { listenerPort, startRegionsOnFreePorts } from './federation-support.js';

const NORA = 'nora.north@north.example';
const SAM = 'sam.south@south.example';
const PASSWORD = 'Region-Pass-4242';
const dir = tempDir('delegato-lists-fed-');
const northData = join(dir.path, 'north');
const southData = join(dir.path, 'south');
let north: RunningAppliance;
let south: RunningAppliance;

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The INBOX of `address` in `app`, as text, once one message contains `text`. */
async function waitForMessage(app: RunningAppliance, address: string, text: string): Promise<string> {
  const id = (await app.directory.resolveLogin(address))?.id ?? '';
  await app.store.ensureUser(id);
  let found = '';
  await waitFor(async () => {
    for (const m of (await app.store.snapshot(id, 'INBOX')).messages) {
      const body = await readAll(await app.store.openMessage(id, 'INBOX', m.uid));
      if (body.includes(text)) found = body;
    }
    return found !== '';
  }, 30_000);
  return found;
}

/** Nora submits on north's submission port (STARTTLS + AUTH PLAIN); returns the reply to DATA. */
async function noraPosts(to: string, subject: string): Promise<number> {
  const c = await LineClient.connect(listenerPort(north, 'submission'));
  try {
    await c.smtpReply();
    await c.smtp('EHLO client.example');
    await c.smtp('STARTTLS');
    await c.startTls();
    await c.smtp('EHLO client.example');
    const token = Buffer.from(`\0${NORA}\0${PASSWORD}`).toString('base64');
    expect((await c.smtp(`AUTH PLAIN ${token}`)).code).toBe(235);
    expect((await c.smtp(`MAIL FROM:<${NORA}>`)).code).toBe(250);
    expect((await c.smtp(`RCPT TO:<${to}>`)).code).toBe(250);
    expect((await c.smtp('DATA')).code).toBe(354);
    return (
      await c.smtp(
        `From: Nora <${NORA}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\n\r\nBody of ${subject}\r\n.`,
      )
    ).code;
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  mkdirSync(northData, { recursive: true });
  mkdirSync(southData, { recursive: true });
  const federationKey = randomBytes(32);
  await createFederationCa(northData);
  await installRegionBundle(
    northData,
    await issueRegionBundle(northData, { region: 'north', hosts: ['127.0.0.1'], federationKey }),
  );
  await installRegionBundle(
    southData,
    await issueRegionBundle(northData, { region: 'south', hosts: ['127.0.0.1'], federationKey }),
  );
  const started = await startRegionsOnFreePorts(async () => {
    const ports = { north: await freeLoopbackPort(), south: await freeLoopbackPort() };
    const peers = `north=127.0.0.1:${ports.north},south=127.0.0.1:${ports.south}`;
    const common = { DELEGATO_QUEUE_RETRY_SCHEDULE: '1', DELEGATO_FEDERATION_PEERS: peers };
    return (['north', 'south'] as const).map((region) => ({
      config: testConfig(dir.path, {
        ...common,
        DELEGATO_DATA_DIR: region === 'north' ? northData : southData,
        DELEGATO_REGION_ID: region,
        DELEGATO_SMTP_HOSTNAME: `mx.${region}.example`,
        DELEGATO_PORT_FEDERATION: String(ports[region]),
      }),
    }));
  });
  [north, south] = started as [RunningAppliance, RunningAppliance];
  // Both directories: north.example homed in north, south.example in south, Nora and Sam.
  for (const [app, other] of [
    [north, 'south'],
    [south, 'north'],
  ] as const) {
    await app.directory.addRegion(OP, other);
    for (const [domain, region] of [
      ['north.example', 'north'],
      ['south.example', 'south'],
    ] as const) {
      const home = app === north ? 'north' : 'south';
      await app.directory.addDomain(OP, domain, region === home ? {} : { region });
    }
    for (const [domain, first, last] of [
      ['north.example', 'Nora', 'North'],
      ['south.example', 'Sam', 'South'],
    ] as const) {
      await app.directory.addMailbox(OP, {
        domain,
        kind: 'personal',
        firstName: first,
        lastName: last,
        password: PASSWORD,
      });
    }
    // club@: anyone may post, in both views. team@: north's view lets anyone post; south's only members.
    await app.directory.createList(OP, {
      address: 'club@south.example',
      owner: SAM,
      senders: 'anyone',
      members: [SAM, NORA],
    });
    await app.directory.createList(OP, {
      address: 'team@south.example',
      owner: SAM,
      senders: app === north ? 'anyone' : 'members',
      members: [SAM],
    });
  }
}, 120_000);

afterAll(async () => {
  await north?.stop();
  await south?.stop();
  dir.remove();
});

describe('lists across regions', () => {
  it("a post taken by north is expanded in the list's region; the member in north gets a copy back", async () => {
    expect(await noraPosts('club@south.example', 'Across regions')).toBe(250);
    const sams = await waitForMessage(south, SAM, 'Body of Across regions');
    expect(sams).toMatch(/^Return-Path: <club-bounces@south\.example>/);
    expect(sams).toContain('List-Id: <club.south.example>');
    const noras = await waitForMessage(north, NORA, 'Body of Across regions');
    expect(noras).toContain('List-Id: <club.south.example>');
    expect(noras).toContain('X-Loop: club@south.example');
  });

  it("the members' bounces reaching north go to the list's region, where they end", async () => {
    const c = await LineClient.connect(listenerPort(north, 'smtp'));
    try {
      await c.smtpReply();
      await c.smtp('EHLO remote.example');
      expect((await c.smtp('MAIL FROM:<>')).code).toBe(250);
      expect((await c.smtp('RCPT TO:<club-bounces@south.example>')).code).toBe(250);
      expect((await c.smtp('DATA')).code).toBe(354);
      expect(
        (await c.smtp('From: <mailer-daemon@remote.example>\r\nSubject: Undeliverable\r\n\r\nGone.\r\n.'))
          .code,
      ).toBe(250);
    } finally {
      c.close();
    }
    let trace: Array<{ event: string; reply: string | null }> = [];
    await waitFor(async () => {
      trace = await north.queue.trace('club-bounces@south.example');
      return trace.some((e) => e.event === 'delivered');
    }, 30_000);
    // Taken by south's list (a bounce is logged, kept from the poster), not refused as an unknown address.
    expect(trace.find((e) => e.event === 'delivered')?.reply).toMatch(
      /Bounce for club@south\.example received/,
    );
  });

  it("a sender the list's region refuses gets a DSN from the region that took the message", async () => {
    expect(await noraPosts('team@south.example', 'Not a member')).toBe(250);
    const dsn = await waitForMessage(north, NORA, 'Not allowed to post: only members may post to');
    expect(dsn).toContain('Status: 5.7.1');
    expect(dsn).toContain('team@south.example');
    expect(dsn).toMatch(/Content-Type: multipart\/report; report-type=delivery-status/i);
    const samsId = (await south.directory.resolveLogin(SAM))?.id ?? '';
    const snap = await south.store.snapshot(samsId, 'INBOX');
    for (const m of snap.messages)
      expect(await readAll(await south.store.openMessage(samsId, 'INBOX', m.uid))).not.toContain(
        'Body of Not a member',
      );
  });
});
