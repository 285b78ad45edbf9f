/**
 * The attachment gateway in the running appliance (issue 15): registration by the CLI command table, mail
 * through the MX into the mail store, downloads over HTTPS on the public web listener (full, resumed with a
 * range, 416, 404), the message valid for mailparser and Python's email package, an unregistered recipient
 * of the same message untouched, and the cleanup job run by the scheduler.
 */
import type { Readable } from 'node:stream';
import { GatewayStore } from '@delegato/gateway';
import { tempDir } from '@delegato/testkit';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { executeCommand } from '../src/cli/commands.js';
import { gatewayCleanupJob } from '../src/jobs/gateway-cleanup.js';
import { startScheduler } from '../src/jobs/scheduler.js';
import { listenerPort, startTestAppliance } from './admin-support.js';
import { TEST_OPERATOR } from './appliance-support.js';
import {
  downloadPaths,
  httpsGet,
  MiB,
  pythonParts,
  randomPdf,
  scanMessage,
  sha256,
  smtpSend,
} from './gateway-support.js';

const PW = 'Reader-Test-Pass-1';
let t: Awaited<ReturnType<typeof startTestAppliance>>;
let app: RunningAppliance;
const work = tempDir('gateway-delivery-');

const cli = (...argv: string[]) => executeCommand(argv, { directory: app.directory, actor: TEST_OPERATOR });

async function stored(address: string): Promise<Buffer> {
  const found = await app.directory.lookupRecipient(address);
  if (found.kind !== 'mailbox') throw new Error(`${address} is not a mailbox`);
  const meta = (await app.store.listMessages(found.mailboxId, 'INBOX')).at(-1);
  if (!meta) throw new Error(`nothing in ${address}'s INBOX`);
  const chunks: Buffer[] = [];
  for await (const c of (await app.store.openMessage(found.mailboxId, 'INBOX', meta.uid)) as Readable)
    chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  t = await startTestAppliance('gateway-');
  app = t.app;
  await app.directory.addDomain(TEST_OPERATOR, 'univ.example');
  for (const localPart of ['reader', 'other'])
    await app.directory.addMailbox(TEST_OPERATOR, {
      domain: 'univ.example',
      kind: 'role',
      localPart,
      password: PW,
    });
});
afterAll(async () => {
  await t?.stop();
  work.remove();
});

