import type { Readable } from 'node:stream';
import type { Actor } from '@delegato/directory';
import { LineClient, tempDir } from '@delegato/testkit';
import {
  type ExistsEvent,
  type ExpungeEvent,
  type FetchMessageObject,
  type FlagsEvent,
  ImapFlow,
  type ImapFlowOptions,
  type MailboxObject,
} from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { addRose, startApplianceIn } from './appliance-support.js';

const _OP: Actor = { kind: 'operator', name: 'test', from: 'local' };
const PASSWORD = 'Imap-Secret-Pass-7';
const USER = 'rose.pinkcheeks@iat.example';
const QUOTA_BYTES = 10 * 1024 * 1024;
const dir = tempDir('delegato-imapflow-');
let app: RunningAppliance;
let userId = '';
const open: ImapFlow[] = [];

const port = (name: string) => app.listeners.find((l) => l.name === name)?.port ?? 0;

// ---- the messages delivered by SMTP, in this order (UIDs 1, 2, 3) ----

const MSG1 = [
  'From: Sender Name <sender@outside.example>',
  'To: Rose Pinkcheeks <rose.pinkcheeks@iat.example>',
  'Subject: first plain',
  'Date: Mon, 02 Jun 2025 10:00:00 +0000',
  'Message-ID: <m1@outside.example>',
  '',
  'Hello Rose,',
  'this is the first message.',
  '.a line with a leading dot',
  '',
].join('\r\n');

/** 300 bytes covering every byte value pattern, base64-encoded in 76-character lines. */
const ATTACHMENT = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7 + 3) % 256));
const B64 = ATTACHMENT.toString('base64').replace(/.{1,76}/g, '$&\r\n');
/** Body of part 1: the CRLF before the next boundary belongs to the boundary (RFC 2046 §5.1.1). */
const TEXT_PART = 'Hello Rose,\r\nsee the attachment.\r\n';
const PART2_MIME =
  'Content-Type: application/octet-stream; name="data.bin"\r\n' +
  'Content-Transfer-Encoding: base64\r\n' +
  'Content-Disposition: attachment; filename="data.bin"\r\n\r\n';
const MSG2 =
  'From: Sender Name <sender@outside.example>\r\n' +
  'To: Rose Pinkcheeks <rose.pinkcheeks@iat.example>\r\n' +
  'Subject: with attachment\r\n' +
  'Date: Mon, 02 Jun 2025 11:00:00 +0000\r\n' +
  'Message-ID: <m2@outside.example>\r\n' +
  'MIME-Version: 1.0\r\n' +
  'Content-Type: multipart/mixed; boundary="b0undary"\r\n' +
  '\r\n' +
  'This is a multi-part message in MIME format.\r\n' +
  '--b0undary\r\n' +
  'Content-Type: text/plain; charset=utf-8\r\n' +
  'Content-Transfer-Encoding: 7bit\r\n' +
  '\r\n' +
  `${TEXT_PART}\r\n` +
  '--b0undary\r\n' +
  PART2_MIME +
  `${B64}\r\n` +
  '--b0undary--\r\n';

const MSG3 = [
  'From: =?ISO-8859-1?Q?Andr=E9?= Dupont <andre@outside.example>',
  'To: rose.pinkcheeks@iat.example',
  'Cc: "Mario Rossi" <mario@outside.example>',
  'Subject: =?UTF-8?Q?Caf=C3=A9_d=C3=A9j=C3=A0_vu?=',
  'Date: Tue, 03 Jun 2025 12:30:00 +0200',
  'Message-ID: <m3@outside.example>',
  'In-Reply-To: <m1@outside.example>',
  '',
  'Third body.',
  '',
].join('\r\n');

function simple(subject: string, id: string): string {
  return `From: sender@outside.example\r\nTo: ${USER}\r\nSubject: ${subject}\r\nMessage-ID: <${id}@outside.example>\r\n\r\nbody of ${subject}\r\n`;
}

