/**
 * Receiving mail end to end: the real appliance (in this process, ports 0, real databases in a temp dir),
 * driven by swaks and a raw socket. Accepted mail is in the store byte-identical apart from the trace
 * headers; every refusal has its RFC 3463 code and leaves nothing stored or queued.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { Actor } from '@delegato/directory';
import { createLogger } from '@delegato/observability';
import {
  ALL_PORTS_ZERO,
  LineClient,
  type RunningDnsServer,
  startDnsServer,
  tempDir,
} from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningAppliance, startAppliance } from '../src/appliance.js';
import { loadConfig } from '../src/config/load.js';

const run = promisify(execFile);
const OP: Actor = { kind: 'operator', name: 'test', from: '127.0.0.1' };
const dir = tempDir('delegato-smtp-');
let app: RunningAppliance;
let dns: RunningDnsServer;
let port = 0;
const ids: Record<string, string> = {};

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The stored message minus the Return-Path and Received trace fields we prepend. */
function withoutTrace(stored: Buffer): Buffer {
  const text = stored.toString('latin1');
  const m = /^Return-Path: <[^>]*>\r\nReceived: [^\r]*\r\n(?:\t[^\r]*\r\n)*/.exec(text);
  expect(m, 'trace headers at the top').not.toBeNull();
  return stored.subarray(Buffer.byteLength(m?.[0] ?? '', 'latin1'));
}

async function inbox(address: string) {
  const mailboxId = ids[address] as string;
  await app.store.ensureUser(mailboxId);
  return app.store.snapshot(mailboxId, 'INBOX');
}

async function session(localAddress?: string): Promise<LineClient> {
  const c = await LineClient.connect(port, '127.0.0.1', localAddress ? { localAddress } : {});
  expect((await c.smtpReply()).code).toBe(220);
  expect((await c.smtp('EHLO client.example')).code).toBe(250);
  return c;
}

beforeAll(async () => {
  // The queue worker runs while the tests look at the queue: its DNS is a loopback server that fails
  // temporarily for the remote domains, so their mail stays queued (deferred) whatever the machine's own
  // resolver answers (NXDOMAIN at once would bounce it and queue DSNs beside it).
  const servfail = { rcode: 'SERVFAIL' } as const;
  dns = await startDnsServer({
    'outside.example': servfail,
    'elsewhere.example': servfail,
    'lists.example': servfail,
  });
  const config = loadConfig({
    env: {
      ...ALL_PORTS_ZERO,
      // Message authentication at the MX is tested in message-auth-inbound.test.ts.
      DELEGATO_AUTH_INBOUND: 'false',
      DELEGATO_DATA_DIR: join(dir.path, 'var'),
      DELEGATO_INTERNAL_NETWORKS: '127.0.0.2/32',
      DELEGATO_DNS_SERVERS: dns.server,
    },
    cwd: dir.path,
  });
  app = await startAppliance(config, {
    out: new PassThrough(),
    env: { DELEGATO_OPERATOR_PASSWORD: 'operator-test-pw' },
    logger: createLogger({ level: 'warn', destination: new PassThrough() }),
  });
  port = app.listeners.find((l) => l.name === 'smtp')?.port ?? 0;
  const d = app.directory;
  await d.addDomain(OP, 'iat.example');
  for (const [first, last] of [
    ['Rose', 'Pinkcheeks'],
    ['Mario', 'Rossi'],
    ['Marco', 'Rossi'],
    ['Ex', 'Pired'],
    ['Gone', 'Away'],
    ['Full', 'Box'],
  ] as const) {
    const m = await d.addMailbox(OP, {
      domain: 'iat.example',
      kind: 'personal',
      firstName: first,
      lastName: last,
    });
    ids[m.address] = (await d.resolveLogin(m.address))?.id ?? '';
  }
  await d.setExpiry(OP, 'ex.pired@iat.example', '2020-01-01');
  await d.removeMailbox(OP, 'gone.away@iat.example');
  ids['postmaster@iat.example'] = (await d.resolveLogin('postmaster@iat.example'))?.id ?? '';
  await d.addForward(OP, 'moved@iat.example', 'moved.person@elsewhere.example');
  await d.addListAlias(OP, 'staff@iat.example', 'staff@lists.example');
  await d.addRegion(OP, 'north');
  await d.addDomain(OP, 'far.example', { region: 'north' });
  await d.addMailbox(OP, { domain: 'far.example', kind: 'personal', firstName: 'Far', lastName: 'Away' });
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await dns?.close();
  dir.remove();
});

