/**
 * Sending to the outside end to end: submission → outbound queue → MX lookup through a loopback DNS
 * server → a loopback SMTP sink. When the sink is down the message stays queued, a delay DSN reaches the
 * sender's mailbox, and the message is delivered once the sink is back. The DSN parses with Python's
 * `email` package as multipart/report. Queue tools (list, trace) see it all.
 */
import { execFile } from 'node:child_process';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  LineClient,
  type RunningDnsServer,
  type RunningSmtpSink,
  startDnsServer,
  startSmtpSink,
  tempDir,
} from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { executeCommand } from '../src/cli/commands.js';
import { addRose, startApplianceIn, TEST_OPERATOR } from './appliance-support.js';

const run = promisify(execFile);
const OP = TEST_OPERATOR;
const PASSWORD = 'Outbound-Pass-99';
const dir = tempDir('delegato-out-');
let app: RunningAppliance;
let dns: RunningDnsServer;
let sink: RunningSmtpSink;
let sinkPort = 0;
let roseId = '';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Submits one message as Rose (STARTTLS + AUTH PLAIN) and returns the 250 line. */
async function submit(to: string, subject: string, mailArgs = ''): Promise<string> {
  const port = app.listeners.find((l) => l.name === 'submission')?.port ?? 0;
  const c = await LineClient.connect(port);
  await c.smtpReply();
  await c.smtp('EHLO client.example');
  await c.smtp('STARTTLS');
  await c.startTls();
  await c.smtp('EHLO client.example');
  const token = Buffer.from(`\0rose.pinkcheeks@iat.example\0${PASSWORD}`).toString('base64');
  expect((await c.smtp(`AUTH PLAIN ${token}`)).code).toBe(235);
  expect((await c.smtp(`MAIL FROM:<rose.pinkcheeks@iat.example>${mailArgs}`)).code).toBe(250);
  expect((await c.smtp(`RCPT TO:<${to}>`)).code).toBe(250);
  await c.smtp('DATA');
  const done = await c.smtp(
    `From: Rose <rose.pinkcheeks@iat.example>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@iat.example>\r\n\r\nHello from Rose\r\n.`,
  );
  expect(done.code).toBe(250);
  c.close();
  return done.text;
}

beforeAll(async () => {
  sink = await startSmtpSink();
  sinkPort = sink.port;
  dns = await startDnsServer({
    'elsewhere.example': { MX: [{ priority: 10, exchange: 'mx.elsewhere.example' }] },
    'mx.elsewhere.example': { A: ['127.0.0.1'] },
  });
  app = await startApplianceIn(dir.path, {
    DELEGATO_DNS_SERVERS: dns.server,
    DELEGATO_SMTP_OUTBOUND_PORT: String(sinkPort),
    DELEGATO_QUEUE_RETRY_SCHEDULE: '1',
    DELEGATO_QUEUE_DELAY_NOTIFY_AFTER_SECONDS: '2',
  });
  roseId = await addRose(app, PASSWORD);
  await app.store.ensureUser(roseId);
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await sink?.close();
  await dns?.close();
  dir.remove();
});

