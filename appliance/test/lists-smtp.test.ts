/**
 * Built-in lists over SMTP (issue 19), on the real appliance (ports 0, real databases in a temp dir), with a
 * raw SMTP client: sender rules in the transaction (550 5.7.1 at RCPT and at DATA), expansion (one copy per
 * member, RFC 2919 List-Id and RFC 2369 List-* headers, the list's bounce address as envelope sender, local
 * copies in the mail store and remote ones in the outbound queue), loops refused, moderation (held in the
 * data dir, approved by the owner's reply or through the moderation API, rejected or expired with a notice
 * to the poster), and the members' bounces kept from the poster.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { Actor } from '@delegato/directory';
import { createLogger } from '@delegato/observability';
import {
  ALL_PORTS_ZERO,
  LineClient,
  type RunningDnsServer,
  startDnsServer,
  tempDir,
  waitFor,
} from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningAppliance, startAppliance } from '../src/appliance.js';
import { loadConfig } from '../src/config/load.js';

const OP: Actor = { kind: 'operator', name: 'test', from: '127.0.0.1' };
const D = 'iat.example';
const dir = tempDir('delegato-lists-');
let app: RunningAppliance;
let dns: RunningDnsServer;
let port = 0;
const ids: Record<string, string> = {};

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Every message in the INBOX of `address`, as text. */
async function inbox(address: string): Promise<string[]> {
  const id = ids[address] as string;
  await app.store.ensureUser(id);
  const snap = await app.store.snapshot(id, 'INBOX');
  const out: string[] = [];
  for (const m of snap.messages) out.push(await readAll(await app.store.openMessage(id, 'INBOX', m.uid)));
  return out;
}

async function session(): Promise<LineClient> {
  const c = await LineClient.connect(port);
  expect((await c.smtpReply()).code).toBe(220);
  expect((await c.smtp('EHLO client.example')).code).toBe(250);
  return c;
}

function message(from: string, subject: string, extra = ''): string {
  const headers = [
    `From: Poster <${from}>`,
    `To: <list@${D}>`,
    `Subject: ${subject}`,
    `Message-ID: <${subject.replace(/\W/g, '')}@client.example>`,
  ];
  if (extra) headers.push(extra);
  return `${headers.join('\r\n')}\r\n\r\nBody of ${subject}.\r\n`;
}