/** Delivers a raw message (CRLF line ends, ending with CRLF) to Rose through the MX, dot-stuffed. */
async function deliver(raw: string): Promise<void> {
  const c = await LineClient.connect(port('smtp'));
  try {
    expect((await c.smtpReply()).code).toBe(220);
    expect((await c.smtp('EHLO t.example')).code).toBe(250);
    expect((await c.smtp('MAIL FROM:<sender@outside.example>')).code).toBe(250);
    expect((await c.smtp(`RCPT TO:<${USER}>`)).code).toBe(250);
    expect((await c.smtp('DATA')).code).toBe(354);
    expect((await c.smtp(`${raw.replace(/^\./gm, '..')}.`)).code).toBe(250);
  } finally {
    c.close();
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const stored = async (folder: string, uid: number) =>
  readAll(await app.store.openMessage(userId, folder, uid));

async function eventually(what: string, probe: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function client(opts: Partial<ImapFlowOptions> = {}): ImapFlow {
  const c = new ImapFlow({
    host: '127.0.0.1',
    port: port('imap'),
    secure: false,
    auth: { user: USER, pass: PASSWORD },
    logger: false,
    tls: { rejectUnauthorized: false },
    disableAutoIdle: true,
    ...opts,
  });
  // An 'error' event without a listener would throw out of the EventEmitter.
  c.on('error', () => undefined);
  open.push(c);
  return c;
}

async function session(opts: Partial<ImapFlowOptions> = {}): Promise<ImapFlow> {
  const c = client(opts);
  await c.connect();
  return c;
}

const caps = (c: ImapFlow) => new Set([...c.capabilities.keys()].map((k) => k.toUpperCase()));
const selected = (c: ImapFlow) => c.mailbox as MailboxObject;
const sorted = (flags: Iterable<string> | undefined) => [...(flags ?? [])].sort();

/** imapflow answers `false` (or nothing) where a command failed: fail the test there. */
function found<T>(value: T | false | null | undefined, what = 'a result'): T {
  if (value === false || value === null || value === undefined) throw new Error(`expected ${what}`);
  return value;
}

beforeAll(async () => {
  app = await startApplianceIn(dir.path);
  userId = await addRose(app, PASSWORD, { quotaBytes: QUOTA_BYTES });
  await deliver(MSG1);
  await deliver(MSG2);
  await deliver(MSG3);
}, 60_000);

afterAll(async () => {
  for (const c of open) c.close();
  await app?.stop();
  dir.remove();
});

describe('connecting and logging in', () => {
  it('STARTTLS on the imap port, then LOGIN; the capabilities of every supported RFC; ENABLE', async () => {
    const c = await session();
    expect(c.secureConnection).toBe(true);
    expect(c.authenticated).toBeTruthy();
    const have = caps(c);
    for (const cap of [
      'IMAP4REV1',
      'IDLE',
      'UIDPLUS',
      'MOVE',
      'NAMESPACE',
      'SPECIAL-USE',
      'ENABLE',
      'ID',
      'UNSELECT',
      'QUOTA',
      'QUOTA=RES-STORAGE',
      'CONDSTORE',
      'QRESYNC',
    ]) {
      expect(have.has(cap), cap).toBe(true);
    }
    expect(have.has('LITERAL+') || have.has('LITERAL-'), 'LITERAL+ or LITERAL-').toBe(true);
    expect(have.has('STARTTLS'), 'no STARTTLS once under TLS').toBe(false);
    expect(have.has('LOGINDISABLED')).toBe(false);
    // imapflow ENABLEs CONDSTORE (RFC 5161, RFC 7162 §3.1).
    expect(c.enabled.has('CONDSTORE')).toBe(true);
    // NAMESPACE (RFC 2342): one personal namespace, no prefix, delimiter "/".
    expect(c.namespace).toEqual({ prefix: '', delimiter: '/' });
    await c.logout();
  });

  it('IMAP4rev2 (RFC 9051) is advertised next to IMAP4rev1, and ENABLE IMAP4rev2 turns it on', async () => {
    const c = await session();
    expect(caps(c).has('IMAP4REV2')).toBe(true);
    expect(c.enabled.has('IMAP4REV2')).toBe(true);
    await c.logout();
  });

  it('a wrong password fails with AUTHENTICATIONFAILED, and the right one still works afterwards', async () => {
    const bad = client({ auth: { user: USER, pass: 'not-the-password' } });
    const err = await bad.connect().then(
      () => null,
      (e: unknown) => e as { authenticationFailed?: boolean; serverResponseCode?: string },
    );
    expect(err).not.toBeNull();
    expect(err?.authenticationFailed).toBe(true);
    expect(err?.serverResponseCode).toBe('AUTHENTICATIONFAILED');
    const unknown = client({ auth: { user: 'nobody@iat.example', pass: PASSWORD } });
    const err2 = await unknown.connect().then(
      () => null,
      (e: unknown) => e as { authenticationFailed?: boolean },
    );
    expect(err2?.authenticationFailed).toBe(true);
    const good = await session();
    expect(good.authenticated).toBeTruthy();
    await good.logout();
  });

  it('implicit TLS on the imaps port', async () => {
    const c = await session({ port: port('imaps'), secure: true });
    expect(c.secureConnection).toBe(true);
    expect(caps(c).has('STARTTLS')).toBe(false);
    await c.logout();
  });

  it('plain-text LOGIN without TLS from 127.0.0.1 to 127.0.0.1 (a local client is secure)', async () => {
    const c = await session({ doSTARTTLS: false });
    expect(c.secureConnection).toBe(false);
    expect(c.authenticated).toBeTruthy();
    expect(caps(c).has('LOGINDISABLED')).toBe(false);
    await c.logout();
  });
});

describe('folders', () => {
  it('LIST: INBOX and the special-use folders with their RFC 6154 attributes, all subscribed', async () => {
    const c = await session();
    const list = await c.list();
    const byPath = new Map(list.map((l) => [l.path, l]));
    expect([...byPath.keys()].sort()).toEqual(['Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
    for (const l of list) {
      expect(l.delimiter).toBe('/');
      expect(l.subscribed, l.path).toBe(true);
    }
    expect(byPath.get('INBOX')?.specialUse).toBe('\\Inbox');
    for (const [path, use] of [
      ['Sent', '\\Sent'],
      ['Drafts', '\\Drafts'],
      ['Trash', '\\Trash'],
      ['Junk', '\\Junk'],
    ] as const) {
      const entry = byPath.get(path);
      expect(entry?.flags.has(use), `${path} has ${use}`).toBe(true);
      expect(entry?.specialUse).toBe(use);
      // Reported by the server (SPECIAL-USE), not guessed by imapflow from the name.
      expect(entry?.specialUseSource).toBe('extension');
    }
    await c.logout();
  });

  it('CREATE (with its superior), LIST, RENAME, DELETE, SUBSCRIBE', async () => {
    const c = await session();
    const created = await c.mailboxCreate('Projects/2025');
    expect(created).toMatchObject({ path: 'Projects/2025', created: true });
    let paths = (await c.list()).map((l) => l.path);
    expect(paths).toContain('Projects/2025');
    expect(paths).toContain('Projects');
    expect((await app.store.listFolders(userId)).map((f) => f.name)).toContain('Projects/2025');
    expect(await c.mailboxSubscribe('Projects/2025')).toBe(true);
    expect((await c.list()).find((l) => l.path === 'Projects/2025')?.subscribed).toBe(true);
    await c.mailboxRename('Projects/2025', 'Projects/2026');
    paths = (await c.list()).map((l) => l.path);
    expect(paths).toContain('Projects/2026');
    expect(paths).not.toContain('Projects/2025');
    await c.mailboxDelete('Projects/2026');
    await c.mailboxDelete('Projects');
    paths = (await c.list()).map((l) => l.path);
    expect(paths.sort()).toEqual(['Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
    await c.logout();
  });

  it('SELECT: EXISTS, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and FLAGS match the store; EXAMINE is read-only', async () => {
    const c = await session();
    const box = await c.mailboxOpen('INBOX');
    const snap = await app.store.snapshot(userId, 'INBOX');
    expect(box.exists).toBe(3);
    expect(box.uidValidity).toBe(BigInt(snap.uidValidity));
    expect(box.uidNext).toBe(4);
    expect(box.uidNext).toBe(snap.uidNext);
    expect(box.highestModseq).toBe(BigInt(snap.highestModSeq));
    expect(box.readOnly).toBe(false);
    for (const f of ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft']) {
      expect(box.flags.has(f), `FLAGS ${f}`).toBe(true);
      expect(box.permanentFlags?.has(f), `PERMANENTFLAGS ${f}`).toBe(true);
    }
    // Keywords can be created (the store keeps any atom).
    expect(box.permanentFlags?.has('\\*')).toBe(true);
    const status = found(
      await c.status('Sent', {
        messages: true,
        uidNext: true,
        uidValidity: true,
        unseen: true,
        highestModseq: true,
        size: true,
      }),
    );
    const sent = await app.store.folderInfo(userId, 'Sent');
    expect(status).toMatchObject({
      path: 'Sent',
      messages: 0,
      uidNext: sent.uidNext,
      uidValidity: BigInt(sent.uidValidity),
      unseen: 0,
      size: 0,
    });
    const inboxStatus = await c.status('INBOX', { messages: true, unseen: true, size: true });
    expect(inboxStatus).toMatchObject({ messages: 3, unseen: 3, size: snap.size });
    const ro = await c.mailboxOpen('INBOX', { readOnly: true });
    expect(ro.readOnly).toBe(true);
    expect(ro.exists).toBe(3);
    expect(await c.mailboxClose()).toBe(true);
    await c.logout();
  });
});

describe('FETCH of messages delivered by SMTP', () => {
  it('UIDs 1..n in delivery order; FLAGS, INTERNALDATE, RFC822.SIZE, BODY[] byte-exact; PEEK keeps \\Seen off', async () => {
    const c = await session();
    await c.mailboxOpen('INBOX');
    const msgs: FetchMessageObject[] = await c.fetchAll('1:*', {
      uid: true,
      flags: true,
      internalDate: true,
      size: true,
      source: true,
      headers: ['message-id'],
    });
    const snap = await app.store.snapshot(userId, 'INBOX');
    expect(msgs.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(msgs.map((m) => m.uid)).toEqual([1, 2, 3]);
    expect(msgs.map((m) => m.headers?.toString())).toEqual([
      'Message-ID: <m1@outside.example>\r\n\r\n',
      'Message-ID: <m2@outside.example>\r\n\r\n',
      'Message-ID: <m3@outside.example>\r\n\r\n',
    ]);
    for (const [i, m] of msgs.entries()) {
      const meta = snap.messages[i];
      expect(meta?.uid).toBe(m.uid);
      expect(m.size).toBe(meta?.size);
      expect(m.source?.length).toBe(meta?.size);
      expect(m.source?.equals(await stored('INBOX', m.uid))).toBe(true);
      expect(sorted(m.flags)).toEqual([]);
      // INTERNALDATE has a resolution of one second (RFC 9051 date-time).
      expect(m.internalDate).toBeInstanceOf(Date);
      expect((m.internalDate as Date).getTime()).toBe(
        Math.floor((meta?.internalDate.getTime() ?? 0) / 1000) * 1000,
      );
      expect(Math.abs(Date.now() - (m.internalDate as Date).getTime())).toBeLessThan(5 * 60_000);
    }
    // The stored message is what was sent, behind the trace headers; the leading dot is un-stuffed.
    const first = msgs[0]?.source?.toString('latin1') ?? '';
    expect(first).toMatch(/^Return-Path: <sender@outside\.example>\r\nReceived: /);
    expect(first.endsWith(MSG1)).toBe(true);
    // BODY.PEEK[] did not set \Seen.
    expect((await app.store.snapshot(userId, 'INBOX')).messages.map((m) => m.flags)).toEqual([[], [], []]);
    await c.logout();
  });

  it('BODY[HEADER], BODY[HEADER.FIELDS], BODY[TEXT], partial BODY[]<0.13>', async () => {
    const c = await session();
    await c.mailboxOpen('INBOX');
    const raw = (await stored('INBOX', 1)).toString('latin1');
    const headerEnd = raw.indexOf('\r\n\r\n') + 4;
    const m = found(
      await c.fetchOne(
        '1',
        { headers: true, bodyParts: ['text'], source: { start: 0, maxLength: 13 } },
        { uid: true },
      ),
    );
    expect(m.headers?.toString('latin1')).toBe(raw.slice(0, headerEnd));
    expect(m.bodyParts?.get('text')?.toString('latin1')).toBe(raw.slice(headerEnd));
    expect(m.source?.toString()).toBe('Return-Path: ');
    const fields = found(await c.fetchOne('1', { headers: ['subject', 'date'] }, { uid: true }));
    expect(fields.headers?.toString()).toBe(
      'Subject: first plain\r\nDate: Mon, 02 Jun 2025 10:00:00 +0000\r\n\r\n',
    );
    await c.logout();
  });

  it('BODYSTRUCTURE of multipart/mixed with text/plain and a base64 attachment; its parts and a partial one', async () => {
    const c = await session();
    await c.mailboxOpen('INBOX');
    const m = found(
      await c.fetchOne('2', { bodyStructure: true, bodyParts: ['1', '2', '2.mime'] }, { uid: true }),
    );
    const bs = m.bodyStructure;
    expect(bs?.type).toBe('multipart/mixed');
    expect(bs?.parameters).toMatchObject({ boundary: 'b0undary' });
    expect(bs?.childNodes).toHaveLength(2);
    const [text, att] = bs?.childNodes ?? [];
    expect(text).toMatchObject({
      part: '1',
      type: 'text/plain',
      parameters: { charset: 'utf-8' },
      encoding: '7bit',
      size: Buffer.byteLength(TEXT_PART),
      lineCount: 2,
    });
    expect(att).toMatchObject({
      part: '2',
      type: 'application/octet-stream',
      parameters: { name: 'data.bin' },
      encoding: 'base64',
      size: Buffer.byteLength(B64),
      disposition: 'attachment',
      dispositionParameters: { filename: 'data.bin' },
    });
    expect(m.bodyParts?.get('1')?.toString()).toBe(TEXT_PART);
    expect(m.bodyParts?.get('2')?.toString()).toBe(B64);
    expect(Buffer.from(m.bodyParts?.get('2')?.toString() ?? '', 'base64').equals(ATTACHMENT)).toBe(true);
    expect(m.bodyParts?.get('2.mime')?.toString()).toBe(PART2_MIME);
    // BODY[1]<6.4>
    const partial = found(
      await c.fetchOne('2', { bodyParts: [{ key: '1', start: 6, maxLength: 4 }] }, { uid: true }),
    );
    expect(partial.bodyParts?.get('1')?.toString()).toBe('Rose');
    await c.logout();
  });

  it('BINARY[2] (RFC 3516, RFC 9051 §6.4.5): the server removes the base64 of the attachment', async () => {
    const c = await session();
    await c.mailboxOpen('INBOX');
    const binary = found(await c.fetchOne('2', { bodyParts: ['2'] }, { uid: true, binary: true }));
    expect(binary.binaryParts?.has('2')).toBe(true);
    expect(binary.bodyParts?.get('2')?.equals(ATTACHMENT)).toBe(true);
    await c.logout();
  });

  it('ENVELOPE: encoded words decoded by imapflow; Sender and Reply-To default to From (RFC 3501 §7.4.2)', async () => {
    const c = await session();
    await c.mailboxOpen('INBOX');
    const m = found(await c.fetchOne('3', { envelope: true }, { uid: true }));
    const env = m.envelope;
    expect(env?.subject).toBe('Café déjà vu');
    expect(env?.from).toEqual([{ name: 'André Dupont', address: 'andre@outside.example' }]);
    expect(env?.sender).toEqual(env?.from);
    expect(env?.replyTo).toEqual(env?.from);
    expect(env?.to?.map((a) => a.address)).toEqual(['rose.pinkcheeks@iat.example']);
    expect(env?.cc).toEqual([{ name: 'Mario Rossi', address: 'mario@outside.example' }]);
    expect(env?.messageId).toBe('<m3@outside.example>');
    expect(env?.inReplyTo).toBe('<m1@outside.example>');
    expect(new Date(env?.date ?? 0).toISOString()).toBe('2025-06-03T10:30:00.000Z');
    const m1 = found(await c.fetchOne('1', { envelope: true }, { uid: true }));
    expect(m1.envelope?.subject).toBe('first plain');
    expect(m1.envelope?.to).toEqual([{ name: 'Rose Pinkcheeks', address: USER }]);
    await c.logout();
  });

  it('SEARCH: UNSEEN, SUBJECT, HEADER, UID ranges', async () => {
    const c = await session();
    await c.mailboxOpen('INBOX');
    expect(await c.search({ seen: false }, { uid: true })).toEqual([1, 2, 3]);
    expect(await c.search({ subject: 'attachment' }, { uid: true })).toEqual([2]);
    expect(await c.search({ header: { 'message-id': 'm3@outside' } }, { uid: true })).toEqual([3]);
    expect(await c.search({ uid: '2:*' }, { uid: true })).toEqual([2, 3]);
    expect(await c.search({ body: 'first message' }, { uid: true })).toEqual([1]);
    await c.logout();
  });
});

describe('changes', () => {
  it('STORE +FLAGS / -FLAGS / FLAGS by one session are seen by a second session and in the store', async () => {
    const a = await session();
    const b = await session();
    await a.mailboxOpen('INBOX');
    await b.mailboxOpen('INBOX');
    const flagsInB = async () => {
      const m = await b.fetchOne('1', { flags: true }, { uid: true });
      return sorted(m ? m.flags : undefined);
    };
    expect(await a.messageFlagsAdd('1', ['\\Seen', '$Important'], { uid: true })).toBe(true);
    expect(await flagsInB()).toEqual(['$Important', '\\Seen']);
    expect(await a.messageFlagsRemove('1', ['$Important'], { uid: true })).toBe(true);
    expect(await flagsInB()).toEqual(['\\Seen']);
    expect(await a.messageFlagsSet('1', ['\\Flagged', '\\Answered'], { uid: true })).toBe(true);
    expect(await flagsInB()).toEqual(['\\Answered', '\\Flagged']);
    const meta = (await app.store.snapshot(userId, 'INBOX')).messages.find((m) => m.uid === 1);
    expect(sorted(meta?.flags)).toEqual(['\\Answered', '\\Flagged']);
    await a.logout();
    await b.logout();
  });

  it('COPY and MOVE answer COPYUID (UIDPLUS): the map from source to destination UIDs', async () => {
    const c = await session();
    await c.mailboxOpen('INBOX');
    const trashBefore = await app.store.snapshot(userId, 'Trash');
    const copied = found(await c.messageCopy('1:2', 'Trash', { uid: true }));
    expect(copied.uidValidity).toBe(BigInt(trashBefore.uidValidity));
    expect([...(copied.uidMap ?? new Map<number, number>()).entries()]).toEqual([
      [1, trashBefore.uidNext],
      [2, trashBefore.uidNext + 1],
    ]);
    const trash = await app.store.snapshot(userId, 'Trash');
    expect(trash.messages.map((m) => m.uid)).toEqual([trashBefore.uidNext, trashBefore.uidNext + 1]);
    expect((await stored('Trash', trashBefore.uidNext)).equals(await stored('INBOX', 1))).toBe(true);
    // Flags are copied with the message.
    expect(sorted(trash.messages[0]?.flags)).toEqual(['\\Answered', '\\Flagged']);
    expect((await app.store.snapshot(userId, 'INBOX')).messages).toHaveLength(3);

    const expunged: ExpungeEvent[] = [];
    c.on('expunge', (e: ExpungeEvent) => expunged.push(e));
    const junkBefore = await app.store.snapshot(userId, 'Junk');
    const source3 = await stored('INBOX', 3);
    const moved = found(await c.messageMove('3', 'Junk', { uid: true }));
    expect(moved.uidValidity).toBe(BigInt(junkBefore.uidValidity));
    expect([...(moved.uidMap ?? new Map<number, number>()).entries()]).toEqual([[3, junkBefore.uidNext]]);
    expect((await app.store.snapshot(userId, 'INBOX')).messages.map((m) => m.uid)).toEqual([1, 2]);
    expect((await stored('Junk', junkBefore.uidNext)).equals(source3)).toBe(true);
    // The moved message was expunged from the selected INBOX (RFC 6851 §3.3).
    await eventually('EXPUNGE after MOVE', () => expunged.length === 1);
    expect(selected(c).exists).toBe(2);
    // Move it back: it gets a new UID in INBOX.
    await c.mailboxOpen('Junk');
    const back = found(await c.messageMove(String(junkBefore.uidNext), 'INBOX', { uid: true }));
    expect([...(back.uidMap ?? new Map<number, number>()).values()]).toEqual([4]);
    await c.logout();
  });

  it('APPEND with flags and a date answers APPENDUID; the store has the bytes, flags and INTERNALDATE', async () => {
    const c = await session();
    const raw = `From: ${USER}\r\nTo: someone@outside.example\r\nSubject: a draft\r\n\r\nDraft body.\r\n`;
    const drafts = await app.store.snapshot(userId, 'Drafts');
    const res = found(
      await c.append('Drafts', raw, ['\\Draft', '\\Seen', '$Label1'], new Date('2020-01-02T03:04:05Z')),
    );
    expect(res.destination).toBe('Drafts');
    expect(res.uid).toBe(drafts.uidNext);
    expect(res.uidValidity).toBe(BigInt(drafts.uidValidity));
    const after = await app.store.snapshot(userId, 'Drafts');
    const meta = after.messages.find((m) => m.uid === res.uid);
    expect(sorted(meta?.flags)).toEqual(['$Label1', '\\Draft', '\\Seen']);
    expect(meta?.internalDate.toISOString()).toBe('2020-01-02T03:04:05.000Z');
    expect(meta?.size).toBe(raw.length);
    expect((await stored('Drafts', res.uid ?? 0)).toString()).toBe(raw);
    await c.mailboxOpen('Drafts');
    const fetched = found(
      await c.fetchOne(String(res.uid), { internalDate: true, flags: true, size: true }, { uid: true }),
    );
    expect(fetched && (fetched.internalDate as Date).toISOString()).toBe('2020-01-02T03:04:05.000Z');
    expect(fetched.size).toBe(raw.length);
    // APPEND to a folder that does not exist: NO [TRYCREATE] (RFC 9051 §6.3.12), nothing created.
    await expect(c.append('No-Such-Folder', raw)).rejects.toMatchObject({ serverResponseCode: 'TRYCREATE' });
    expect((await app.store.listFolders(userId)).map((f) => f.name)).not.toContain('No-Such-Folder');
    await c.logout();
  });

  it('messageDelete (\\Deleted + UID EXPUNGE) removes exactly that message; another session is told', async () => {
    const a = await session();
    const b = await session();
    await a.mailboxOpen('Trash');
    await b.mailboxOpen('Trash');
    const before = await app.store.snapshot(userId, 'Trash');
    expect(before.messages.length).toBe(2);
    const [keep, drop] = before.messages.map((m) => m.uid);
    const expungedInB: ExpungeEvent[] = [];
    b.on('expunge', (e: ExpungeEvent) => expungedInB.push(e));
    expect(await a.messageDelete(String(drop), { uid: true })).toBe(true);
    expect((await app.store.snapshot(userId, 'Trash')).messages.map((m) => m.uid)).toEqual([keep]);
    expect(selected(a).exists).toBe(1);
    // B hears of it at its next command (RFC 9051 §7.5.1: EXPUNGE is sent while a command is in progress).
    await b.noop();
    await eventually('EXPUNGE in B', () => expungedInB.length === 1);
    expect(selected(b).exists).toBe(1);
    await a.logout();
    await b.logout();
  });
});

describe('IDLE (RFC 2177) across two sessions', () => {
  it('session A idling on INBOX gets EXISTS for an SMTP delivery, FETCH FLAGS for B’s STORE, EXPUNGE for B’s expunge', async () => {
    const a = await session();
    expect(caps(a).has('IDLE')).toBe(true);
    await a.mailboxOpen('INBOX');
    const exists: ExistsEvent[] = [];
    const flags: FlagsEvent[] = [];
    a.on('exists', (e: ExistsEvent) => exists.push(e));
    a.on('flags', (e: FlagsEvent) => flags.push(e));
    const before = selected(a).exists;
    const idle = a.idle();
    await eventually('A idling', () => a.idling);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    await deliver(simple('idle delivery', 'idle1'));
    await eventually('EXISTS in A', () => exists.some((e) => e.count === before + 1), 5000);
    expect(Date.now() - t0).toBeLessThan(5000);

    const b = await session();
    await b.mailboxOpen('INBOX');
    const newest = (await app.store.snapshot(userId, 'INBOX')).messages.at(-1);
    expect(await b.messageFlagsAdd(String(newest?.uid), ['\\Flagged'], { uid: true })).toBe(true);
    await eventually(
      'FETCH FLAGS in A',
      () => flags.some((e) => e.seq === before + 1 && e.flags.has('\\Flagged')),
      5000,
    );
    // B expunges it: A hears EXPUNGE for that sequence number.
    const expunged: ExpungeEvent[] = [];
    a.on('expunge', (e: ExpungeEvent) => expunged.push(e));
    expect(await b.messageDelete(String(newest?.uid), { uid: true })).toBe(true);
    await eventually('EXPUNGE in A', () => expunged.some((e) => e.seq === before + 1), 5000);
    expect(selected(a).exists).toBe(before);
    expect(a.idling).toBe(true);
    await a.noop(); // ends IDLE with DONE
    await idle;
    expect(a.idling).toBe(false);
    await a.logout();
    await b.logout();
  });
});

describe('CONDSTORE and QRESYNC (RFC 7162)', () => {
  it('HIGHESTMODSEQ grows with changes; FETCH CHANGEDSINCE returns only the changed messages', async () => {
    const c = await session();
    const box = await c.mailboxOpen('INBOX');
    const h0 = box.highestModseq ?? 0n;
    expect(h0).toBeGreaterThan(0n);
    const all = await c.fetchAll('1:*', { uid: true, flags: true }, { uid: true });
    expect(all.every((m) => typeof m.modseq === 'bigint' && m.modseq <= h0)).toBe(true);
    expect(await c.fetchAll('1:*', { uid: true, flags: true }, { uid: true, changedSince: h0 })).toEqual([]);

    await c.messageFlagsAdd('2', ['$Changed'], { uid: true });
    const changed = await c.fetchAll('1:*', { uid: true, flags: true }, { uid: true, changedSince: h0 });
    expect(changed.map((m) => m.uid)).toEqual([2]);
    expect(changed[0]?.modseq).toBeGreaterThan(h0);
    const snap = await app.store.snapshot(userId, 'INBOX');
    expect(BigInt(snap.highestModSeq)).toBeGreaterThan(h0);
    expect(changed[0]?.modseq).toBe(BigInt(snap.highestModSeq));

    // STATUS HIGHESTMODSEQ from another session agrees.
    const other = await session();
    const status = found(await other.status('INBOX', { highestModseq: true }));
    expect(status.highestModseq).toBe(BigInt(snap.highestModSeq));
    await other.logout();

    // STORE UNCHANGEDSINCE (RFC 7162 §3.1.3): a message changed after h0 is not changed, and reported.
    await c.messageFlagsAdd('1:2', ['$Conditional'], { uid: true, unchangedSince: h0 });
    const flagsNow = await c.fetchAll('1:2', { uid: true, flags: true }, { uid: true });
    expect(flagsNow.find((m) => m.uid === 1)?.flags?.has('$Conditional')).toBe(true);
    expect(flagsNow.find((m) => m.uid === 2)?.flags?.has('$Conditional')).toBe(false);
    await c.logout();
  });

  it('SELECT (QRESYNC ...): VANISHED (EARLIER) and changed FLAGS since a known HIGHESTMODSEQ', async () => {
    const first = await session();
    const box = await first.mailboxOpen('INBOX');
    const known = { uidValidity: box.uidValidity, modseq: box.highestModseq ?? 0n };
    await first.logout();

    // Meanwhile, another client flags one message and expunges another.
    const other = await session();
    await other.mailboxOpen('INBOX');
    const uids = (await app.store.snapshot(userId, 'INBOX')).messages.map((m) => m.uid);
    const [flagged, gone] = [uids[0] ?? 0, uids[uids.length - 1] ?? 0];
    await other.messageFlagsAdd(String(flagged), ['$Resync'], { uid: true });
    await other.messageDelete(String(gone), { uid: true });
    await other.logout();

    const q = client({ qresync: true });
    const expunges: ExpungeEvent[] = [];
    const flags: FlagsEvent[] = [];
    q.on('expunge', (e: ExpungeEvent) => expunges.push(e));
    q.on('flags', (e: FlagsEvent) => flags.push(e));
    await q.connect();
    expect(q.enabled.has('QRESYNC')).toBe(true);
    const reopened = await q.mailboxOpen('INBOX', {
      uidValidity: known.uidValidity,
      changedSince: known.modseq,
    });
    expect(reopened.highestModseq).toBeGreaterThan(known.modseq);
    await eventually('VANISHED and FETCH', () => expunges.length > 0 && flags.length > 0);
    expect(expunges.map((e) => ({ uid: e.uid, vanished: e.vanished, earlier: e.earlier }))).toEqual([
      { uid: gone, vanished: true, earlier: true },
    ]);
    expect(flags.map((f) => f.uid)).toEqual([flagged]);
    expect(flags[0]?.flags.has('$Resync')).toBe(true);
    await q.logout();
  });
});

describe('QUOTA (RFC 9208)', () => {
  it('GETQUOTAROOT INBOX reports the STORAGE usage (in KiB) and the mailbox quota', async () => {
    const c = await session();
    const quota = found(await c.getQuota('INBOX'));
    const used = (await app.store.quota(userId)).usedBytes;
    expect(used).toBeGreaterThan(0);
    expect(quota.storage?.limit).toBe(QUOTA_BYTES);
    // imapflow multiplies the KiB on the wire by 1024.
    expect(Math.abs((quota.storage?.usage ?? -1) - used)).toBeLessThan(1024);
    await c.logout();
  });
});