describe('outbound delivery', () => {
  it('delivers once to the MX found through DNS, with the DSN parameters passed on', async () => {
    await submit('friend@elsewhere.example', 'first', ' ENVID=env-first RET=HDRS');
    await sink.waitForMessages(1, 20_000);
    expect(sink.messages).toHaveLength(1);
    const tx = sink.messages[0];
    expect(tx?.from).toBe('rose.pinkcheeks@iat.example');
    expect(tx?.to).toEqual(['friend@elsewhere.example']);
    expect(tx?.envid).toBe('env-first');
    expect(tx?.ret).toBe('HDRS');
    expect(tx?.data.toString()).toContain('Subject: first');
    await waitFor('the queue to empty', async () =>
      (await app.queue.list()).length === 0 ? true : undefined,
    );
    const trace = await executeCommand(['trace', 'friend@elsewhere.example', '--json'], {
      directory: app.directory,
      actor: OP,
      queue: async () => app.queue,
    });
    const events = (JSON.parse(trace.stdout) as Array<{ event: string }>).map((e) => e.event);
    expect(events).toContain('delivered');
  });

  it('sink down: stays queued, a delay DSN reaches the sender, then delivered once when the sink is back', async () => {
    await sink.close();
    const before = (await app.store.snapshot(roseId, 'INBOX')).messages.length;
    await submit('friend@elsewhere.example', 'second');

    const listed = await executeCommand(['queue', 'list'], {
      directory: app.directory,
      actor: OP,
      queue: async () => app.queue,
    });
    expect(listed.stdout).toContain('friend@elsewhere.example');

    // The delay notice (after 2 s) lands in Rose's INBOX.
    const dsnUid = await waitFor('the delay DSN', async () => {
      const snap = await app.store.snapshot(roseId, 'INBOX');
      return snap.messages.length > before ? snap.messages[snap.messages.length - 1]?.uid : undefined;
    });
    const dsn = await readAll(await app.store.openMessage(roseId, 'INBOX', dsnUid as number));
    const script = [
      'import sys, json, email, email.policy',
      'm = email.message_from_binary_file(sys.stdin.buffer, policy=email.policy.default)',
      'parts = list(m.iter_parts())',
      'ds = parts[1].get_payload()',
      'print(json.dumps({"type": m.get_content_type(), "report": m.get_param("report-type"),',
      ' "parts": [p.get_content_type() for p in parts],',
      ' "reporting": ds[0]["Reporting-MTA"], "final": ds[1]["Final-Recipient"], "action": ds[1]["Action"],',
      ' "status": ds[1]["Status"], "subject": m["Subject"], "from": m["From"]}))',
    ].join('\n');
    const child = execFile('python3', ['-c', script]);
    child.stdin?.end(dsn);
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    await new Promise((r) => child.on('exit', r));
    const parsed = JSON.parse(out) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      type: 'multipart/report',
      report: 'delivery-status',
      parts: ['text/plain', 'message/delivery-status', 'text/rfc822-headers'],
      action: 'delayed',
    });
    expect(String(parsed.final)).toContain('friend@elsewhere.example');
    expect(String(parsed.status)).toMatch(/^4\./);
    expect(String(parsed.reporting)).toMatch(/^dns; /);
    expect(dsn.toString()).toMatch(/^Return-Path: <>|MAILER-DAEMON@/m);

    // The sink comes back on the same port: delivered exactly once.
    sink = await startSmtpSink({ port: sinkPort });
    await sink.waitForMessages(1, 30_000);
    await waitFor('the queue to empty', async () =>
      (await app.queue.list()).length === 0 ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]?.data.toString()).toContain('Subject: second');
  }, 60_000);

  it('a permanent refusal bounces with a failure DSN that carries the original (python parses it)', async () => {
    await sink.close();
    sink = await startSmtpSink({
      port: sinkPort,
      onRcpt: () => ({ code: 550, message: '5.1.1 no such user here' }),
    });
    const before = (await app.store.snapshot(roseId, 'INBOX')).messages.length;
    await submit('nobody@elsewhere.example', 'third');
    const uid = await waitFor('the failure DSN', async () => {
      const snap = await app.store.snapshot(roseId, 'INBOX');
      return snap.messages.length > before ? snap.messages[snap.messages.length - 1]?.uid : undefined;
    });
    const dsn = (await readAll(await app.store.openMessage(roseId, 'INBOX', uid as number))).toString();
    expect(dsn).toMatch(/Content-Type: multipart\/report; report-type=delivery-status/i);
    expect(dsn).toMatch(/Action: failed/);
    expect(dsn).toMatch(/Status: 5\.1\.1/);
    expect(dsn).toMatch(/Content-Type: message\/rfc822/);
    expect(dsn).toContain('Subject: third');
  }, 60_000);

  it('swaks to an external domain without AUTH from outside is refused', async () => {
    const port = app.listeners.find((l) => l.name === 'submission')?.port ?? 0;
    const r = await run('swaks', [
      '--server',
      `127.0.0.1:${port}`,
      '--to',
      'friend@elsewhere.example',
      '--from',
      'x@outside.example',
    ]).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
    // RFC 6409 §4.3: the MSA refuses MAIL before AUTH from outside the internal networks.
    expect(r.stdout).toMatch(/<\*\* {1}530 5\.7\.0 /);
  });
});
