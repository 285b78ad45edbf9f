/**
 * RFC details of the MX listener that third-party conformance runs found (issue 12), on raw sockets
 * against the real appliance (ports 0, real databases in a temp dir):
 *
 * - `RCPT TO:<Postmaster>` without a domain is accepted (RFC 5321 §4.5.1) and delivered like postmaster@
 *   of the appliance's domain (the directory's role mailbox, or wherever it is pointed);
 * - MAIL/RCPT parameters of no extension we offer get `555 5.5.4` (RFC 5321 §4.1.1.11, §4.1.1.3);
 * - malformed xtext in ENVID/ORCPT gets `501 5.5.4` (RFC 3461 §4);
 * - with `smtp.greetingDelayMs = 0` the greeting goes out at once (no early-talker pause).
 *
 * Other postmaster settings run on extra MxServers sharing the appliance's directory, store and queue.
 */
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { MxServer, type RunningMx } from '@delegato/mta';
import { createLogger } from '@delegato/observability';
import { LineClient, tempDir } from '@delegato/testkit';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { ensureTlsMaterial } from '../src/tls/self-signed.js';
import { addRose, startApplianceIn, TEST_OPERATOR, testConfig } from './appliance-support.js';

const ROSE = 'rose.pinkcheeks@iat.example';
const dir = tempDir('delegato-smtp-conformance-');
let app: RunningAppliance;
let port = 0;
let roseId = '';
let postmasterId = '';
const extra: RunningMx[] = [];

beforeAll(async () => {
  app = await startApplianceIn(dir.path, { DELEGATO_SMTP_HOSTNAME: 'mx1.iat.example' });
  port = app.listeners.find((l) => l.name === 'smtp')?.port ?? 0;
  roseId = await addRose(app, 'rose-password-1');
  const pm = await app.directory.lookupRecipient('postmaster@iat.example');
  if (pm.kind !== 'mailbox') throw new Error(`postmaster@iat.example is a ${pm.kind}`);
  postmasterId = pm.mailboxId;
  for (const id of [roseId, postmasterId]) await app.store.ensureUser(id);
}, 120_000);

afterAll(async () => {
  for (const mx of extra) await mx.close();
  await app?.stop();
  dir.remove();
}, 30_000);

/** Another MX listener on the appliance's directory, store and queue. */
async function mxWith(opts: { hostname: string; postmaster?: string; logger?: Logger }): Promise<number> {
  const config = testConfig(dir.path);
  const tls = await ensureTlsMaterial({ dataDir: config.data.dir, hostnames: ['localhost'] });
  const mx = await new MxServer({
    ...opts,
    region: config.region.id,
    tls: { key: tls.key, cert: tls.cert },
    internalNetworks: [],
    directory: app.directory,
    store: app.store,
    queue: app.queue,
    logger: opts.logger ?? createLogger({ level: 'fatal', destination: new PassThrough() }),
  }).listen(0, '127.0.0.1');
  extra.push(mx);
  return mx.address.port;
}

async function session(p = port): Promise<LineClient> {
  const c = await LineClient.connect(p);
  expect((await c.smtpReply()).code).toBe(220);
  expect((await c.smtp('EHLO client.example')).code).toBe(250);
  return c;
}

async function inboxCount(mailboxId: string): Promise<number> {
  return (await app.store.snapshot(mailboxId, 'INBOX')).messages.length;
}

/** Sends one message to `rcpt` (as written after `RCPT TO:`); returns the RCPT and the DATA replies. */
async function send(rcpt: string, p = port) {
  const c = await session(p);
  expect((await c.smtp('MAIL FROM:<sender@outside.example>')).code).toBe(250);
  const rcptReply = await c.smtp(`RCPT TO:${rcpt}`);
  let dataReply: { code: number; text: string } | undefined;
  if (rcptReply.code === 250) {
    expect((await c.smtp('DATA')).code).toBe(354);
    dataReply = await c.smtp('Subject: to the postmaster\r\n\r\nHello.\r\n.');
  }
  await c.smtp('QUIT');
  c.close();
  return { rcpt: rcptReply, data: dataReply };
}