describe('MX listener', () => {
  it('advertises the required extensions, and REQUIRETLS once under TLS', async () => {
    const c = await LineClient.connect(port);
    await c.smtpReply();
    const ehlo = await c.smtp('EHLO client.example');
    for (const ext of [
      'SIZE',
      'PIPELINING',
      '8BITMIME',
      'SMTPUTF8',
      'ENHANCEDSTATUSCODES',
      'DSN',
      'STARTTLS',
    ]) {
      expect(ehlo.lines.some((l) => l.slice(4).startsWith(ext))).toBe(true);
    }
    expect(ehlo.text).not.toContain('REQUIRETLS');
    expect((await c.smtp('STARTTLS')).code).toBe(220);
    await c.startTls();
    const secure = await c.smtp('EHLO client.example');
    expect(secure.text).toContain('REQUIRETLS');
    expect(secure.text).not.toContain('STARTTLS');
    c.close();
  });

  it('swaks to the official address and both generated aliases: 250, stored byte-identical plus trace', async () => {
    const original = Buffer.from(
      'From: Sender <sender@outside.example>\r\nTo: rose\r\nSubject: caf\xe9 8-bit\r\n' +
        'Message-ID: <m1@outside.example>\r\n\r\nLine one\r\n.dot line\r\nUnencoded 8-bit: \xe8\xe9\r\n',
      'latin1',
    );
    const file = join(dir.path, 'message.eml');
    // swaks adds the CRLF before the final dot itself: give it the message without its last CRLF.
    writeFileSync(file, original.subarray(0, original.length - 2));
    for (const to of ['rose.pinkcheeks@iat.example', 'r.pinkcheeks@iat.example', 'pinkcheeks@iat.example']) {
      const { stdout } = await run('swaks', [
        '--server',
        `127.0.0.1:${port}`,
        '--from',
        'sender@outside.example',
        '--to',
        to,
        '--data',
        file,
        '--helo',
        'client.example',
      ]);
      expect(stdout).toMatch(/<- {2}250 2\.6\.0 Message accepted/);
    }
    const box = await inbox('rose.pinkcheeks@iat.example');
    expect(box.messages).toHaveLength(3);
    expect(box.messages.map((m) => m.uid)).toEqual([1, 2, 3]);
    for (const m of box.messages) {
      const stored = await readAll(
        await app.store.openMessage(ids['rose.pinkcheeks@iat.example'] as string, 'INBOX', m.uid),
      );
      expect(m.size).toBe(stored.length);
      expect(withoutTrace(stored).equals(original)).toBe(true);
      const head = stored.toString('latin1');
      expect(head).toMatch(/^Return-Path: <sender@outside\.example>\r\n/);
      expect(head).toMatch(
        /Received: from client\.example \(unknown \[127\.0\.0\.1\]\)\r\n\tby localhost \(Delegato\) with ESMTP id /,
      );
      expect(head).toMatch(/for <[a-z.]*pinkcheeks@iat\.example>;\r\n\t\w{3}, \d{1,2} \w{3} \d{4}/);
    }
    // `delegato trace <message-id>` shows the local deliveries (the log is written in batches).
    await new Promise((r) => setTimeout(r, 500));
    const trace = await app.queue.trace('<m1@outside.example>');
    expect(trace.filter((e) => e.event === 'delivered').map((e) => e.orcpt ?? e.recipient)).toEqual([
      'rose.pinkcheeks@iat.example',
      'r.pinkcheeks@iat.example',
      'pinkcheeks@iat.example',
    ]);
  }, 30_000);

  it('records TLS in the Received header (ESMTPS)', async () => {
    const c = await session();
    expect((await c.smtp('STARTTLS')).code).toBe(220);
    await c.startTls();
    await c.smtp('EHLO client.example');
    expect((await c.smtp('MAIL FROM:<a@outside.example>')).code).toBe(250);
    expect((await c.smtp('RCPT TO:<postmaster@iat.example>')).code).toBe(250);
    expect((await c.smtp('DATA')).code).toBe(354);
    const done = await c.smtp('Subject: tls\r\n\r\nhello\r\n.');
    expect(done.code).toBe(250);
    c.close();
    const box = await inbox('postmaster@iat.example');
    const last = box.messages[box.messages.length - 1];
    const stored = await readAll(
      await app.store.openMessage(ids['postmaster@iat.example'] as string, 'INBOX', last?.uid ?? 0),
    );
    expect(stored.toString()).toMatch(/with ESMTPS id \S+\r\n\t\(using TLSv1\.[23] with cipher /);
  });

  it('one message to several local recipients is stored once per mailbox', async () => {
    const before = (await inbox('mario.rossi@iat.example')).messages.length;
    const c = await session();
    await c.smtp('MAIL FROM:<a@outside.example>');
    expect((await c.smtp('RCPT TO:<mario.rossi@iat.example>')).code).toBe(250);
    expect((await c.smtp('RCPT TO:<marco.rossi@iat.example>')).code).toBe(250);
    expect((await c.smtp('RCPT TO:<Mario.Rossi@IAT.example>')).code).toBe(250);
    await c.smtp('DATA');
    expect((await c.smtp('Subject: both\r\n\r\nhi\r\n.')).code).toBe(250);
    c.close();
    expect((await inbox('mario.rossi@iat.example')).messages.length).toBe(before + 1);
    expect((await inbox('marco.rossi@iat.example')).messages.length).toBe(1);
  });

  it('accepts postmaster@ from the null sender', async () => {
    const c = await session();
    expect((await c.smtp('MAIL FROM:<>')).code).toBe(250);
    expect((await c.smtp('RCPT TO:<postmaster@iat.example>')).code).toBe(250);
    c.close();
  });

  it('refuses with the policy codes and stores nothing, queues nothing', async () => {
    const storedBefore = await Promise.all(
      Object.keys(ids).map(async (a) => (await inbox(a)).messages.length),
    );
    const c = await session();
    expect((await c.smtp('MAIL FROM:<a@outside.example>')).code).toBe(250);
    const unknown = await c.smtp('RCPT TO:<nobody@iat.example>');
    expect(unknown.text).toMatch(/^550 5\.1\.1 /);
    const ambiguous = await c.smtp('RCPT TO:<rossi@iat.example>');
    expect(ambiguous.text).toMatch(/^550 5\.1\.4 /);
    expect(ambiguous.text).toContain('mario.rossi@iat.example');
    expect(ambiguous.text).toContain('marco.rossi@iat.example');
    expect((await c.smtp('RCPT TO:<m.rossi@iat.example>')).text).toMatch(
      /^550 5\.1\.4 .*mario\.rossi@iat\.example/,
    );
    expect((await c.smtp('RCPT TO:<ex.pired@iat.example>')).text).toMatch(/^550 5\.2\.1 /);
    expect((await c.smtp('RCPT TO:<gone.away@iat.example>')).text).toMatch(/^550 5\.2\.1 /);
    expect((await c.smtp('RCPT TO:<someone@outside.example>')).text).toMatch(/^554 5\.7\.1 /);
    expect((await c.smtp('DATA')).code).toBeGreaterThanOrEqual(500);
    c.close();
    const storedAfter = await Promise.all(
      Object.keys(ids).map(async (a) => (await inbox(a)).messages.length),
    );
    expect(storedAfter).toEqual(storedBefore);
    expect(await app.queue.list()).toEqual([]);
  });

  it('over quota is a temporary 452 4.2.2; over SIZE is 552 5.3.4', async () => {
    await app.directory.addMailbox(OP, {
      domain: 'iat.example',
      kind: 'role',
      localPart: 'tiny',
      quotaBytes: 10,
    });
    ids['tiny@iat.example'] = (await app.directory.resolveLogin('tiny@iat.example'))?.id ?? '';
    const c = await session();
    await c.smtp('MAIL FROM:<a@outside.example> SIZE=100');
    expect((await c.smtp('RCPT TO:<tiny@iat.example>')).text).toMatch(/^452 4\.2\.2 /);
    await c.smtp('RSET');
    const big = await c.smtp(`MAIL FROM:<a@outside.example> SIZE=${60 * 1024 * 1024}`);
    expect(big.text).toMatch(/^552 5\.3\.4 /);
    c.close();
  });

  it('never relays: the classic open-relay test addresses are all refused', async () => {
    const tricks = [
      'victim@outside.example',
      'victim%outside.example@iat.example',
      'victim@outside.example@iat.example',
      '"victim@outside.example"@iat.example',
      'outside.example!victim@iat.example',
      '@iat.example:victim@outside.example',
      'victim@[10.0.0.1]',
      'victim@[127.0.0.1]',
      'victim@outside.example.',
      'victim@iat.example.',
      '"victim%outside.example"@iat.example',
      'victim%outside.example',
      'outside.example!victim',
      'victim',
    ];
    const c = await session();
    await c.smtp('MAIL FROM:<spammer@outside.example>');
    for (const t of tricks) {
      const reply = await c.smtp(`RCPT TO:<${t}>`);
      expect(reply.code, t).toBeGreaterThanOrEqual(500);
    }
    c.close();
    expect(await app.queue.list()).toEqual([]);
  });

  it('queues for other regions, remote forwards and distribution lists; internal clients may relay', async () => {
    const c = await session();
    await c.smtp('MAIL FROM:<a@outside.example>');
    expect((await c.smtp('RCPT TO:<far.away@far.example>')).code).toBe(250);
    expect((await c.smtp('RCPT TO:<moved@iat.example>')).code).toBe(250);
    expect((await c.smtp('RCPT TO:<staff@iat.example>')).code).toBe(250);
    await c.smtp('DATA');
    expect((await c.smtp('Subject: q\r\n\r\nqueued\r\n.')).code).toBe(250);
    c.close();

    const internal = await session('127.0.0.2');
    await internal.smtp('MAIL FROM:<a@iat.example>');
    expect((await internal.smtp('RCPT TO:<someone@outside.example>')).code).toBe(250);
    await internal.smtp('DATA');
    expect((await internal.smtp('Subject: relay\r\n\r\nfrom inside\r\n.')).code).toBe(250);
    internal.close();

    const queued = await app.queue.list();
    expect(queued).toHaveLength(2);
    const [first, second] = queued;
    expect(first?.recipients).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ address: 'far.away@far.example', route: 'region', region: 'north' }),
        expect.objectContaining({
          address: 'moved.person@elsewhere.example',
          route: 'remote',
          orcpt: 'rfc822;moved@iat.example',
        }),
        expect.objectContaining({
          address: 'staff@lists.example',
          route: 'remote',
          orcpt: 'rfc822;staff@iat.example',
        }),
      ]),
    );
    expect(second?.recipients).toEqual([
      expect.objectContaining({ address: 'someone@outside.example', route: 'remote' }),
    ]);
  });
});
