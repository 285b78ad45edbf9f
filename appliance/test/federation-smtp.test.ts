/**
 * Mail between regions (issue 14, item 3; decision 0008): two real appliances in this process, north and
 * south, on loopback with the federation PKI of pki.ts (one CA, a certificate per region). Directory
 * replication is not wired yet, so each region's own directory knows both domains: south.example homed in
 * south (north: `region add south`, `domain add south.example --region south` through the real CLI), and
 * north.example homed in north.
 *
 * - north's user submits to south's user: the queue routes it to south's federation listener (implicit TLS,
 *   both certificates verified); it lands in south's INBOX with `Received: from north (region north,
 *   federation certificate verified ...)`; the DSN asked for comes from south, back over the channel.
 * - the federation port gives no greeting to clear text, to a client without a certificate, or with one of
 *   another CA; a verified peer cannot relay (550 5.7.1 for anything not homed in the receiving region).
 * - south down: north keeps the message queued (`delegato queue list`) and delivers it once south is back.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import {
  createFederationCa,
  freeLoopbackPort,
  installRegionBundle,
  issueRegionBundle,
  issueRegionCertificate,
  loadRegionTls,
  type RegionTls,
} from '@delegato/federation';
import { LineClient, tempDir, waitFor } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import type { Config } from '../src/config/schema.js';
import { TEST_OPERATOR, testConfig } from './appliance-support.js';
import {
  inboxCount,
  listenerPort,
  runCli,
  startRegion,
  startRegionsOnFreePorts,
} from './federation-support.js';

const OP = TEST_OPERATOR;
const NORA_PASSWORD = 'North-Pass-4242';
const SAM_PASSWORD = 'South-Pass-4242';
const NORA = 'nora.north@north.example';
const SAM = 'sam.south@south.example';

const dir = tempDir('delegato-fedsmtp-');
const northData = join(dir.path, 'north');
const southData = join(dir.path, 'south');
let north: RunningAppliance;
let south: RunningAppliance | undefined;
let southConfig: Config;
let northConfigRef: Config;
let northTls: RegionTls;
let southFederationPort = 0;
let noraId = '';
let samId = '';
/** JSON log lines of south (every start), for the refusal events. */
const southLog: Array<Record<string, unknown>> = [];

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The messages of a user's INBOX after `after` (a count), as text, once there are `count` more. */
async function newMessages(app: RunningAppliance, userId: string, after: number, count = 1) {
  let uids: number[] = [];
  await waitFor(async () => {
    const snap = await app.store.snapshot(userId, 'INBOX');
    uids = snap.messages.slice(after).map((m) => m.uid);
    return uids.length >= count;
  }, 30_000);
  return Promise.all(uids.map(async (uid) => readAll(await app.store.openMessage(userId, 'INBOX', uid))));
}

/** A personal mailbox `first.last@domain` (in whichever region's directory `app` is). */
function addPerson(app: RunningAppliance, domain: string, first: string, last: string, password: string) {
  return app.directory.addMailbox(OP, {
    domain,
    kind: 'personal',
    firstName: first,
    lastName: last,
    password,
  });
}

/** Submits one message as Nora on north's submission port (STARTTLS + AUTH PLAIN); returns when 250. */
async function submitFromNorth(to: string, subject: string, mailArgs = '', rcptArgs = ''): Promise<void> {
  const c = await LineClient.connect(listenerPort(north, 'submission'));
  await c.smtpReply();
  await c.smtp('EHLO client.example');
  await c.smtp('STARTTLS');
  await c.startTls();
  await c.smtp('EHLO client.example');
  const token = Buffer.from(`\0${NORA}\0${NORA_PASSWORD}`).toString('base64');
  expect((await c.smtp(`AUTH PLAIN ${token}`)).code).toBe(235);
  expect((await c.smtp(`MAIL FROM:<${NORA}>${mailArgs}`)).code).toBe(250);
  expect((await c.smtp(`RCPT TO:<${to}>${rcptArgs}`)).code).toBe(250);
  expect((await c.smtp('DATA')).code).toBe(354);
  const done = await c.smtp(
    `From: Nora <${NORA}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@north.example>\r\n\r\nHello from the north\r\n.`,
  );
  expect(done.code).toBe(250);
  c.close();
}

/**
 * A raw TLS (or clear) client on south's federation port: what it received before the server closed (or
 * `waitMs` passed), and whether it was closed.
 */
