/**
 * SEARCH BODY / TEXT look inside a real delivery report (issue 12): Rose submits with ENVID, the remote MX
 * is down, the appliance's delay DSN (multipart/report: text/plain, message/delivery-status,
 * text/rfc822-headers) lands in her INBOX, and Python's imaplib finds it over IMAPS by its
 * Original-Envelope-Id (message/delivery-status), by the Final-Recipient, and by the returned headers.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { LineClient, type RunningDnsServer, startDnsServer, tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { addRose, startApplianceIn } from './appliance-support.js';

const run = promisify(execFile);
const PASSWORD = 'Dsn-Search-Pass-31';
const ENVID = 'track-7f3a9c-envid';
const dir = tempDir('delegato-dsn-search-');
let app: RunningAppliance;
let dns: RunningDnsServer;
let roseId = '';

/** A loopback port nothing listens on (the remote MX is down). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function submit(to: string, subject: string, mailArgs: string): Promise<void> {
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
    `From: Rose <rose.pinkcheeks@iat.example>\r\nTo: <${to}>\r\nSubject: ${subject}\r\n\r\nHello\r\n.`,
  );
  expect(done.code).toBe(250);
  c.close();
}

beforeAll(async () => {
  dns = await startDnsServer({
    'down.example': { MX: [{ priority: 10, exchange: 'mx.down.example' }] },
    'mx.down.example': { A: ['127.0.0.1'] },
  });
  app = await startApplianceIn(dir.path, {
    DELEGATO_DNS_SERVERS: dns.server,
    DELEGATO_SMTP_OUTBOUND_PORT: String(await closedPort()),
    DELEGATO_QUEUE_RETRY_SCHEDULE: '1',
    DELEGATO_QUEUE_DELAY_NOTIFY_AFTER_SECONDS: '2',
  });
  roseId = await addRose(app, PASSWORD);
  await app.store.ensureUser(roseId);
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await dns?.close();
  dir.remove();
});

describe('SEARCH in delivery reports', () => {
  it('finds the DSN by its envelope id, its final recipient and the returned headers', async () => {
    await submit('friend@down.example', 'Quarterly figures zq81', ` ENVID=${ENVID} RET=HDRS`);
    const until = Date.now() + 30_000;
    for (;;) {
      const snap = await app.store.snapshot(roseId, 'INBOX');
      if (snap.messages.length > 0) break;
      if (Date.now() > until) throw new Error('no DSN within 30 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const port = app.listeners.find((l) => l.name === 'imaps')?.port ?? 0;
    const script = `
import imaplib, json, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
M = imaplib.IMAP4_SSL('127.0.0.1', ${port}, ssl_context=ctx)
M.login('rose.pinkcheeks@iat.example', '${PASSWORD}')
M.select('INBOX')
s = lambda *c: M.search(None, *c)[1][0].decode().split()
out = {
  'ctype': M.fetch('1', '(BODY.PEEK[HEADER.FIELDS (CONTENT-TYPE)])')[1][0][1].decode(),
  'envid': s('BODY', '"${ENVID}"'),
  'envidText': s('TEXT', '"${ENVID.toUpperCase()}"'),
  'recipient': s('BODY', '"rfc822;friend@down.example"'),
  'returnedSubject': s('BODY', '"Quarterly figures zq81"'),
  'nothing': s('BODY', '"not-in-any-part-q0"'),
}
M.logout()
print(json.dumps(out))`;
    const out = JSON.parse((await run('python3', ['-c', script], { timeout: 30_000 })).stdout);
    expect(out.ctype).toMatch(/multipart\/report/i);
    // Original-Envelope-Id and Final-Recipient are only in the message/delivery-status part.
    expect(out.envid).toEqual(['1']);
    expect(out.envidText).toEqual(['1']);
    expect(out.recipient).toEqual(['1']);
    // The original's Subject comes back in the text/rfc822-headers part (RET=HDRS).
    expect(out.returnedSubject).toEqual(['1']);
    expect(out.nothing).toEqual([]);
  }, 60_000);
});
