/**
 * IMAP and POP3 sessions of mailboxes homed in another region (issue 14, item 4; decision 0010): two real
 * appliances in this process, north and south, on loopback with the federation PKI of pki.ts. Each region's
 * own directory knows south.example (north: homed in region south, with Sam's mailbox and password; south:
 * its own domain), as in federation-smtp.test.ts.
 *
 * - Sam logs in at north (the wrong region): IMAP (imapflow) sees south's INBOX, and an APPEND at north lands
 *   in south's store; POP3 (raw lines) lists south's maildrop.
 * - south's proxy port refuses a client without a federation certificate, and a mailbox not homed there.
 * - south down: the login at north answers NO [UNAVAILABLE] / -ERR [SYS/TEMP], not a failed login.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import {
  createFederationCa,
  freeLoopbackPort,
  installRegionBundle,
  issueRegionBundle,
  loadRegionTls,
  type RegionTls,
} from '@delegato/federation';
import { LineClient, tempDir } from '@delegato/testkit';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import type { Config } from '../src/config/schema.js';
import { TEST_OPERATOR, testConfig } from './appliance-support.js';
import { inboxCount, listenerPort, startRegionsOnFreePorts } from './federation-support.js';

const OP = TEST_OPERATOR;
const SAM = 'sam.south@south.example';
const SAM_PASSWORD = 'South-Pass-4242';

const dir = tempDir('delegato-fedproxy-');
const northData = join(dir.path, 'north');
const southData = join(dir.path, 'south');
let north: RunningAppliance;
let south: RunningAppliance | undefined;
let northTls: RegionTls;
let southProxyPort = 0;
let samId = '';
const northLog: Array<Record<string, unknown>> = [];
const southLog: Array<Record<string, unknown>> = [];

function message(subject: string): string {
  return `From: <someone@example.org>\r\nTo: <${SAM}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.org>\r\n\r\nHello Sam\r\n`;
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
  northTls = await loadRegionTls(northData);

  // Ports picked beforehand may be taken by another test process before the bind: picked again then.
  const [startedNorth, startedSouth] = await startRegionsOnFreePorts(async () => {
    const [northFed, southFed, northProxy] = await Promise.all([
      freeLoopbackPort(),
      freeLoopbackPort(),
      freeLoopbackPort(),
    ]);
    southProxyPort = await freeLoopbackPort();
    const peers = `north=127.0.0.1:${northFed},south=127.0.0.1:${southFed}`;
    const withProxyPorts = (config: Config): Config => {
      config.federation.peers = config.federation.peers.map((p) => ({
        ...p,
        proxyPort: p.region === 'south' ? southProxyPort : northProxy,
      }));
      return config;
    };
    const configOf = (region: 'north' | 'south', data: string, fed: number, proxy: number) =>
      withProxyPorts(
        testConfig(dir.path, {
          DELEGATO_DATA_DIR: data,
          DELEGATO_REGION_ID: region,
          DELEGATO_SMTP_HOSTNAME: `mx.${region}.example`,
          DELEGATO_PORT_FEDERATION: String(fed),
          DELEGATO_PORT_PROXY: String(proxy),
          DELEGATO_FEDERATION_PEERS: peers,
        }),
      );
    return [
      { config: configOf('north', northData, northFed, northProxy), log: northLog },
      { config: configOf('south', southData, southFed, southProxyPort), log: southLog },
    ];
  });
  if (!startedNorth || !startedSouth) throw new Error('a region did not start');
  north = startedNorth;
  const live: RunningAppliance = startedSouth;
  south = live;

  // north: south.example homed in south, with Sam's mailbox (the login is checked here).
  await north.directory.addRegion(OP, 'south');
  await north.directory.addDomain(OP, 'south.example', { region: 'south' });
  const add = (app: RunningAppliance) =>
    app.directory.addMailbox(OP, {
      domain: 'south.example',
      kind: 'personal',
      firstName: 'Sam',
      lastName: 'South',
      password: SAM_PASSWORD,
    });
  await add(north);
  // south: its own domain and Sam's mailbox, with one message delivered there.
  await live.directory.addDomain(OP, 'south.example');
  expect((await add(live)).address).toBe(SAM);
  samId = (await live.directory.resolveLogin(SAM))?.id ?? '';
  await live.store.ensureUser(samId);
  await live.store.append(samId, 'INBOX', Readable.from([Buffer.from(message('homed-in-south'))]));
}, 120_000);

afterAll(async () => {
  await north?.stop();
  await south?.stop();
  dir.remove();
});

describe('IMAP and POP3 proxy to the home region', () => {
  it('IMAP at north reaches south: SELECT shows south INBOX, APPEND lands in south', async () => {
    expect(listenerPort(south as RunningAppliance, 'proxy')).toBe(southProxyPort);
    const live = south as RunningAppliance;
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: listenerPort(north, 'imap'),
      secure: false,
      auth: { user: SAM, pass: SAM_PASSWORD },
      logger: false,
      tls: { rejectUnauthorized: false },
      disableAutoIdle: true,
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const box = await client.mailboxOpen('INBOX');
      expect(box.exists).toBeGreaterThanOrEqual(1);
      const first = await client.fetchOne('1', { envelope: true });
      expect(first ? first.envelope?.subject : undefined).toBe('homed-in-south');
      const before = await inboxCount(live, samId);
      await client.append('INBOX', message('appended-at-north'));
      expect(await inboxCount(live, samId)).toBe(before + 1);
    } finally {
      await client.logout();
    }
    const login = northLog.find((l) => l.event === 'federation.proxy_login' && l.protocol === 'imap');
    expect(login).toMatchObject({ region: 'south' });
    expect(
      southLog.find((l) => l.event === 'federation.proxy_accepted' && l.protocol === 'imap'),
    ).toMatchObject({ peer: 'north', user: samId });
  }, 60_000);

  it('POP3 at north lists south maildrop', async () => {
    const live = south as RunningAppliance;
    const count = await inboxCount(live, samId);
    const c = await LineClient.connect(listenerPort(north, 'pop3'));
    try {
      expect(await c.line()).toMatch(/^\+OK/);
      c.write('USER sam.south@south.example\r\n');
      expect(await c.line()).toMatch(/^\+OK/);
      c.write(`PASS ${SAM_PASSWORD}\r\n`);
      // South's answer (its maildrop), passed on by north.
      expect(await c.line()).toMatch(new RegExp(`^\\+OK Logged in, ${count} messages \\(\\d+ octets\\)$`));
      c.write('STAT\r\n');
      expect(await c.line()).toMatch(new RegExp(`^\\+OK ${count} `));
      c.write('QUIT\r\n');
      expect(await c.line()).toMatch(/^\+OK/);
      await c.waitClosed();
    } finally {
      c.close();
    }
  }, 60_000);

  it('commands pipelined right after the login reach the home region, in order (IMAP and POP3)', async () => {
    const live = south as RunningAppliance;
    const count = await inboxCount(live, samId);
    const imap = await LineClient.connect(listenerPort(north, 'imap'));
    try {
      expect(await imap.line()).toMatch(/^\* OK/);
      // One write: LOGIN and what follows it, before LOGIN's answer (RFC 9051 §5.5 allows it).
      imap.write(`a LOGIN ${SAM} ${SAM_PASSWORD}\r\nb SELECT INBOX\r\nc NOOP\r\nd LOGOUT\r\n`);
      const lines: string[] = [];
      for (;;) {
        const l = await imap.line();
        lines.push(l);
        if (l.startsWith('d ')) break;
      }
      expect(lines.find((l) => l.startsWith('a '))).toMatch(/^a OK/);
      expect(lines).toContain(`* ${count} EXISTS`);
      expect(lines.find((l) => l.startsWith('b '))).toMatch(/^b OK \[READ-WRITE\]/);
      expect(lines.find((l) => l.startsWith('c '))).toMatch(/^c OK/);
      expect(lines.at(-1)).toMatch(/^d OK/);
      const order = ['a ', 'b ', 'c ', 'd '].map((t) => lines.findIndex((l) => l.startsWith(t)));
      expect([...order].sort((x, y) => x - y)).toEqual(order);
    } finally {
      imap.close();
    }
    const pop = await LineClient.connect(listenerPort(north, 'pop3'));
    try {
      expect(await pop.line()).toMatch(/^\+OK/);
      // RFC 2449 PIPELINING: USER, PASS and the commands after them in one write.
      pop.write(`USER ${SAM}\r\nPASS ${SAM_PASSWORD}\r\nSTAT\r\nQUIT\r\n`);
      expect(await pop.line()).toMatch(/^\+OK/);
      expect(await pop.line()).toMatch(/^\+OK Logged in/);
      expect(await pop.line()).toMatch(new RegExp(`^\\+OK ${count} `));
      expect(await pop.line()).toMatch(/^\+OK/);
      await pop.waitClosed();
    } finally {
      pop.close();
    }
  }, 60_000);

  it('the proxy port refuses a client without a federation certificate, and a mailbox not homed there', async () => {
    const noCert = await probe({});
    expect(noCert.received).toBe('');
    expect(noCert.closed).toBe(true);
    const notHomed = await probe({
      cert: northTls.certPem,
      key: northTls.keyPem,
      send: 'DELEGATO-PROXY/1 imap nobody@north.example 192.0.2.1\r\n',
    });
    expect(notHomed.received).toMatch(/^\* BYE \[UNAVAILABLE\]/);
    expect(southLog.some((l) => l.event === 'federation.proxy_refused')).toBe(true);
  }, 30_000);

  it('home region down: NO [UNAVAILABLE] and -ERR [SYS/TEMP], not counted as failed logins', async () => {
    await south?.stop();
    south = undefined;
    for (let i = 0; i < 6; i++) {
      const c = await LineClient.connect(listenerPort(north, 'imap'));
      try {
        await c.line();
        c.write(`a1 LOGIN ${SAM} ${SAM_PASSWORD}\r\n`);
        expect(await c.line()).toMatch(/^a1 NO \[UNAVAILABLE\] /);
      } finally {
        c.close();
      }
    }
    const p = await LineClient.connect(listenerPort(north, 'pop3'));
    try {
      await p.line();
      p.write(`USER ${SAM}\r\n`);
      await p.line();
      p.write(`PASS ${SAM_PASSWORD}\r\n`);
      expect(await p.line()).toMatch(/^-ERR \[SYS\/TEMP\] /);
    } finally {
      p.close();
    }
    expect(northLog.some((l) => l.event === 'federation.proxy_unavailable')).toBe(true);
    expect(northLog.some((l) => l.event === 'imap.auth_failed')).toBe(false);
  }, 60_000);
});

function probe(opts: {
  cert?: string;
  key?: string;
  send?: string;
}): Promise<{ received: string; closed: boolean }> {
  return new Promise((resolve) => {
    let received = '';
    let closed = false;
    const socket = tlsConnect({
      port: southProxyPort,
      host: '127.0.0.1',
      rejectUnauthorized: false,
      ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
    });
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
    });
    socket.once('secureConnect', () => {
      if (opts.send) socket.write(opts.send);
    });
    setTimeout(() => {
      socket.destroy();
      resolve({ received, closed });
    }, 1500);
  });
}