describe('attachment gateway at delivery', () => {
  it('replaces a 5 MiB PDF by a link for a registered recipient, and not for another', async () => {
    const reg = await cli('gateway', 'register', 'reader@univ.example', '--json');
    expect(reg.code, reg.stderr).toBe(0);
    expect(JSON.parse(reg.stdout)).toMatchObject({ kind: 'mailbox', target: 'reader@univ.example' });
    const pdf = randomPdf(5 * MiB);
    const sent = scanMessage('reader@univ.example, other@univ.example', pdf);
    await smtpSend(
      listenerPort(app, 'smtp'),
      'librarian@lib.example',
      ['reader@univ.example', 'other@univ.example'],
      sent,
    );

    // The unregistered recipient: the message as sent, behind the MX's trace fields.
    const plain = await stored('other@univ.example');
    expect(plain.subarray(plain.length - sent.length).equals(sent)).toBe(true);
    expect(plain.toString('latin1')).not.toContain('X-Delegato-Gateway');

    const message = await stored('reader@univ.example');
    expect(message.length).toBeLessThan(20_000);
    const text = message.toString('latin1');
    // The MX's trace fields (and its Authentication-Results, recorded before the gateway) come first.
    expect(text).toMatch(
      /^(?:Authentication-Results: [\s\S]*?)?Return-Path: <librarian@lib\.example>\r\nReceived: from client\.example/,
    );
    expect(text).toContain('X-Delegato-Gateway: 1 part(s) replaced by download links');
    // The small text attachment is intact, byte for byte, and so is everything after the PDF.
    const tail = sent.subarray(sent.indexOf('\r\n--outer\r\nContent-Type: text/plain; name="notes.txt"'));
    expect(message.subarray(message.length - tail.length).equals(tail)).toBe(true);
    const parsed = await simpleParser(message);
    expect(parsed.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([
      ['notes.txt', 'Shelf 12, box 4.'],
    ]);
    expect(parsed.text).toContain('Maßnahmen 書.pdf');
    expect(parsed.text).toContain('5.0 MiB');
    expect(parsed.html).toContain('href="https://');
    const parts = pythonParts(work.path, message);
    expect(parts.flatMap((p) => p.defects)).toEqual([]);
    expect(parts.map((p) => p.type)).toEqual([
      'multipart/mixed',
      'text/plain',
      'multipart/alternative',
      'text/plain',
      'text/html',
      'text/plain',
    ]);

    const [path] = await downloadPaths(message);
    expect(path).toBeDefined();
    const web = listenerPort(app, 'web');
    const whole = await httpsGet(web, path as string);
    expect(whole.status).toBe(200);
    expect(whole.headers['content-type']).toBe('application/pdf');
    expect(whole.headers['content-length']).toBe(String(pdf.length));
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.headers['content-disposition']).toBe(
      `attachment; filename="Ma_nahmen _.pdf"; filename*=UTF-8''Ma%C3%9Fnahmen%20%E6%9B%B8.pdf`,
    );
    expect(sha256(whole.body)).toBe(sha256(pdf));

    // An interrupted download resumed with a range request.
    const cut = 1_234_567;
    const first = whole.body.subarray(0, cut);
    const rest = await httpsGet(web, path as string, {
      Range: `bytes=${cut}-`,
      'If-Range': String(whole.headers.etag),
    });
    expect(rest.status).toBe(206);
    expect(rest.headers['content-range']).toBe(`bytes ${cut}-${pdf.length - 1}/${pdf.length}`);
    expect(rest.headers['content-length']).toBe(String(pdf.length - cut));
    expect(sha256(Buffer.concat([first, rest.body]))).toBe(sha256(pdf));

    const beyond = await httpsGet(web, path as string, { Range: `bytes=${pdf.length}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${pdf.length}`);
    const head = await httpsGet(web, path as string, {}, 'HEAD');
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([
      200,
      String(pdf.length),
      0,
    ]);
    for (const unknown of [
      '/gateway/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      '/gateway/x',
      '/gateway/',
    ]) {
      const r = await httpsGet(web, unknown);
      expect(r.status).toBe(404);
      expect(r.body.toString()).toBe('not found');
    }

    // The operator sees the domain's disk usage.
    const list = await cli('gateway', 'list', 'univ.example', '--json');
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({
        domain: 'univ.example',
        usage: { domain: 'univ.example', links: 1, files: 1, bytes: pdf.length },
        registrations: [expect.objectContaining({ kind: 'mailbox', target: 'reader@univ.example' })],
      }),
    ]);
    const human = await cli('gateway', 'list');
    expect(human.stdout).toContain('univ.example: parts over 2.0 MiB, every media type, links kept 30 days');
    expect(human.stdout).toContain('disk: 5.0 MiB in 1 file(s), 1 link(s)');
  });

  it('applies domain rules set with the CLI, requires the login when asked, and reports bad input', async () => {
    const set = await cli(
      'gateway',
      'settings',
      'univ.example',
      '--threshold',
      '1M',
      '--types',
      'application/pdf,image/*',
      '--login-required',
      'yes',
      '--expiry-days',
      '7',
    );
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain(
      'parts over 1.0 MiB, application/pdf, image/*, links kept 7 days, mailbox login required',
    );
    expect((await cli('gateway', 'register', 'univ.example')).code).toBe(0);
    const pdf = randomPdf(1.5 * MiB);
    await smtpSend(
      listenerPort(app, 'smtp'),
      'someone@else.example',
      ['other@univ.example'],
      scanMessage('other@univ.example', pdf),
    );
    const message = await stored('other@univ.example');
    const [path] = await downloadPaths(message);
    const web = listenerPort(app, 'web');
    expect((await httpsGet(web, path as string)).status).toBe(401);
    const basic = (s: string) => ({ Authorization: `Basic ${Buffer.from(s).toString('base64')}` });
    expect((await httpsGet(web, path as string, basic(`reader@univ.example:${PW}`))).status).toBe(401);
    expect(await httpsGet(web, path as string, basic('other@univ.example:wrong'))).toMatchObject({
      status: 401,
    });
    const ok = await httpsGet(web, path as string, basic(`other@univ.example:${PW}`));
    expect(ok.status).toBe(200);
    expect(sha256(ok.body)).toBe(sha256(pdf));

    for (const argv of [
      ['gateway', 'register', 'nobody@univ.example'],
      ['gateway', 'register', 'not-hosted.example'],
      ['gateway', 'settings', 'univ.example', '--threshold', 'lots'],
      ['gateway', 'settings', 'univ.example', '--login-required', 'maybe'],
      ['gateway', 'list', 'a', 'b'],
    ]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^delegato: \S/);
    }
    expect((await cli('gateway', 'unregister', 'univ.example')).code).toBe(0);
    expect((await cli('gateway', 'unregister', 'reader@univ.example')).code).toBe(0);
    expect((await cli('gateway', 'register', '--sender', 'lib.example', 'univ.example')).code).toBe(0);
    const sender = await cli('gateway', 'list', '--json');
    expect(JSON.parse(sender.stdout)[0].registrations).toEqual([
      expect.objectContaining({ kind: 'sender', target: 'lib.example' }),
    ]);
  });

  it('cleans up expired files in the scheduled job', async () => {
    let now = new Date('2026-12-06T00:00:00Z');
    const store = await GatewayStore.open({ dir: `${work.path}/store`, now: () => now });
    try {
      const { writeFile } = await import('node:fs/promises');
      const tmp = store.tmpPath('part');
      await writeFile(tmp, 'content');
      await store.keepFile(tmp, sha256(Buffer.from('content')), 7);
      await store.createLink({
        sha256: sha256(Buffer.from('content')),
        size: 7,
        fileName: 'a.txt',
        mediaType: 'text/plain',
        domain: 'univ.example',
        mailboxes: [],
        expiresAt: new Date('2026-12-07T00:00:00Z'),
        loginRequired: false,
      });
      const scheduler = startScheduler([gatewayCleanupJob(store)], { timezone: 'UTC', logger: app.logger });
      try {
        expect(await scheduler.runNow('gateway-cleanup')).toEqual({ links: 0, files: 0, bytes: 0 });
        now = new Date('2026-12-08T00:00:00Z');
        expect(await scheduler.runNow('gateway-cleanup')).toEqual({ links: 1, files: 1, bytes: 7 });
      } finally {
        await scheduler.stop();
      }
    } finally {
      store.close();
    }
  });
});