/** One transaction; returns the replies to RCPT and to the end of DATA (null when DATA was not reached). */
async function send(
  from: string,
  rcpts: string[],
  body: string,
): Promise<{ rcpt: Array<{ code: number; text: string }>; data: { code: number; text: string } | null }> {
  const c = await session();
  try {
    expect((await c.smtp(`MAIL FROM:<${from}>`)).code).toBe(250);
    const rcpt = [];
    for (const r of rcpts) rcpt.push(await c.smtp(`RCPT TO:<${r}>`));
    if (!rcpt.some((r) => r.code === 250)) return { rcpt, data: null };
    expect((await c.smtp('DATA')).code).toBe(354);
    const data = await c.smtp(`${body}.`);
    await c.smtp('QUIT');
    return { rcpt, data };
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  // Remote members stay queued (deferred): their domain's DNS fails temporarily.
  dns = await startDnsServer({ 'remote.example': { rcode: 'SERVFAIL' } });
  const config = loadConfig({
    env: {
      ...ALL_PORTS_ZERO,
      // Message authentication at the MX is tested in message-auth-inbound.test.ts.
      DELEGATO_AUTH_INBOUND: 'false',
      DELEGATO_DATA_DIR: join(dir.path, 'var'),
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
  await d.addDomain(OP, D);
  for (const [first, last] of [
    ['Rose', 'Pinkcheeks'],
    ['Mario', 'Rossi'],
    ['Anna', 'Verdi'],
  ] as const) {
    const m = await d.addMailbox(OP, { domain: D, kind: 'personal', firstName: first, lastName: last });
    ids[m.address] = (await d.resolveLogin(m.address))?.id ?? '';
  }
  // Open list: members only; one local member is named twice (official address and an alias of it).
  await d.createList(OP, {
    address: `list@${D}`,
    owner: `rose.pinkcheeks@${D}`,
    senders: 'members',
    members: [`mario.rossi@${D}`, `m.rossi@${D}`, `anna.verdi@${D}`, 'ext@remote.example'],
  });
  await d.createList(OP, {
    address: `mod@${D}`,
    owner: `rose.pinkcheeks@${D}`,
    senders: 'anyone',
    moderated: true,
    members: [`mario.rossi@${D}`, `anna.verdi@${D}`],
  });
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await dns?.close();
  dir.remove();
});

describe('list expansion', () => {
  it('sends one copy per member with the List-* headers and the bounce address as envelope sender', async () => {
    const sent = await send(`anna.verdi@${D}`, [`list@${D}`], message(`anna.verdi@${D}`, 'Hello list'));
    expect(sent.rcpt[0]?.code).toBe(250);
    expect(sent.data?.code).toBe(250);
    let copies: string[] = [];
    await waitFor(async () => {
      copies = (await inbox(`mario.rossi@${D}`)).filter((m) => m.includes('Hello list'));
      return copies.length > 0;
    }, 10_000);
    // Mario is named twice (official and alias): one copy.
    expect(copies).toHaveLength(1);
    const copy = copies[0] ?? '';
    expect(copy).toMatch(/^Return-Path: <list-bounces@iat\.example>\r\n/);
    expect(copy).toContain('List-Id: <list.iat.example>\r\n');
    expect(copy).toContain('List-Post: <mailto:list@iat.example>\r\n');
    expect(copy).toContain('List-Owner: <mailto:rose.pinkcheeks@iat.example>\r\n');
    expect(copy).toContain(
      'List-Unsubscribe: <mailto:rose.pinkcheeks@iat.example?subject=unsubscribe%20list@iat.example>',
    );
    expect(copy).toContain('X-Loop: list@iat.example\r\n');
    expect(copy).toContain('Received: from client.example');
    // The poster's Return-Path is not kept inside the copy.
    expect(copy.match(/^Return-Path:/gm)).toHaveLength(1);
    expect(copy).toContain('Body of Hello list.');
    // The poster is a member: their own copy, once.
    expect((await inbox(`anna.verdi@${D}`)).filter((m) => m.includes('Hello list'))).toHaveLength(1);
    // The remote member: queued once, with the list's bounce address as sender.
    // Released once the post store is empty (local copies first, then the queue).
    await waitFor(() => readdirSync(join(dir.path, 'var', 'lists', 'posts')).length === 0, 10_000);
    const queued = (await app.queue.list()).filter((m) =>
      m.recipients.some((r) => r.address === 'ext@remote.example'),
    );
    expect(queued).toHaveLength(1);
    expect(queued[0]?.sender).toBe(`list-bounces@${D}`);
    expect(queued[0]?.recipients.map((r) => r.address)).toEqual(['ext@remote.example']);
    // The owner is no member: no copy.
    expect((await inbox(`rose.pinkcheeks@${D}`)).filter((m) => m.includes('Hello list'))).toHaveLength(0);
  });

  it('refuses an outside sender at RCPT with 550 5.7.1 and the reason', async () => {
    const sent = await send(
      'stranger@outside.example',
      [`list@${D}`],
      message('stranger@outside.example', 'Spam'),
    );
    expect(sent.rcpt[0]?.code).toBe(550);
    expect(sent.rcpt[0]?.text).toContain('5.7.1');
    expect(sent.rcpt[0]?.text).toContain('only members may post to list@iat.example');
    expect(sent.data).toBeNull();
  });

  it('refuses at DATA a From: that may not post, even with a member as envelope sender', async () => {
    const sent = await send(`anna.verdi@${D}`, [`list@${D}`], message('stranger@outside.example', 'Forged'));
    expect(sent.data?.code).toBe(550);
    expect(sent.data?.text).toContain('5.7.1');
    expect(sent.data?.text).toContain('From: only members may post');
  });

  it('refuses a message that went through the list already (a loop), and the null sender', async () => {
    const looped = await send(
      `anna.verdi@${D}`,
      [`list@${D}`],
      message(`anna.verdi@${D}`, 'Looped', 'List-Id: <list.iat.example>'),
    );
    expect(looped.data?.code).toBe(554);
    expect(looped.data?.text).toContain('5.4.6');
    const bounce = await send('', [`list@${D}`], message(`anna.verdi@${D}`, 'Null'));
    expect(bounce.rcpt[0]?.code).toBe(550);
  });

  it('takes a list in a transaction of its own: 452 4.5.3 for the other recipients', async () => {
    const sent = await send(
      `anna.verdi@${D}`,
      [`list@${D}`, `rose.pinkcheeks@${D}`, `mod@${D}`],
      message(`anna.verdi@${D}`, 'Mixed'),
    );
    expect(sent.rcpt.map((r) => r.code)).toEqual([250, 452, 452]);
    expect(sent.rcpt[1]?.text).toContain('4.5.3');
    expect(sent.data?.code).toBe(250);
  });

  it("accepts the members' bounces at the bounce address and passes nothing to the poster", async () => {
    await waitFor(() => readdirSync(join(dir.path, 'var', 'lists', 'posts')).length === 0, 10_000);
    const before = (await inbox(`anna.verdi@${D}`)).length;
    const sent = await send(
      '',
      [`list-bounces@${D}`],
      message('mailer-daemon@remote.example', 'Undeliverable'),
    );
    expect(sent.data?.code).toBe(250);
    await new Promise((r) => setTimeout(r, 300));
    expect((await inbox(`anna.verdi@${D}`)).length).toBe(before);
  });
});

describe('moderation', () => {
  it('holds a post, tells the owner, and releases it when the owner approves', async () => {
    const sent = await send(
      'someone@outside.example',
      [`mod@${D}`],
      message('someone@outside.example', 'Please post'),
    );
    expect(sent.data?.code).toBe(250);
    expect(sent.data?.text).toContain('held');
    const pending = await app.lists.moderation.pending(`mod@${D}`);
    expect(pending).toHaveLength(1);
    const post = pending[0];
    expect(post).toMatchObject({
      list: `mod@${D}`,
      sender: 'someone@outside.example',
      subject: 'Please post',
    });
    expect(post).not.toHaveProperty('token');
    // Kept durably in the data dir until decided.
    expect(existsSync(join(dir.path, 'var', 'lists', 'posts', `${post?.id}.eml`))).toBe(true);
    // Nothing reached the members yet; the owner got the notice.
    expect((await inbox(`mario.rossi@${D}`)).some((m) => m.includes('Please post'))).toBe(false);
    const notice = (await inbox(`rose.pinkcheeks@${D}`)).find((m) =>
      m.includes('Approval needed: Please post'),
    );
    expect(notice).toBeDefined();
    expect(notice).toContain('Reply-To: <mod-request@iat.example>');
    expect(notice).toContain('Auto-Submitted: auto-generated');
    // The held message as the owner reads it: text only.
    const shown = await app.lists.moderation.show(`mod@${D}`, post?.id ?? '');
    expect(shown.text).toContain('Body of Please post.');
    // Another list's name does not reach it.
    await expect(app.lists.moderation.approve(`list@${D}`, post?.id ?? '', 'test')).rejects.toThrow(
      /no held message/,
    );
    await app.lists.moderation.approve(`mod@${D}`, post?.id ?? '', 'test');
    await waitFor(
      async () => (await inbox(`mario.rossi@${D}`)).some((m) => m.includes('Please post')),
      10_000,
    );
    const copy = (await inbox(`anna.verdi@${D}`)).find((m) => m.includes('Please post')) ?? '';
    expect(copy).toContain('List-Id: <mod.iat.example>');
    expect(copy).toMatch(/^Return-Path: <mod-bounces@iat\.example>/);
    expect(await app.lists.moderation.pending(`mod@${D}`)).toEqual([]);
  });

  it('approves by a reply to the moderation notice from the owner, and refuses other replies', async () => {
    await send('someone@outside.example', [`mod@${D}`], message('someone@outside.example', 'By reply'));
    const notice =
      (await inbox(`rose.pinkcheeks@${D}`)).find((m) => m.includes('Approval needed: By reply')) ?? '';
    const subject = /^Subject: (.*)$/m.exec(notice)?.[1] ?? '';
    expect(subject).toMatch(/\[moderate [0-9A-Z]{26} [0-9a-f]{32}\]/);
    const reply = (from: string, subj: string, first: string) =>
      [
        `From: <${from}>`,
        `To: <mod-request@${D}>`,
        `Subject: Re: ${subj}`,
        '',
        first,
        '',
        `> ${notice.split('\r\n')[0]}`,
        '',
      ].join('\r\n');
    // Not the owner: refused.
    const forged = await send(
      'someone@outside.example',
      [`mod-request@${D}`],
      reply('someone@outside.example', subject, 'approve'),
    );
    expect(forged.data?.code).toBe(550);
    expect(forged.data?.text).toContain('only the list owner may moderate');
    // The owner, but a wrong token: refused.
    const wrong = subject.replace(/[0-9a-f]{32}\]/, `${'0'.repeat(32)}]`);
    const bad = await send(
      `rose.pinkcheeks@${D}`,
      [`mod-request@${D}`],
      reply(`rose.pinkcheeks@${D}`, wrong, 'approve'),
    );
    expect(bad.data?.code).toBe(550);
    expect((await app.lists.moderation.pending(`mod@${D}`)).map((p) => p.subject)).toEqual(['By reply']);
    // The owner with the notice's subject: approved.
    const ok = await send(
      `rose.pinkcheeks@${D}`,
      [`mod-request@${D}`],
      reply(`rose.pinkcheeks@${D}`, subject, 'Approve'),
    );
    expect(ok.data?.code).toBe(250);
    expect(ok.data?.text).toContain('Approved');
    await waitFor(async () => (await inbox(`mario.rossi@${D}`)).some((m) => m.includes('By reply')), 10_000);
  });

  it('a rejected post and an expired one reach no member; their poster gets a notice', async () => {
    await send(`anna.verdi@${D}`, [`mod@${D}`], message(`anna.verdi@${D}`, 'To reject'));
    const [toReject] = await app.lists.moderation.pending(`mod@${D}`);
    await app.lists.moderation.reject(`mod@${D}`, toReject?.id ?? '', 'test');
    await waitFor(
      async () => (await inbox(`anna.verdi@${D}`)).some((m) => m.includes('was rejected by the list')),
      10_000,
    );
    const rejected =
      (await inbox(`anna.verdi@${D}`)).find((m) => m.includes('was rejected by the list')) ?? '';
    expect(rejected).toMatch(/^Return-Path: <>/);
    expect(rejected).toContain('Subject: Not delivered to mod@iat.example: To reject');
    expect((await inbox(`mario.rossi@${D}`)).some((m) => m.includes('Body of To reject'))).toBe(false);

    await send(`anna.verdi@${D}`, [`mod@${D}`], message(`anna.verdi@${D}`, 'Too late'));
    expect(await app.lists.moderation.expire()).toBe(0);
    // Held posts expire after lists.holdDays: the store's clock is moved past it by editing the post.
    const [late] = await app.lists.moderation.pending(`mod@${D}`);
    const stored = await app.lists.moderation.store.get(late?.id ?? '');
    await app.lists.moderation.store.save({
      ...(stored as NonNullable<typeof stored>),
      expiresAt: '2000-01-01T00:00:00.000Z',
    });
    // The scheduled job (jobs/declarations.ts) runs the expiry.
    expect(await app.scheduler.runNow('list-posts-expiry')).toBe(1);
    await waitFor(
      async () => (await inbox(`anna.verdi@${D}`)).some((m) => m.includes('was not approved in time')),
      10_000,
    );
    expect(await app.lists.moderation.pending(`mod@${D}`)).toEqual([]);
    expect((await inbox(`mario.rossi@${D}`)).some((m) => m.includes('Body of Too late'))).toBe(false);
  });
});
