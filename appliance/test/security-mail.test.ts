/**
 * Issue 11, mail protocols: the attacks, performed against the real appliance over real sockets, that got
 * through before (sender spoofing past the From check, one message delivered many times through repeated
 * RCPTs, submission without AUTH, AUTH PLAIN with someone else's authorization identity). Memory before
 * login is in security-mail-memory.test.ts.
 *
 * Loopback is not internal here: DELEGATO_INTERNAL_NETWORKS is 127.0.0.2/32, so 127.0.0.1 is an outside
 * client and 127.0.0.2 an internal one. Mail to elsewhere.example goes to an SMTP sink on loopback through a
 * loopback DNS server.
 */
import type { RunningDnsServer, RunningSmtpSink } from '@delegato/testkit';
import { LineClient, startDnsServer, startSmtpSink, tempDir, waitFor } from '@delegato/testkit';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { addRose, startApplianceIn, TEST_OPERATOR } from './appliance-support.js';

const PASSWORD = 'Rose-Secret-Pass-1';
const MARIO_PASSWORD = 'Mario-Secret-Pass-2';
const ROSE = 'rose.pinkcheeks@iat.example';
const MARIO = 'mario.rossi@iat.example';
const INTERNAL = '127.0.0.2';
/** RCPT commands per transaction before the close: maxRecipients (100) + RCPT_OVERSHOOT (1000). */
const MAX_RCPT_COMMANDS = 1100;

const dir = tempDir('delegato-sec-mail-');
let app: RunningAppliance;
let sink: RunningSmtpSink;
let dns: RunningDnsServer;
let roseId = '';

function port(name: string): number {
  const p = app.listeners.find((l) => l.name === name)?.port;
  if (!p) throw new Error(`no ${name} listener`);
  return p;
}

const plain = (authzid: string, authcid: string, password: string) =>
  Buffer.from(`${authzid}\0${authcid}\0${password}`).toString('base64');

/** A submission session after EHLO (and STARTTLS), from `localAddress`. */
async function submissionSession(localAddress = '127.0.0.1'): Promise<LineClient> {
  const c = await LineClient.connect(port('submission'), '127.0.0.1', { localAddress });
  await c.smtpReply();
  await c.smtp('EHLO client.example');
  expect((await c.smtp('STARTTLS')).code).toBe(220);
  await c.startTls();
  await c.smtp('EHLO client.example');
  return c;
}

async function authedAs(user = ROSE, password = PASSWORD): Promise<LineClient> {
  const c = await submissionSession();
  expect((await c.smtp(`AUTH PLAIN ${plain('', user, password)}`)).code).toBe(235);
  return c;
}

async function inboxCount(id: string): Promise<number> {
  return (await app.store.snapshot(id, 'INBOX')).messages.length;
}

/** Reads `n` SMTP replies (pipelined commands). */
async function replies(c: LineClient, n: number): Promise<Array<{ code: number; text: string }>> {
  const out: Array<{ code: number; text: string }> = [];
  for (let i = 0; i < n; i++) out.push(await c.smtpReply(20_000));
  return out;
}

/** Every reply line until the server closes the connection. */
async function linesUntilClosed(c: LineClient): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    try {
      lines.push(await c.line(20_000));
    } catch {
      return lines;
    }
  }
}

beforeAll(async () => {
  sink = await startSmtpSink();
  dns = await startDnsServer({
    'elsewhere.example': { MX: [{ priority: 10, exchange: 'mx.elsewhere.example' }] },
    'mx.elsewhere.example': { A: ['127.0.0.1'] },
  });
  app = await startApplianceIn(dir.path, {
    DELEGATO_INTERNAL_NETWORKS: `${INTERNAL}/32`,
    DELEGATO_DNS_SERVERS: dns.server,
    DELEGATO_SMTP_OUTBOUND_PORT: String(sink.port),
  });
  roseId = await addRose(app, PASSWORD);
  await app.store.ensureUser(roseId);
  await app.directory.addMailbox(TEST_OPERATOR, {
    domain: 'iat.example',
    kind: 'personal',
    firstName: 'Mario',
    lastName: 'Rossi',
    password: MARIO_PASSWORD,
  });
  await app.directory.addDomain(TEST_OPERATOR, 'b.example');
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await sink?.close();
  await dns?.close();
  dir.remove();
});