function probeFederationPort(opts: {
  tls?: { cert?: string; key?: string };
  clear?: boolean;
  send?: string;
  waitMs?: number;
}): Promise<{ received: string; closed: boolean }> {
  return new Promise((resolve) => {
    let received = '';
    let closed = false;
    const socket = opts.clear
      ? netConnect({ port: southFederationPort, host: '127.0.0.1' })
      : tlsConnect({
          port: southFederationPort,
          host: '127.0.0.1',
          rejectUnauthorized: false,
          ...(opts.tls?.cert ? { cert: opts.tls.cert, key: opts.tls.key } : {}),
        });
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
    });
    socket.once(opts.clear ? 'connect' : 'secureConnect', () => {
      if (opts.send) setTimeout(() => socket.write(opts.send as string), 300);
    });
    setTimeout(() => {
      socket.destroy();
      resolve({ received, closed });
    }, opts.waitMs ?? 1500);
  });
}

/**
 * An SMTP session on south's federation port with a region certificate (what north's queue does), after
 * the greeting and EHLO.
 */
async function peerSession(tls: RegionTls, ehlo: string): Promise<LineClient> {
  const socket = tlsConnect({
    port: southFederationPort,
    host: '127.0.0.1',
    cert: tls.certPem,
    key: tls.keyPem,
    ca: [tls.caCertPem],
    checkServerIdentity: () => undefined,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  // LineClient over a socket connected here (its constructor is private to TypeScript only).
  const client = new (LineClient as unknown as new (s: TLSSocket) => LineClient)(socket);
  expect((await client.smtpReply()).code).toBe(220);
  expect((await client.smtp(`EHLO ${ehlo}`)).code).toBe(250);
  return client;
}

beforeAll(async () => {
  mkdirSync(northData, { recursive: true });
  mkdirSync(southData, { recursive: true });
  // The PKI: the CA in north, a bundle for each region (pki.ts, what `federation init | issue | join` do).
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
  northTls = await loadRegionTls(northData);

  const started = await startRegionsOnFreePorts(async () => {
    const northFederationPort = await freeLoopbackPort();
    southFederationPort = await freeLoopbackPort();
    const common = { DELEGATO_QUEUE_RETRY_SCHEDULE: '1', DELEGATO_QUEUE_DELAY_NOTIFY_AFTER_SECONDS: '3600' };
    const northConfig = testConfig(dir.path, {
      ...common,
      DELEGATO_DATA_DIR: northData,
      DELEGATO_REGION_ID: 'north',
      DELEGATO_SMTP_HOSTNAME: 'mx.north.example',
      DELEGATO_PORT_FEDERATION: String(northFederationPort),
      // The same list in both regions: the entry for the region itself is ignored.
      DELEGATO_FEDERATION_PEERS: `north=127.0.0.1:${northFederationPort},south=127.0.0.1:${southFederationPort}`,
    });
    southConfig = testConfig(dir.path, {
      ...common,
      DELEGATO_DATA_DIR: southData,
      DELEGATO_REGION_ID: 'south',
      DELEGATO_SMTP_HOSTNAME: 'mx.south.example',
      DELEGATO_PORT_FEDERATION: String(southFederationPort),
      DELEGATO_FEDERATION_PEERS: `north=127.0.0.1:${northFederationPort},south=127.0.0.1:${southFederationPort}`,
    });
    // The federation API (port.sync, decision 0011) of each region, named in the other's peer entry.
    const syncPorts = { north: await freeLoopbackPort(), south: await freeLoopbackPort() };
    for (const config of [northConfig, southConfig]) {
      config.port.sync = syncPorts[config.region.id as 'north' | 'south'];
      config.federation.peers = config.federation.peers.map((p) => ({
        ...p,
        syncPort: syncPorts[p.region as 'north' | 'south'],
      }));
    }
    northConfigRef = northConfig;
    return [{ config: northConfig }, { config: southConfig, log: southLog }];
  });
  [north, south] = started as [RunningAppliance, RunningAppliance];

  // north: its own domain, and south.example homed in south through the real CLI (`--region`).
  const cli = (args: string[]) =>
    runCli(args, { cwd: dir.path, env: { DELEGATO_DATA_DIR: northData } }).then((r) => {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return r.stdout;
    });
  await cli(['region', 'add', 'south']);
  expect(await cli(['domain', 'add', 'south.example', '--region', 'south'])).toContain(
    'south.example (region south;',
  );
  await north.directory.addDomain(OP, 'north.example');
  const nora = await addPerson(north, 'north.example', 'Nora', 'North', NORA_PASSWORD);
  expect(nora.address).toBe(NORA);
  noraId = (await north.directory.resolveLogin(NORA))?.id ?? '';
  await addPerson(north, 'south.example', 'Sam', 'South', SAM_PASSWORD);

  // south: its own domain and mailbox; north.example homed in north (for the way back).
  await south.directory.addDomain(OP, 'south.example');
  const sam = await addPerson(south, 'south.example', 'Sam', 'South', SAM_PASSWORD);
  expect(sam.address).toBe(SAM);
  samId = (await south.directory.resolveLogin(SAM))?.id ?? '';
  await south.directory.addRegion(OP, 'north');
  await south.directory.addDomain(OP, 'north.example', { region: 'north' });
  await addPerson(south, 'north.example', 'Nora', 'North', NORA_PASSWORD);
  await north.store.ensureUser(noraId);
  await south.store.ensureUser(samId);
}, 120_000);

afterAll(async () => {
  await north?.stop();
  await south?.stop();
  dir.remove();
});

describe('mail between regions', () => {
  it('north submission -> south INBOX over the federation channel; Received names the verified region north', async () => {
    expect(listenerPort(north, 'federation')).toBeGreaterThan(0);
    const live = south as RunningAppliance;
    expect(listenerPort(live, 'federation')).toBe(southFederationPort);
    const before = await inboxCount(live, samId);
    await submitFromNorth(SAM, 'fed-first');
    const submitted = Date.now();
    const [message] = await newMessages(live, samId, before);
    const ms = Date.now() - submitted;
    // South's smtp.received (its 250 after DATA) splits the time: north's queue + the hop, then the poll.
    const accepted = southLog.find((l) => l.event === 'smtp.received' && l.peer === 'north');
    console.info(
      `inter-region delivery, north submission 250 -> south INBOX: ${ms} ms (south's 250 after ${Date.parse(String(accepted?.time)) - submitted} ms)`,
    );
    expect(message).toContain('Subject: fed-first');
    // South's own Received line, first: the peer named from its certificate, TLS, no AUTH.
    expect(message).toMatch(
      /^Return-Path: <nora\.north@north\.example>\r\nReceived: from north \(region north, federation certificate verified \[127\.0\.0\.1\]\)\r\n\tby mx\.south\.example \(Delegato\) with ESMTPS id /,
    );
    // ... and north's submission line below it.
    expect(message).toMatch(/\tby mx\.north\.example \(Delegato\) with ESMTPSA id /);
    await waitFor(async () => (await north.queue.list()).length === 0, 30_000);
  }, 60_000);

  it('delegato trace in north follows the message to south over the federation API; south unreachable is said', async () => {
    const trace = (args: string[]) =>
      runCli(['trace', ...args], { cwd: dir.path, env: { DELEGATO_DATA_DIR: northData } });
    const r = await trace(['<fed-first@north.example>']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    console.info(`trace across regions:\n${r.stdout}`);
    expect(lines[0]).toBe('-- region north (here):');
    const heading = lines.indexOf('-- region south (<fed-first@north.example>):');
    expect(heading).toBeGreaterThan(0);
    // North's part first: the hop to south (delivered, passed on over the federation channel).
    expect(
      lines
        .slice(0, heading)
        .some((l) => /\t(delivered|relayed)\tsam\.south@south\.example via 127\.0\.0\.1/.test(l)),
    ).toBe(true);
    // South's part below: its own delivery to Sam's mailbox.
    expect(lines.slice(heading + 1).some((l) => /\tdelivered\tsam\.south@south\.example/.test(l))).toBe(true);
    const json = JSON.parse((await trace(['fed-first@north.example', '--json'])).stdout) as Array<
      Record<string, unknown>
    >;
    expect(json.some((e) => e.region === 'south' && e.event === 'delivered')).toBe(true);
    expect(southLog.some((l) => l.event === 'federation.trace_served' && l.region === 'north')).toBe(true);

    // South's federation API unreachable (a closed port in north's peer entry): a clear line, exit 0.
    const peers = northConfigRef.federation.peers;
    northConfigRef.federation.peers = peers.map((p) => (p.region === 'south' ? { ...p, syncPort: 1 } : p));
    try {
      const down = await trace(['<fed-first@north.example>']);
      expect(down.code).toBe(0);
      expect(down.stdout).toMatch(
        /^-- region south \(<fed-first@north\.example>\): not asked or no answer: unreachable \(https:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/m,
      );
    } finally {
      northConfigRef.federation.peers = peers;
    }
  }, 60_000);

  it('DSN across the hop: NOTIFY, ENVID and ORCPT reach south; the success DSN comes from south, none "relayed" from north', async () => {
    const live = south as RunningAppliance;
    const beforeNora = await inboxCount(north, noraId);
    await submitFromNorth(
      SAM,
      'fed-dsn',
      ' ENVID=fed-env-1 RET=HDRS',
      ` NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;${SAM}`,
    );
    const [dsn] = await newMessages(north, noraId, beforeNora);
    expect(dsn).toMatch(/Content-Type: multipart\/report; report-type=delivery-status/i);
    expect(dsn).toMatch(/Reporting-MTA: dns; ?mx\.south\.example/);
    expect(dsn).toMatch(/Original-Envelope-Id: fed-env-1/);
    expect(dsn).toMatch(/Original-Recipient: rfc822; ?sam\.south@south\.example/);
    expect(dsn).toMatch(/Action: delivered/);
    expect(dsn).not.toMatch(/Action: relayed/);
    // The DSN itself came back over the channel: south's Received line in north names region south.
    expect(dsn).toMatch(/Received: from south \(region south, federation certificate verified/);
    expect(await inboxCount(live, samId)).toBeGreaterThan(0);
    // Nothing else arrives for Nora (no "relayed" notice from north's queue).
    await new Promise((r) => setTimeout(r, 1500));
    expect(await inboxCount(north, noraId)).toBe(beforeNora + 1);
  }, 60_000);

  it('the federation port greets nobody in clear text, without a certificate, or with one of another CA', async () => {
    // Another federation's CA issuing a certificate for "north".
    const otherDir = join(dir.path, 'other');
    mkdirSync(otherDir, { recursive: true });
    const otherCa = await createFederationCa(otherDir);
    const foreign = await issueRegionCertificate(otherCa, { region: 'north' });

    const clear = await probeFederationPort({ clear: true, send: 'EHLO north\r\n' });
    const noCert = await probeFederationPort({ send: 'EHLO north\r\n' });
    const otherCaCert = await probeFederationPort({
      tls: { cert: foreign.certPem, key: foreign.keyPem },
      send: 'EHLO north\r\n',
    });
    for (const r of [clear, noCert, otherCaCert]) {
      expect(r.received).not.toMatch(/^220/m);
      expect(r.received).not.toMatch(/^250/m);
      expect(r.closed).toBe(true);
    }
    const reasons = southLog
      .filter((l) => l.event === 'federation.smtp_refused')
      .map((l) => String(l.reason));
    expect(reasons).toEqual(
      expect.arrayContaining(['clear text', 'no client certificate', 'certificate not trusted']),
    );
  }, 30_000);

  it('a verified peer gets 550 5.7.1 for anything not homed in the receiving region, and the policy for the rest', async () => {
    const live = south as RunningAppliance;
    // The EHLO name is not what names the peer: the certificate is.
    const c = await peerSession(northTls, 'central.spoofed.example');
    expect((await c.smtp(`MAIL FROM:<${NORA}>`)).code).toBe(250);
    const notHomed = await c.smtp(`RCPT TO:<${NORA}>`);
    expect(notHomed.text).toMatch(/^550 5\.7\.1 .*not homed in region south/);
    const external = await c.smtp('RCPT TO:<friend@elsewhere.example>');
    expect(external.text).toMatch(/^550 5\.7\.1 /);
    expect((await c.smtp('RCPT TO:<nobody@south.example>')).text).toMatch(/^550 5\.1\.1 /);
    expect((await c.smtp(`RCPT TO:<${SAM}>`)).code).toBe(250);
    const before = await inboxCount(live, samId);
    expect((await c.smtp('DATA')).code).toBe(354);
    const done = await c.smtp(`From: <${NORA}>\r\nSubject: fed-direct\r\n\r\nhi\r\n.`);
    expect(done.code).toBe(250);
    await c.smtp('QUIT');
    c.close();
    const [message] = await newMessages(live, samId, before);
    expect(message).toMatch(/^Received: from north \(region north, federation certificate verified/m);
    expect(message).not.toContain('spoofed');
    // Nothing was queued in south for the refused recipients.
    expect(await live.queue.list()).toEqual([]);
    expect(southLog.some((l) => l.event === 'federation.smtp_not_homed' && l.peer === 'north')).toBe(true);
  }, 30_000);

  it('south down: queued in north (`delegato queue list`), delivered once south is back', async () => {
    const before = await inboxCount(south as RunningAppliance, samId);
    await south?.stop();
    south = undefined;
    await submitFromNorth(SAM, 'fed-later');
    let listed = '';
    await waitFor(async () => {
      const r = await runCli(['queue', 'list'], { cwd: dir.path, env: { DELEGATO_DATA_DIR: northData } });
      listed = r.stdout;
      return listed.includes(`${SAM} (`) && listed.includes('451 4.4.1');
    }, 30_000);
    expect(listed).toContain(SAM);
    // Still queued after a few retries (schedule: every second).
    await new Promise((r) => setTimeout(r, 2500));
    const [queued] = await north.queue.list();
    expect(queued?.recipients[0]).toMatchObject({ address: SAM, state: 'queued' });
    expect(queued?.recipients[0]?.attempts).toBeGreaterThanOrEqual(2);

    south = await startRegion(southConfig, southLog);
    const messages = await newMessages(south, samId, before);
    expect(messages.some((m) => m.includes('Subject: fed-later'))).toBe(true);
    await waitFor(async () => (await north.queue.list()).length === 0, 30_000);
  }, 60_000);
});
