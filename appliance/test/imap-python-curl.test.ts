/**
 * IMAP with real third-party clients against the real appliance: Python's imaplib (STARTTLS and implicit
 * TLS: LIST, SELECT, SEARCH, FETCH, STORE, COPY, EXPUNGE, LOGOUT) and curl (imap://, STARTTLS and imaps://:
 * fetch by UID, a custom LIST, SEARCH; SASL PLAIN, LOGIN and curl's own choice of mechanism).
 * Mail arrives by SMTP, so this also checks that IMAP serves what the MX stored, byte for byte.
 */
import { execFile } from 'node:child_process';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { LineClient, tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { startApplianceIn, TEST_OPERATOR } from './appliance-support.js';

const run = promisify(execFile);
const OP = TEST_OPERATOR;
const PASSWORD = 'Imap-Secret-Pass-7';
/** imaplib's mailbox. */
const ROSE = 'rose.pinkcheeks@iat.example';
/** curl's mailbox. */
const MARIO = 'mario.rossi@iat.example';
const dir = tempDir('delegato-imap-clients-');
let app: RunningAppliance;
const ids: Record<string, string> = {};

const port = (name: string) => app.listeners.find((l) => l.name === name)?.port ?? 0;

async function send(to: string, subject: string, body: string): Promise<void> {
  const c = await LineClient.connect(port('smtp'));
  try {
    await c.smtpReply();
    await c.smtp('EHLO t.example');
    await c.smtp('MAIL FROM:<sender@outside.example>');
    expect((await c.smtp(`RCPT TO:<${to}>`)).code).toBe(250);
    await c.smtp('DATA');
    const msg = `From: sender@outside.example\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@outside.example>\r\n\r\n${body}\r\n`;
    expect((await c.smtp(`${msg.replace(/^\./gm, '..')}.`)).code).toBe(250);
  } finally {
    c.close();
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function stored(address: string, folder: string, uid: number): Promise<Buffer> {
  return readAll(await app.store.openMessage(ids[address] as string, folder, uid));
}

/** Runs an imaplib script; it prints one JSON document. */
async function imaplib(script: string): Promise<Record<string, unknown>> {
  const prelude = [
    'import imaplib, json, ssl',
    'ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE',
    `HOST, IMAP, IMAPS, USER, PW = '127.0.0.1', ${port('imap')}, ${port('imaps')}, '${ROSE}', '${PASSWORD}'`,
    'def first_literal(data):',
    '    return [x for x in data if isinstance(x, tuple)][0][1]',
  ].join('\n');
  const { stdout } = await run('python3', ['-c', `${prelude}\n${script}`], { timeout: 30_000 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** Runs curl; resolves with its exit code and output (curl exits non-zero on failure). */
async function curl(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  try {
    const { stdout, stderr } = await run('curl', ['-s', '-S', '--max-time', '20', ...args], {
      encoding: 'buffer',
    });
    return { code: 0, stdout, stderr: stderr.toString() };
  } catch (err) {
    const e = err as { code?: number; stdout?: Buffer; stderr?: Buffer };
    return { code: e.code ?? -1, stdout: e.stdout ?? Buffer.alloc(0), stderr: e.stderr?.toString() ?? '' };
  }
}

beforeAll(async () => {
  app = await startApplianceIn(dir.path);
  await app.directory.addDomain(OP, 'iat.example');
  for (const [firstName, lastName] of [
    ['Rose', 'Pinkcheeks'],
    ['Mario', 'Rossi'],
  ] as const) {
    const m = await app.directory.addMailbox(OP, {
      domain: 'iat.example',
      kind: 'personal',
      firstName,
      lastName,
      password: PASSWORD,
    });
    ids[m.address] = (await app.directory.resolveLogin(m.address))?.id ?? '';
  }
  await send(ROSE, 'one', 'first body\r\n.leading dot line');
  await send(ROSE, 'second', 'second body');
  await send(ROSE, 'three', 'third body');
  await send(MARIO, 'alpha', 'alpha body');
  await send(MARIO, 'beta', 'beta body');
}, 60_000);

afterAll(async () => {
  await app?.stop();
  dir.remove();
});

describe('IMAP with Python imaplib', () => {
  it('STARTTLS: LOGIN, LIST, SELECT, SEARCH, FETCH, STORE, COPY, EXPUNGE, LOGOUT', async () => {
    const first = (await stored(ROSE, 'INBOX', 1)).toString('latin1');
    const out = await imaplib(`
M = imaplib.IMAP4(HOST, IMAP)
pre = sorted(M.capabilities)
M.starttls(ssl_context=ctx)
post = sorted(M.capabilities)
login = M.login(USER, PW)[0]
boxes = [b.decode() for b in M.list()[1]]
typ, data = M.select('INBOX')
exists = int(data[0])
def search(*c):
    typ, d = M.search(None, *c)
    return d[0].decode().split()
s_all, s_unseen, s_subject = search('ALL'), search('UNSEEN'), search('SUBJECT', '"second"')
rfc822 = first_literal(M.fetch('1', '(RFC822)')[1]).decode('latin1')
hdr = first_literal(M.fetch('2', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')[1]).decode()
flags = [x.decode() for x in M.fetch('1:*', '(FLAGS)')[1]]
unseen_after_fetch = search('UNSEEN')
store = M.store('2', '+FLAGS', '\\\\Seen')
unseen_after_store = search('UNSEEN')
cp = M.copy('1', 'Trash')
deleted = M.store('1', '+FLAGS', '\\\\Deleted')[0]
ex = M.expunge()
s_after = search('ALL')
bye = M.logout()[0]
print(json.dumps({'pre': pre, 'post': post, 'login': login, 'boxes': boxes, 'exists': exists,
  's_all': s_all, 's_unseen': s_unseen, 's_subject': s_subject, 'rfc822': rfc822, 'hdr': hdr,
  'flags': flags, 'unseen_after_fetch': unseen_after_fetch, 'store': store[0],
  'unseen_after_store': unseen_after_store, 'copy': [cp[0], cp[1][0].decode()], 'deleted': deleted,
  'expunge': [ex[0], [x.decode() for x in ex[1] if x]], 's_after': s_after, 'bye': bye}))`);
    expect(out.pre).toContain('STARTTLS');
    expect(out.pre).toContain('IMAP4REV1');
    expect(out.post).not.toContain('STARTTLS');
    expect(out.post).toContain('IMAP4REV1');
    expect(out.login).toBe('OK');
    const boxes = new Map(
      (out.boxes as string[]).map((line) => {
        const m = /^\(([^)]*)\) "\/" "?([^"]+)"?$/.exec(line);
        expect(m, line).not.toBeNull();
        return [m?.[2] ?? '', (m?.[1] ?? '').split(' ')];
      }),
    );
    expect([...boxes.keys()].sort()).toEqual(['Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
    for (const use of ['Sent', 'Drafts', 'Trash', 'Junk']) expect(boxes.get(use)).toContain(`\\${use}`);
    expect(out.exists).toBe(3);
    expect(out.s_all).toEqual(['1', '2', '3']);
    expect(out.s_unseen).toEqual(['1', '2', '3']);
    expect(out.s_subject).toEqual(['2']);
    expect(out.rfc822).toBe(first);
    expect(out.rfc822).toMatch(/first body\r\n\.leading dot line\r\n$/);
    expect(out.hdr).toBe('Subject: second\r\n\r\n');
    // FETCH RFC822 set \Seen (RFC 3501 §6.4.5); BODY.PEEK did not.
    // The SELECT saw them first: \Recent in this session (RFC 3501 §2.3.2).
    expect(out.flags).toEqual([
      '1 (FLAGS (\\Seen \\Recent))',
      '2 (FLAGS (\\Recent))',
      '3 (FLAGS (\\Recent))',
    ]);
    expect(out.unseen_after_fetch).toEqual(['2', '3']);
    expect(out.store).toBe('OK');
    expect(out.unseen_after_store).toEqual(['3']);
    const trash = await app.store.folderInfo(ids[ROSE] as string, 'Trash');
    expect(out.copy).toEqual([
      'OK',
      expect.stringMatching(new RegExp(`^\\[COPYUID ${trash.uidValidity} 1 1\\]`)),
    ]);
    expect(out.deleted).toBe('OK');
    expect(out.expunge).toEqual(['OK', ['1']]);
    expect(out.s_after).toEqual(['1', '2']);
    expect(out.bye).toBe('BYE');
    const inbox = await app.store.snapshot(ids[ROSE] as string, 'INBOX');
    expect(inbox.messages.map((m) => m.uid)).toEqual([2, 3]);
    expect(inbox.messages.map((m) => m.flags)).toEqual([['\\Seen'], []]);
    const copied = await app.store.snapshot(ids[ROSE] as string, 'Trash');
    expect(copied.messages.map((m) => [m.uid, m.flags])).toEqual([[1, ['\\Seen']]]);
  });

  it('implicit TLS: EXAMINE, UID FETCH, STATUS; a wrong password is refused', async () => {
    const out = await imaplib(`
M = imaplib.IMAP4_SSL(HOST, IMAPS, ssl_context=ctx)
M.login(USER, PW)
typ, data = M.select('Trash', readonly=True)
trash = int(data[0])
uid = first_literal(M.uid('FETCH', '1', '(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])')[1]).decode()
status = M.status('INBOX', '(MESSAGES UNSEEN UIDNEXT)')[1][0].decode()
M.logout()
N = imaplib.IMAP4_SSL(HOST, IMAPS, ssl_context=ctx)
try:
    N.login(USER, 'wrong-password!'); err = None
except imaplib.IMAP4.error as e:
    err = str(e)
N.logout()
print(json.dumps({'trash': trash, 'uid': uid, 'status': status, 'err': err}))`);
    expect(out.trash).toBe(1);
    expect(out.uid).toBe('Message-ID: <one@outside.example>\r\n\r\n');
    expect(out.status).toMatch(/^"?INBOX"? \(/);
    const items = /\((.*)\)$/.exec(out.status as string)?.[1]?.split(' ') ?? [];
    const status = Object.fromEntries(
      items.flatMap((v, i, a) => (i % 2 === 0 ? [[v.toUpperCase(), Number(a[i + 1])]] : [])),
    );
    expect(status).toEqual({ MESSAGES: 2, UNSEEN: 1, UIDNEXT: 4 });
    expect(out.err).toMatch(/AUTHENTICATIONFAILED/);
  });

  it('plain-text LOGIN without STARTTLS from the loopback address', async () => {
    const out = await imaplib(`
M = imaplib.IMAP4(HOST, IMAP)
caps = sorted(M.capabilities)
login = M.login(USER, PW)[0]
M.logout()
print(json.dumps({'caps': caps, 'login': login}))`);
    expect(out.caps).not.toContain('LOGINDISABLED');
    expect(out.login).toBe('OK');
  });
});

describe('IMAP with curl', () => {
  const user = `${MARIO}:${PASSWORD}`;

  it('fetches a message by UID over imap://, STARTTLS (--ssl-reqd) and imaps://, byte-exact', async () => {
    const one = await stored(MARIO, 'INBOX', 1);
    const two = await stored(MARIO, 'INBOX', 2);
    const plain = await curl(['--user', user, `imap://127.0.0.1:${port('imap')}/INBOX;UID=1`]);
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    expect(plain.stdout.equals(one)).toBe(true);
    const starttls = await curl([
      '-k',
      '--ssl-reqd',
      '--user',
      user,
      `imap://127.0.0.1:${port('imap')}/INBOX;UID=2`,
    ]);
    expect(starttls.code).toBe(0);
    expect(starttls.stdout.equals(two)).toBe(true);
    const implicit = await curl(['-k', '--user', user, `imaps://127.0.0.1:${port('imaps')}/INBOX;UID=1`]);
    expect(implicit.code).toBe(0);
    expect(implicit.stdout.equals(one)).toBe(true);
  });

  it('a custom LIST "" "*" shows every folder with its special-use attribute', async () => {
    const r = await curl(['--user', user, `imap://127.0.0.1:${port('imap')}/`, '-X', 'LIST "" "*"']);
    expect(r.code).toBe(0);
    const lines = r.stdout.toString().split('\r\n').filter(Boolean);
    const names = lines.map((l) => /^\* LIST \(([^)]*)\) "\/" "?([^"]+)"?$/.exec(l));
    expect(names.every(Boolean), lines.join('\n')).toBe(true);
    const byName = new Map(names.map((m) => [m?.[2], m?.[1]?.split(' ') ?? []]));
    expect([...byName.keys()].sort()).toEqual(['Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
    for (const use of ['Sent', 'Drafts', 'Trash', 'Junk']) expect(byName.get(use)).toContain(`\\${use}`);
  });

  it('SEARCH through the URL query', async () => {
    const r = await curl(['--user', user, `imap://127.0.0.1:${port('imap')}/INBOX?SUBJECT%20beta`]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('* SEARCH 2\r\n');
  });

  it('AUTHENTICATE PLAIN, LOGIN and curl’s preferred SASL mechanism all work under STARTTLS', async () => {
    const one = await stored(MARIO, 'INBOX', 1);
    for (const options of [[], ['--login-options', 'AUTH=PLAIN'], ['--login-options', 'AUTH=LOGIN']]) {
      const r = await curl([
        '-k',
        '--ssl-reqd',
        ...options,
        '--user',
        user,
        `imap://127.0.0.1:${port('imap')}/INBOX;UID=1`,
      ]);
      expect(r.code, options.join(' ')).toBe(0);
      expect(r.stdout.equals(one), options.join(' ')).toBe(true);
    }
  });

  it('a wrong password: curl exits with 67 (login denied)', async () => {
    const r = await curl([
      '-k',
      '--user',
      `${MARIO}:wrong-password!`,
      `imaps://127.0.0.1:${port('imaps')}/INBOX;UID=1`,
    ]);
    expect(r.code).toBe(67);
  });
});