describe('item 9: AUTH PLAIN with someone else as authorization identity (RFC 4616 §2)', () => {
  it('SMTP submission: own credentials, authzid = another user → 535 5.7.8; empty or own authzid → 235', async () => {
    const c = await submissionSession();
    expect((await c.smtp(`AUTH PLAIN ${plain(MARIO, ROSE, PASSWORD)}`)).text).toMatch(/^535 5\.7\.8 /);
    // Still not authenticated: MAIL is refused (530), nothing was sent as Mario or as Rose.
    expect((await c.smtp(`MAIL FROM:<${MARIO}>`)).code).toBe(530);
    expect((await c.smtp(`AUTH PLAIN ${plain(ROSE.toUpperCase(), ROSE, PASSWORD)}`)).code).toBe(235);
    c.close();
    const d = await submissionSession();
    // smtp-server's fallback: authcid empty, the authzid is the login.
    expect((await d.smtp(`AUTH PLAIN ${plain(ROSE, '', PASSWORD)}`)).code).toBe(235);
    d.close();
  });

  it('IMAP: AUTHENTICATE PLAIN with a foreign authzid → NO', async () => {
    const c = await LineClient.connect(port('imaps'), '127.0.0.1', { tls: true });
    expect(await c.line()).toMatch(/^\* OK/);
    c.write(`a1 AUTHENTICATE PLAIN ${plain(MARIO, ROSE, PASSWORD)}\r\n`);
    expect(await c.line()).toMatch(/^a1 NO \[AUTHENTICATIONFAILED\]/);
    c.write(`a2 AUTHENTICATE PLAIN ${plain(ROSE, ROSE, PASSWORD)}\r\n`);
    expect(await c.line()).toMatch(/^a2 OK /);
    c.close();
  });

  it('POP3: AUTH PLAIN with a foreign authzid → -ERR', async () => {
    const c = await LineClient.connect(port('pop3s'), '127.0.0.1', { tls: true });
    expect(await c.line()).toMatch(/^\+OK/);
    c.write(`AUTH PLAIN ${plain(MARIO, ROSE, PASSWORD)}\r\n`);
    expect(await c.line()).toMatch(/^-ERR \[AUTH\]/);
    c.write(`AUTH PLAIN ${plain('', ROSE, PASSWORD)}\r\n`);
    expect(await c.line()).toMatch(/^\+OK/);
    c.close();
  });
});

describe('item 8: submission without AUTH (RFC 6409 §4.3)', () => {
  it('an outside client is refused MAIL with 530 5.7.0 on both submission ports, even to hosted domains', async () => {
    const c = await submissionSession();
    expect((await c.smtp(`MAIL FROM:<${MARIO}>`)).text).toMatch(/^530 5\.7\.0 /);
    expect((await c.smtp(`RCPT TO:<${ROSE}>`)).code).toBe(503);
    c.close();
    // Without STARTTLS as well.
    const p = await LineClient.connect(port('submission'));
    await p.smtpReply();
    await p.smtp('EHLO client.example');
    expect((await p.smtp('MAIL FROM:<>')).text).toMatch(/^530 5\.7\.0 /);
    p.close();
    const s = await LineClient.connect(port('submissions'), '127.0.0.1', { tls: true });
    await s.smtpReply();
    await s.smtp('EHLO client.example');
    expect((await s.smtp(`MAIL FROM:<${MARIO}>`)).text).toMatch(/^530 5\.7\.0 /);
    s.close();
  });

  it('an internal client sends without AUTH; an authenticated one too', async () => {
    const before = await inboxCount(roseId);
    const c = await submissionSession(INTERNAL);
    expect((await c.smtp('MAIL FROM:<scanner@iat.example>')).code).toBe(250);
    expect((await c.smtp(`RCPT TO:<${ROSE}>`)).code).toBe(250);
    expect((await c.smtp('DATA')).code).toBe(354);
    expect((await c.smtp('Subject: scan\r\n\r\nscan\r\n.')).code).toBe(250);
    c.close();
    const a = await authedAs();
    expect((await a.smtp(`MAIL FROM:<${ROSE}>`)).code).toBe(250);
    a.close();
    expect(await inboxCount(roseId)).toBe(before + 1);
  });

  it('the MX port keeps its role: an outside client delivers to a hosted domain without AUTH', async () => {
    const before = await inboxCount(roseId);
    const c = await LineClient.connect(port('smtp'));
    await c.smtpReply();
    await c.smtp('EHLO outside.example');
    expect((await c.smtp('MAIL FROM:<someone@outside.example>')).code).toBe(250);
    expect((await c.smtp(`RCPT TO:<${ROSE}>`)).code).toBe(250);
    expect((await c.smtp('DATA')).code).toBe(354);
    expect((await c.smtp('Subject: hello\r\n\r\nhi\r\n.')).code).toBe(250);
    c.close();
    expect(await inboxCount(roseId)).toBe(before + 1);
  });
});

