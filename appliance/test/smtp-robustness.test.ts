/**
 * The MX listener under abuse, on raw sockets: every malformed, hostile or slow client gets its RFC 5321
 * answer (5xx for bad syntax and sequence, 421 and a close when the client is abusive) and the appliance
 * keeps serving. The real appliance runs in this process (ports 0, real databases in a temp dir) with a
 * short idle timeout, a greeting delay and a small SIZE; the session cap is tested on a second MxServer
 * sharing its directory, store and queue (the configuration's minimum cap is 10 s).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { Actor } from '@delegato/directory';
import { MxServer, type RunningMx } from '@delegato/mta';
import { createLogger } from '@delegato/observability';
import { ALL_PORTS_ZERO, LineClient, tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningAppliance, startAppliance } from '../src/appliance.js';
import { loadConfig } from '../src/config/load.js';
import { dataPaths } from '../src/data-dir.js';
import { ensureTlsMaterial } from '../src/tls/self-signed.js';

const OP: Actor = { kind: 'operator', name: 'test', from: '127.0.0.1' };
const IDLE_MS = 1500;
const GREETING_DELAY_MS = 300;
const MAX_MESSAGE_BYTES = 65536;
const CAP_MS = 2000;
/** Recipients accepted per transaction and refusals before the close (DEFAULT_MX_LIMITS). */
const MAX_RECIPIENTS = 100;
const MAX_REFUSED = 20;
const FLOOD = 1000;
/** A client address that may relay: every remote address is a valid recipient for it. */
const INTERNAL = '127.0.0.2';

const ROSE = 'rose.pinkcheeks@iat.example';
const VICTIM = 'mario.rossi@iat.example';

const dir = tempDir('delegato-smtp-abuse-');
const DATA = join(dir.path, 'var');
let app: RunningAppliance;
let port = 0;
let capped: RunningMx;
const ids: Record<string, string> = {};

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function inbox(address: string) {
  return app.store.snapshot(ids[address] as string, 'INBOX');
}

async function count(address: string): Promise<number> {
  return (await inbox(address)).messages.length;
}

/** The last message of the mailbox, minus the Return-Path and Received fields the MX prepends. */
async function lastStored(address: string): Promise<Buffer> {
  const box = await inbox(address);
  const last = box.messages[box.messages.length - 1];
  const stored = await readAll(await app.store.openMessage(ids[address] as string, 'INBOX', last?.uid ?? 0));
  const m = /^Return-Path: <[^>]*>\r\nReceived: [^\r]*\r\n(?:\t[^\r]*\r\n)*/.exec(stored.toString('latin1'));
  expect(m, 'trace headers at the top').not.toBeNull();
  return stored.subarray(Buffer.byteLength(m?.[0] ?? '', 'latin1'));
}

/** Bodies being received: the mail store's temp files (none may be left behind by a refused message). */
function tempFiles(): string[] {
  return readdirSync(join(dataPaths(DATA).mailStore, 'tmp'));
}