describe('RCPT TO:<Postmaster> (RFC 5321 §4.5.1)', () => {
  it('is accepted without a domain, in any case, and delivered to postmaster@ of the host name’s domain', async () => {
    const before = await inboxCount(postmasterId);
    for (const rcpt of ['<Postmaster>', '<postmaster>', '<POSTMASTER>']) {
      const r = await send(rcpt);
      expect(r.rcpt.code, `${rcpt}: ${r.rcpt.text}`).toBe(250);
      expect(r.data?.code).toBe(250);
    }
    expect(await inboxCount(postmasterId)).toBe(before + 3);
  });

  it('follows postmaster@ when it is pointed elsewhere (the directory’s alias)', async () => {
    await app.directory.addAlias(TEST_OPERATOR, 'postmaster@iat.example', [ROSE]);
    try {
      const rose = await inboxCount(roseId);
      const pm = await inboxCount(postmasterId);
      const r = await send('<Postmaster>');
      expect(r.data?.code).toBe(250);
      expect(await inboxCount(roseId)).toBe(rose + 1);
      expect(await inboxCount(postmasterId)).toBe(pm);
    } finally {
      await app.directory.removeAlias(TEST_OPERATOR, 'postmaster@iat.example');
    }
  });

  it('goes to the configured address when there is one', async () => {
    const p = await mxWith({ hostname: 'mx.elsewhere.example', postmaster: ROSE });
    const before = await inboxCount(roseId);
    const r = await send('<Postmaster>', p);
    expect(r.data?.code).toBe(250);
    expect(await inboxCount(roseId)).toBe(before + 1);
  });

  it('is refused 550 5.1.1 only when no hosted domain stands behind the host name and none is configured', async () => {
    const p = await mxWith({ hostname: 'localhost' });
    const r = await send('<Postmaster>', p);
    expect(r.rcpt.code).toBe(550);
    expect(r.rcpt.text).toMatch(/^550 5\.1\.1 /);
    // postmaster@ with its domain is unaffected.
    expect((await send('<postmaster@iat.example>', p)).data?.code).toBe(250);
  });
});

describe('MAIL/RCPT parameters (RFC 5321 §4.1.1.11, RFC 3461 §4)', () => {
  it('accepts the parameters of the extensions we offer', async () => {
    const c = await session();
    const mail = await c.smtp(
      'MAIL FROM:<sender@outside.example> SIZE=100 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ+2B123+3Dx',
    );
    expect(mail.code, mail.text).toBe(250);
    const rcpt = await c.smtp(`RCPT TO:<${ROSE}> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;rose+2Bx@iat.example`);
    expect(rcpt.code, rcpt.text).toBe(250);
    // RFC 6533 §3: an ORCPT of type utf-8 may carry UTF-8.
    const utf8 = await c.smtp(`RCPT TO:<${ROSE}> ORCPT=utf-8;rosé@iat.example`);
    expect(utf8.code, utf8.text).toBe(250);
    c.close();
  });

  it('refuses unknown MAIL and RCPT parameters with 555 5.5.4, and the session goes on', async () => {
    const c = await session();
    for (const params of ['FOO=bar', 'XYZZY', 'SIZE=10 X-TRACE=1', 'AUTH=<>', 'MT-PRIORITY=3']) {
      const r = await c.smtp(`MAIL FROM:<sender@outside.example> ${params}`);
      expect(r.code, `MAIL ... ${params}: ${r.text}`).toBe(555);
      expect(r.text).toMatch(/^555 5\.5\.4 /);
    }
    expect((await c.smtp('MAIL FROM:<sender@outside.example>')).code).toBe(250);
    for (const params of ['FOO=bar', 'NOTIFY=NEVER XRCPT', 'RRVS=2030-01-01T00:00:00Z']) {
      const r = await c.smtp(`RCPT TO:<${ROSE}> ${params}`);
      expect(r.code, `RCPT ... ${params}: ${r.text}`).toBe(555);
      expect(r.text).toMatch(/^555 5\.5\.4 /);
    }
    expect((await c.smtp(`RCPT TO:<${ROSE}>`)).code).toBe(250);
    c.close();
  });

  it('refuses malformed xtext in ENVID and ORCPT with 501 5.5.4', async () => {
    const c = await session();
    // `+` must be followed by two upper-case hex digits; `=` and non-ASCII are not xchars.
    for (const envid of ['abc+zz', 'abc+2', 'abc+2b', 'a=b', 'abc+', 'caf\u00e9']) {
      const r = await c.smtp(`MAIL FROM:<sender@outside.example> ENVID=${envid}`);
      expect(r.code, `ENVID=${envid}: ${r.text}`).toBe(501);
      expect(r.text).toMatch(/^501 5\.5\.4 /);
    }
    expect((await c.smtp('MAIL FROM:<sender@outside.example> ENVID=ok+2Bfine')).code).toBe(250);
    for (const orcpt of [
      'rfc822;a+b@iat.example',
      'rfc822;a=b@iat.example',
      'rfc822;ros\u00e9@iat.example',
    ]) {
      const r = await c.smtp(`RCPT TO:<${ROSE}> ORCPT=${orcpt}`);
      expect(r.code, `ORCPT=${orcpt}: ${r.text}`).toBe(501);
      expect(r.text).toMatch(/^501 5\.5\.4 /);
    }
    expect((await c.smtp(`RCPT TO:<${ROSE}> ORCPT=rfc822;rose@iat.example`)).code).toBe(250);
    c.close();
  });
});