describe('item 3: one message, many deliveries', () => {
  it('the same RCPT repeated hundreds of times (any case, through aliases): one copy per recipient', async () => {
    const before = await inboxCount(roseId);
    const sinkBefore = sink.messages.length;
    const c = await authedAs();
    expect((await c.smtp(`MAIL FROM:<${ROSE}>`)).code).toBe(250);
    const rcpts: string[] = [];
    for (let i = 0; i < 500; i++) rcpts.push(i % 2 ? 'friend@elsewhere.example' : 'Friend@ELSEWHERE.example');
    // Rose three ways: her address, an alias of hers, another case.
    for (let i = 0; i < 300; i++)
      rcpts.push(['pinkcheeks@iat.example', ROSE, ROSE.toUpperCase()][i % 3] as string);
    c.write(rcpts.map((r) => `RCPT TO:<${r}>\r\n`).join(''));
    const answers = await replies(c, rcpts.length);
    // Repeats are accepted again and never counted: far more than maxRecipients (100) get 250.
    expect(answers.filter((a) => a.code !== 250)).toEqual([]);
    expect((await c.smtp('DATA')).code).toBe(354);
    expect((await c.smtp(`From: <${ROSE}>\r\nSubject: many\r\n\r\nonce\r\n.`)).text).toMatch(/^250 2\.6\.0 /);
    c.close();
    expect(await inboxCount(roseId)).toBe(before + 1);
    await sink.waitForMessages(sinkBefore + 1, 20_000);
    await waitFor(async () => (await app.queue.list()).length === 0, 20_000);
    const delivered = sink.messages.slice(sinkBefore);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.to.map((a) => a.toLowerCase())).toEqual(['friend@elsewhere.example']);
  }, 60_000);

  it(`RCPT commands per transaction are capped at ${MAX_RCPT_COMMANDS}: then 421 4.5.3 and the close`, async () => {
    const c = await authedAs();
    expect((await c.smtp(`MAIL FROM:<${ROSE}>`)).code).toBe(250);
    const n = MAX_RCPT_COMMANDS + 200;
    let cmds = '';
    // Accepted, repeated and refused ones (smtp-server's own 501 for bad syntax) all count.
    for (let i = 0; i < n; i++) cmds += i % 2 === 0 ? `RCPT TO:<${ROSE}>\r\n` : 'RCPT TO:<bad address>\r\n';
    c.write(cmds);
    const lines = await linesUntilClosed(c);
    expect(lines).toHaveLength(MAX_RCPT_COMMANDS + 1);
    expect(lines.filter((l) => l.startsWith('501 '))).toHaveLength(MAX_RCPT_COMMANDS / 2);
    expect(lines[MAX_RCPT_COMMANDS]).toMatch(/^421 4\.5\.3 /);
    expect(c.closed).toBe(true);

    // Only repeats of one good address (never refused, so the refusal limit does not apply).
    const d = await authedAs();
    expect((await d.smtp(`MAIL FROM:<${ROSE}>`)).code).toBe(250);
    d.write(`RCPT TO:<${ROSE}>\r\n`.repeat(n));
    const all = await linesUntilClosed(d);
    expect(all).toHaveLength(MAX_RCPT_COMMANDS + 1);
    expect(all.slice(0, MAX_RCPT_COMMANDS).every((l) => l.startsWith('250 '))).toBe(true);
    expect(all[MAX_RCPT_COMMANDS]).toMatch(/^421 4\.5\.3 /);
  }, 60_000);
});

/** Submits `header` + a body as Rose (authenticated) to herself; the reply to the end of DATA. */
async function submitAsRose(header: string, subject: string): Promise<{ code: number; text: string }> {
  const c = await authedAs();
  expect((await c.smtp(`MAIL FROM:<${ROSE}>`)).code).toBe(250);
  expect((await c.smtp(`RCPT TO:<${ROSE}>`)).code).toBe(250);
  expect((await c.smtp('DATA')).code).toBe(354);
  const reply = await c.smtp(`${header}\r\nSubject: ${subject}\r\n\r\nbody\r\n.`);
  c.close();
  return reply;
}