async function eventually(what: string, probe: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function greeted(p = port, localAddress?: string): Promise<LineClient> {
  const c = await LineClient.connect(p, '127.0.0.1', localAddress ? { localAddress } : {});
  expect((await c.smtpReply()).code).toBe(220);
  return c;
}

async function session(p = port, localAddress?: string): Promise<LineClient> {
  const c = await greeted(p, localAddress);
  expect((await c.smtp('EHLO client.example')).code).toBe(250);
  return c;
}

/** A complete transaction on an open session (`content` ends with CRLF); returns the final reply. */
async function transaction(c: LineClient, to: string, content: string) {
  expect((await c.smtp('MAIL FROM:<sender@outside.example>')).code).toBe(250);
  expect((await c.smtp(`RCPT TO:<${to}>`)).code).toBe(250);
  expect((await c.smtp('DATA')).code).toBe(354);
  c.write(`${content}.\r\n`);
  return c.smtpReply();
}

/** Reads `n` replies (pipelined commands). */
async function replies(c: LineClient, n: number) {
  const out: Array<{ code: number; text: string }> = [];
  for (let i = 0; i < n; i++) out.push(await c.smtpReply());
  return out;
}

/** Expects the server to close the connection; returns every line it still sent. */
async function drainUntilClosed(c: LineClient, ms = 5000): Promise<string[]> {
  const lines: string[] = [];
  const until = Date.now() + ms;
  for (;;) {
    try {
      lines.push(await c.line(Math.max(1, until - Date.now())));
    } catch (err) {
      if (c.closed) return lines;
      throw err;
    }
  }
}

beforeAll(async () => {
  const config = loadConfig({
    env: {
      ...ALL_PORTS_ZERO,
      // Message authentication at the MX is tested in message-auth-inbound.test.ts.
      DELEGATO_AUTH_INBOUND: 'false',
      DELEGATO_DATA_DIR: DATA,
      DELEGATO_SMTP_IDLE_TIMEOUT_MS: String(IDLE_MS),
      DELEGATO_SMTP_SESSION_TIMEOUT_MS: '10000',
      DELEGATO_SMTP_GREETING_DELAY_MS: String(GREETING_DELAY_MS),
      DELEGATO_SMTP_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
      DELEGATO_INTERNAL_NETWORKS: `${INTERNAL}/32`,
    },
    cwd: dir.path,
  });
  const logger = createLogger({ level: 'fatal', destination: new PassThrough() });
  app = await startAppliance(config, {
    out: new PassThrough(),
    env: { DELEGATO_OPERATOR_PASSWORD: 'operator-test-pw' },
    logger,
  });
  port = app.listeners.find((l) => l.name === 'smtp')?.port ?? 0;
  const d = app.directory;
  await d.addDomain(OP, 'iat.example');
  for (const [first, last] of [
    ['Rose', 'Pinkcheeks'],
    ['Mario', 'Rossi'],
  ] as const) {
    const m = await d.addMailbox(OP, {
      domain: 'iat.example',
      kind: 'personal',
      firstName: first,
      lastName: last,
    });
    ids[m.address] = (await d.resolveLogin(m.address))?.id ?? '';
    await app.store.ensureUser(ids[m.address] as string);
  }
  // A thousand valid, distinct recipients for the flood: aliases of one mailbox.
  // Valid, distinct recipients for the flood: aliases of one mailbox (relay addresses for the rest).
  for (let i = 0; i < MAX_RECIPIENTS; i++) await d.addAlias(OP, `fan${i}@iat.example`, [ROSE]);

  // The same store behind a listener with a short session cap (slowloris) and no greeting delay.
  const tls = await ensureTlsMaterial({ dataDir: DATA, hostnames: ['localhost'] });
  capped = await new MxServer({
    hostname: 'localhost',
    region: config.region.id,
    tls: { key: tls.key, cert: tls.cert },
    internalNetworks: [],
    limits: { sessionTimeoutMs: CAP_MS, idleTimeoutMs: IDLE_MS },
    directory: app.directory,
    store: app.store,
    queue: app.queue,
    logger,
  }).listen(0, '127.0.0.1');
}, 120_000);

afterAll(async () => {
  await capped?.close();
  await app?.stop();
  dir.remove();
}, 30_000);

describe('MX listener under abuse', () => {
  it('answers malformed commands with 5xx and stays usable', async () => {
    const before = await count(ROSE);
    const c = await greeted();
    const expectReply = async (cmd: string | Buffer, code: number, label: string) => {
      c.write(
        Buffer.concat([typeof cmd === 'string' ? Buffer.from(cmd, 'latin1') : cmd, Buffer.from('\r\n')]),
      );
      const r = await c.smtpReply();
      expect(r.code, `${label}: ${r.text}`).toBe(code);
      return r;
    };
    await expectReply('EHLO', 501, 'EHLO without argument');
    await expectReply('HELO', 501, 'HELO without argument');
    await expectReply('EHLO bad\x01host', 501, 'EHLO with a control character');
    await expectReply('MAIL FROM:<a@outside.example>', 503, 'MAIL before EHLO');
    await expectReply('EHLO client.example', 250, 'EHLO');
    await expectReply('MAIL FROM:garbage', 501, 'MAIL FROM without brackets');
    await expectReply('MAIL FROM:<a@b@c>', 501, 'MAIL FROM with two @');
    await expectReply('MAIL FROM:<a\x00b@outside.example>', 501, 'NUL in the sender');
    // Not UTF-8: the policy's sender syntax refusal (553 5.1.7).
    await expectReply('MAIL FROM:<\xff\xfe@outside.example>', 553, '8-bit garbage in the sender');
    await expectReply(`RCPT TO:<${ROSE}>`, 503, 'RCPT before MAIL');
    await expectReply('DATA', 503, 'DATA before MAIL');
    await expectReply(Buffer.from([0, 0, 0]), 500, 'NUL bytes');
    await expectReply(Buffer.from([0xff, 0xfe, 0x80, 0x20, 0x41]), 500, '8-bit garbage');
    await expectReply('MA\x00IL FROM:<a@outside.example>', 500, 'NUL in the verb');
    await expectReply('MAIL FROM:<sender@outside.example>', 250, 'MAIL');
    await expectReply('MAIL FROM:<other@outside.example>', 503, 'nested MAIL');
    await expectReply('RCPT TO:<>', 501, 'empty recipient');
    await expectReply('RCPT TO:garbage', 501, 'RCPT TO without brackets');
    await expectReply('RCPT TO:<rose\x00@iat.example>', 501, 'NUL in the recipient');
    // The policy's recipient syntax refusal (553 5.1.3).
    await expectReply('RCPT TO:<ro\xffse@iat.example>', 553, '8-bit garbage in the recipient');
    await expectReply('DATA', 503, 'DATA before RCPT');
    await expectReply(`RCPT TO:<${ROSE}> NOTIFY=SOMETIMES`, 501, 'bad NOTIFY');
    // The session is still usable: a valid transaction goes through.
    await expectReply(`RCPT TO:<${ROSE}>`, 250, 'RCPT');
    await expectReply('DATA', 354, 'DATA');
    expect((await c.smtp('Subject: after the garbage\r\n\r\nstill here\r\n.')).text).toMatch(/^250 2\.6\.0 /);
    expect((await c.smtp('QUIT')).code).toBe(221);
    await c.waitClosed();
    expect(await count(ROSE)).toBe(before + 1);
  });

  it('answers unknown commands with 500 and closes with 421 after repeated ones', async () => {
    const c = await session();
    for (let i = 1; i <= 9; i++) {
      const r = await c.smtp(`XYZZY${i} plugh`);
      expect(r.text).toMatch(/^500 5\.5\.2 /);
    }
    const last = await c.smtp('FROB');
    expect(last.text).toMatch(/^421 /);
    await c.waitClosed();
  });

  it('accepts bare-LF command lines and keeps bare LFs in DATA as content', async () => {
    const before = await count(ROSE);
    const c = await greeted();
    c.write('EHLO client.example\n');
    expect((await c.smtpReply()).code).toBe(250);
    c.write(`MAIL FROM:<sender@outside.example>\nRCPT TO:<${ROSE}>\nDATA\n`);
    expect((await replies(c, 3)).map((r) => r.code)).toEqual([250, 250, 354]);
    const content = 'Subject: bare LF\n\nline one\nline two\n.\nstill the body\r\n';
    c.write(`${content}.\r\n`);
    expect((await c.smtpReply()).text).toMatch(/^250 2\.6\.0 /);
    expect((await c.smtp('NOOP')).code).toBe(250);
    expect(c.pending).toBe('');
    c.close();
    expect(await count(ROSE)).toBe(before + 1);
    expect((await lastStored(ROSE)).toString('latin1')).toBe(content);
  });

  describe('end-of-data smuggling: only <CR><LF>.<CR><LF> ends the message', () => {
    const variants: Array<[string, string]> = [
      ['<LF>.<LF>', '\n.\n'],
      ['<CR>.<CR>', '\r.\r'],
      ['<LF>.<CR><LF>', '\n.\r\n'],
      ['<CR><LF>.<LF>', '\r\n.\n'],
      ['<CR><LF>.<CR>', '\r\n.\r'],
      ['<CR>.<LF>', '\r.\n'],
      ['<CR>.<CR><LF>', '\r.\r\n'],
    ];
    for (const trickle of [false, true]) {
      it.each(variants)(`%s ${trickle ? 'in small TCP segments' : 'in one write'}`, async (name, end) => {
        const eol = end.slice(end.indexOf('.') + 1);
        const roseBefore = await count(ROSE);
        const victimBefore = await count(VICTIM);
        const c = await session();
        expect((await c.smtp('MAIL FROM:<sender@outside.example>')).code).toBe(250);
        expect((await c.smtp(`RCPT TO:<${ROSE}>`)).code).toBe(250);
        expect((await c.smtp('DATA')).code).toBe(354);
        const content =
          `Subject: smuggling ${name}\r\n\r\nhello${end}` +
          `MAIL FROM:<evil@x.example>${eol}RCPT TO:<${VICTIM}>${eol}DATA${eol}` +
          `Subject: smuggled\r\n\r\nsmuggled${end}QUIT${eol}\r\n`;
        const wire = Buffer.from(`${content}.\r\n`, 'latin1');
        if (!trickle) c.write(wire);
        else {
          c.socket.setNoDelay(true);
          for (let i = 0; i < wire.length; i += 3) {
            c.write(wire.subarray(i, i + 3));
            await new Promise((r) => setTimeout(r, 1));
          }
        }
        const done = await c.smtpReply();
        expect(done.text).toMatch(/^250 2\.6\.0 Message accepted/);
        // No reply for a smuggled MAIL/RCPT/DATA: the next reply is the NOOP's, and nothing else came.
        expect((await c.smtp('NOOP')).text).toMatch(/^250 /);
        expect(c.pending).toBe('');
        c.close();
        expect(await count(ROSE)).toBe(roseBefore + 1);
        expect(await count(VICTIM)).toBe(victimBefore);
        expect((await lastStored(ROSE)).equals(Buffer.from(content, 'latin1'))).toBe(true);
      });
    }
  });

  it(`a flood of ${FLOOD} valid recipients: ${MAX_RECIPIENTS} accepted, the rest 452 4.5.3`, async () => {
    const before = await count(ROSE);
    const queuedBefore = (await app.queue.list()).length;
    // From the internal network, so that remote addresses are valid recipients too (relayed).
    const c = await session(port, INTERNAL);
    expect((await c.smtp('MAIL FROM:<sender@outside.example>')).code).toBe(250);
    const rcpts = Array.from({ length: FLOOD }, (_, i) =>
      i < MAX_RECIPIENTS ? `fan${i}@iat.example` : `r${i}@relay.example`,
    );
    c.write(rcpts.map((r) => `RCPT TO:<${r}>\r\n`).join(''));
    const answers = await replies(c, FLOOD);
    expect(answers.slice(0, MAX_RECIPIENTS).filter((r) => r.code !== 250)).toEqual([]);
    expect(answers.slice(MAX_RECIPIENTS).filter((r) => !/^452 4\.5\.3 /.test(r.text))).toEqual([]);
    // The transaction with its 100 recipients (one mailbox behind them) still completes, stored once.
    expect((await c.smtp('DATA')).code).toBe(354);
    expect((await c.smtp('Subject: fan-out\r\n\r\nhi\r\n.')).text).toMatch(/^250 2\.6\.0 /);
    // The refused ones were refused for the limit alone: in a new transaction they are accepted.
    expect((await c.smtp('MAIL FROM:<sender@outside.example>')).code).toBe(250);
    expect((await c.smtp(`RCPT TO:<${rcpts[FLOOD - 1]}>`)).code).toBe(250);
    expect((await c.smtp('RSET')).code).toBe(250);
    c.close();
    expect(await count(ROSE)).toBe(before + 1);
    expect(await app.queue.list()).toHaveLength(queuedBefore);
  }, 30_000);

  it(`a flood of unknown recipients is closed with 421 after ${MAX_REFUSED} refusals`, async () => {
    const c = await session();
    expect((await c.smtp('MAIL FROM:<sender@outside.example>')).code).toBe(250);
    let cmds = '';
    for (let i = 0; i < FLOOD; i++) cmds += `RCPT TO:<nobody${i}@iat.example>\r\n`;
    c.write(cmds);
    const lines = await drainUntilClosed(c);
    expect(lines.slice(0, MAX_REFUSED - 1).every((l) => /^550 5\.1\.1 /.test(l))).toBe(true);
    expect(lines[MAX_REFUSED - 1]).toMatch(/^421 4\.7\.0 /);
    expect(lines).toHaveLength(MAX_REFUSED);
  });

  it('an oversize command line gets an error and the listener keeps serving', async () => {
    const long = await session();
    long.write(`MAIL FROM:<${'a'.repeat(10_000)}@outside.example>\r\n`);
    const r = await long.smtpReply();
    expect([421, 500]).toContain(r.code);
    if (r.code === 421) await long.waitClosed();
    long.close();

    // The same, without a line end: the server does not buffer it for ever.
    const endless = await session();
    endless.write('X'.repeat(10_000));
    expect([421, 500]).toContain((await endless.smtpReply()).code);
    endless.close();

    const c = await session();
    expect((await transaction(c, ROSE, 'Subject: after the long line\r\n\r\nok\r\n')).code).toBe(250);
    c.close();
  });

  it('closes an idle client after the idle timeout', async () => {
    const c = await greeted();
    const t0 = Date.now();
    const lines = await drainUntilClosed(c, IDLE_MS + 5000);
    const elapsed = Date.now() - t0;
    expect(lines.every((l) => /^421 /.test(l))).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_MS - 500);
    expect(elapsed).toBeLessThan(IDLE_MS + 2500);
  });

  it('cuts off clients that trickle a byte every 500 ms at the session cap, leaving nothing behind', async () => {
    const before = await count(ROSE);
    const trickle = async (prologue: string[], drip: string) => {
      const t0 = Date.now();
      const c = await session(capped.address.port);
      for (const cmd of prologue) expect((await c.smtp(cmd)).code).toBeLessThan(400);
      for (let i = 0; !c.closed && Date.now() - t0 < CAP_MS + 5000; i++) {
        c.write(drip[i % drip.length] as string);
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(c.closed).toBe(true);
      return Date.now() - t0;
    };
    const [command, data] = await Promise.all([
      // An endless command line.
      trickle([], 'NOOP NOOP NOOP'),
      // An endless message.
      trickle(
        ['MAIL FROM:<slow@outside.example>', `RCPT TO:<${ROSE}>`, 'DATA'],
        'Subject: slow\r\n\r\nxyz\r\n',
      ),
    ]);
    for (const elapsed of [command, data]) {
      expect(elapsed).toBeGreaterThanOrEqual(CAP_MS - 100);
      expect(elapsed).toBeLessThan(CAP_MS + 1500);
    }
    // The half-received message is dropped: nothing stored, no temp file left.
    await eventually('the temp file of the cut-off message to be removed', () => tempFiles().length === 0);
    expect(await count(ROSE)).toBe(before);
  }, 15_000);

  it('refuses early talkers with 421 "You talk too soon"', async () => {
    for (const wait of [0, GREETING_DELAY_MS / 2]) {
      const c = await LineClient.connect(port);
      if (wait) await new Promise((r) => setTimeout(r, wait));
      c.write('EHLO early.example\r\n');
      const lines = await drainUntilClosed(c);
      expect(lines, `talking after ${wait} ms`).toHaveLength(1);
      expect(lines[0]).toMatch(/^421 .*You talk too soon/);
    }
  });

  it('refuses HTTP on the mail port with 421', async () => {
    const c = await greeted();
    c.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const lines = await drainUntilClosed(c);
    expect(lines[0]).toMatch(/^421 /);
    expect(lines).toHaveLength(1);
  });

  it('a message over SIZE without a SIZE declaration gets 552 5.3.4 after the data and is not stored', async () => {
    const before = await count(ROSE);
    const message = (size: number) => {
      const head = 'Subject: big\r\n\r\n';
      const line = `${'x'.repeat(76)}\r\n`;
      let body = head;
      while (body.length + line.length + 2 <= size) body += line;
      return `${body}${'y'.repeat(size - body.length - 2)}\r\n`;
    };
    const c = await session();
    // One byte over the limit: refused once all of it arrived, nothing stored, no temp file left.
    expect((await transaction(c, ROSE, message(MAX_MESSAGE_BYTES + 1))).text).toMatch(/^552 5\.3\.4 /);
    expect(await count(ROSE)).toBe(before);
    expect(tempFiles()).toEqual([]);
    // Far over the limit, streamed in one go: the same.
    expect((await transaction(c, ROSE, message(4 * MAX_MESSAGE_BYTES))).text).toMatch(/^552 5\.3\.4 /);
    expect(await count(ROSE)).toBe(before);
    expect(tempFiles()).toEqual([]);
    // Exactly the limit is accepted, on the same session.
    const exact = message(MAX_MESSAGE_BYTES);
    expect(exact.length).toBe(MAX_MESSAGE_BYTES);
    expect((await transaction(c, ROSE, exact)).text).toMatch(/^250 2\.6\.0 /);
    c.close();
    expect(await count(ROSE)).toBe(before + 1);
    expect((await lastStored(ROSE)).toString('latin1')).toBe(exact);
  });

  it('after all of this the appliance is alive and delivers normally', async () => {
    const before = await count(VICTIM);
    const clients = await Promise.all([session(), session(), session()]);
    const results = await Promise.all(
      clients.map((c, i) => transaction(c, VICTIM, `Subject: normal ${i}\r\n\r\nall is well\r\n`)),
    );
    expect(results.map((r) => r.code)).toEqual([250, 250, 250]);
    for (const c of clients) c.close();
    expect(await count(VICTIM)).toBe(before + 3);
    expect(tempFiles()).toEqual([]);
  });
});