describe('greeting', () => {
  it('with greetingDelayMs = 0 the greeting is sent at once: a command right after connecting is answered', async () => {
    const c = await LineClient.connect(port);
    c.write('NOOP\r\n');
    expect((await c.smtpReply()).code).toBe(220);
    expect((await c.smtpReply()).code).toBe(250);
    c.close();
  });

  it('a client that resets the connection after QUIT is not logged as an error (smtp-source does)', async () => {
    const lines: string[] = [];
    const out = new PassThrough();
    out.on('data', (d: Buffer) => lines.push(d.toString()));
    const p = await mxWith({
      hostname: 'mx1.iat.example',
      logger: createLogger({ level: 'warn', destination: out }),
    });
    for (let i = 0; i < 3; i++) {
      const socket = connect(p, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.write('QUIT\r\n');
      await new Promise((r) => setTimeout(r, 20));
      socket.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(lines).toEqual([]);
  });
});

describe('Received fields (RFC 5321 §6.3 loop detection)', () => {
  const withHops = (n: number, subject: string) =>
    `${Array.from(
      { length: n },
      (_, i) =>
        `Received: from hop${i}.example (hop${i}.example [192.0.2.${i % 250}])\r\n\tby mx.example; Sun, 6 Dec 2026 04:00:00 +0000`,
    ).join('\r\n')}\r\nSubject: ${subject}\r\n\r\nHello.\r\n.`;

  it('100 Received fields pass; 101 get 554 5.4.6, nothing is stored, and the session goes on', async () => {
    const before = await inboxCount(roseId);
    const c = await session();
    expect((await c.smtp('MAIL FROM:<sender@outside.example>')).code).toBe(250);
    expect((await c.smtp(`RCPT TO:<${ROSE}>`)).code).toBe(250);
    expect((await c.smtp('DATA')).code).toBe(354);
    expect((await c.smtp(withHops(100, 'hundred hops'))).code).toBe(250);

    expect((await c.smtp('MAIL FROM:<sender@outside.example>')).code).toBe(250);
    expect((await c.smtp(`RCPT TO:<${ROSE}>`)).code).toBe(250);
    expect((await c.smtp('DATA')).code).toBe(354);
    const looped = await c.smtp(withHops(101, 'a loop'));
    expect(looped.code).toBe(554);
    expect(looped.text).toMatch(/^554 5\.4\.6 Too many hops/);

    expect((await c.smtp('MAIL FROM:<sender@outside.example>')).code).toBe(250);
    expect((await c.smtp(`RCPT TO:<${ROSE}>`)).code).toBe(250);
    expect((await c.smtp('DATA')).code).toBe(354);
    expect((await c.smtp('Subject: after the loop\r\n\r\nHello.\r\n.')).code).toBe(250);
    await c.smtp('QUIT');
    c.close();
    expect(await inboxCount(roseId)).toBe(before + 2);
  });
});