/** Sender headers that must be refused for Rose: each shows (or may show) someone else as the author. */
const SPOOFED: Array<[string, string]> = [
  [
    'address as unquoted display name (the reported attack)',
    'From: postmaster@b.example <rose.pinkcheeks@iat.example>',
  ],
  ['address as quoted display name', 'From: "postmaster@b.example" <rose.pinkcheeks@iat.example>'],
  [
    'address in an encoded-word display name',
    'From: =?utf-8?q?postmaster=40b.example?= <rose.pinkcheeks@iat.example>',
  ],
  [
    'encoded word inside quotes',
    'From: "=?utf-8?b?cG9zdG1hc3RlckBiLmV4YW1wbGU=?=" <rose.pinkcheeks@iat.example>',
  ],
  ['full-width at sign in the display name', 'From: "postmaster＠b.example" <rose.pinkcheeks@iat.example>'],
  ['two addresses', 'From: rose.pinkcheeks@iat.example, postmaster@b.example'],
  [
    'own first, foreign second, in angle form',
    'From: Rose <rose.pinkcheeks@iat.example>, Boss <postmaster@b.example>',
  ],
  ['group syntax', 'From: Friends: rose.pinkcheeks@iat.example, postmaster@b.example;'],
  ['group of one own address', 'From: Friends: rose.pinkcheeks@iat.example;'],
  ['address in a comment', 'From: rose.pinkcheeks@iat.example (postmaster@b.example)'],
  ['comment before the angle address', 'From: (postmaster@b.example) <rose.pinkcheeks@iat.example>'],
  ['text after the angle address', 'From: <rose.pinkcheeks@iat.example> postmaster@b.example'],
  ['route address', 'From: <@b.example:rose.pinkcheeks@iat.example>'],
  ['quoted local part holding an address', 'From: "rose.pinkcheeks@iat.example"@b.example'],
  ['encoded word as local part', 'From: =?utf-8?q?postmaster=40b.example?=@iat.example'],
  ['unterminated quote', 'From: "Rose <rose.pinkcheeks@iat.example>, postmaster@b.example'],
  ['second From field', 'From: rose.pinkcheeks@iat.example\r\nFrom: postmaster@b.example'],
  ['foreign Sender', 'From: rose.pinkcheeks@iat.example\r\nSender: postmaster@b.example'],
  ['another hosted user', `From: ${MARIO}`],
  [
    'From hidden behind a bare CR',
    'X-Note: hi\rFrom: postmaster@b.example\r\nFrom: rose.pinkcheeks@iat.example',
  ],
  [
    'unknown charset in the display name',
    'From: =?x-unknown?q?postmaster=40b.example?= <rose.pinkcheeks@iat.example>',
  ],
];

/** Sender headers a real client writes for Rose: accepted. */
const OWN: Array<[string, string]> = [
  ['bare address', 'From: rose.pinkcheeks@iat.example'],
  ['name and alias', 'From: Rose Pinkcheeks <pinkcheeks@iat.example>'],
  ['quoted name with a comma', 'From: "Pinkcheeks, Rose" <r.pinkcheeks@iat.example>'],
  ['obs-phrase dot and another case', 'From: Rose P. Pinkcheeks <ROSE.PINKCHEEKS@IAT.EXAMPLE>'],
  ['encoded-word name, folded', 'From: =?UTF-8?Q?Ros=C3=A9_P.?=\r\n <rose.pinkcheeks@iat.example>'],
  ['own Sender', 'From: Rose <rose.pinkcheeks@iat.example>\r\nSender: <pinkcheeks@iat.example>'],
];

describe('item 2: another address shown as the sender (RFC 5322 §3.4, RFC 6409 §8.1)', () => {
  it.each(SPOOFED)('refused with 550 5.7.1: %s', async (_what, header) => {
    const before = await inboxCount(roseId);
    const reply = await submitAsRose(header, 'spoofed');
    expect(reply.text).toMatch(/^550 5\.7\.1 /);
    expect(await inboxCount(roseId)).toBe(before);
  });

  it.each(OWN)('accepted: %s', async (_what, header) => {
    expect((await submitAsRose(header, 'own')).code).toBe(250);
  });

  it('what IMAP shows as From and Sender of every accepted message is one of her own addresses', async () => {
    const own = new Set([
      'rose.pinkcheeks@iat.example',
      'r.pinkcheeks@iat.example',
      'pinkcheeks@iat.example',
    ]);
    const c = new ImapFlow({
      host: '127.0.0.1',
      port: port('imaps'),
      secure: true,
      auth: { user: ROSE, pass: PASSWORD },
      logger: false,
      tls: { rejectUnauthorized: false },
      disableAutoIdle: true,
    });
    c.on('error', () => undefined);
    await c.connect();
    try {
      await c.mailboxOpen('INBOX');
      let own250 = 0;
      for await (const m of c.fetch('1:*', { envelope: true })) {
        if (m.envelope?.subject !== 'own') continue;
        own250++;
        const shown = [...(m.envelope.from ?? []), ...(m.envelope.sender ?? [])];
        expect(shown.length).toBeGreaterThan(0);
        for (const a of shown) {
          expect(own.has((a.address ?? '').toLowerCase())).toBe(true);
          expect(a.name ?? '').not.toMatch(/@/);
        }
      }
      expect(own250).toBe(OWN.length);
    } finally {
      await c.logout();
    }
  });
});
