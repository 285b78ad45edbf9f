/**
 * POP3 with real third-party clients against the real appliance: Python's poplib (STLS and implicit TLS:
 * download, TOP, UIDL stability, delete, re-login) and fetchmail (download and delete over TLS).
 * Mail arrives by SMTP, so this also checks that POP3 sees what the MX stored, byte for byte.
 */
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Actor } from '@delegato/directory';
import { LineClient, tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { addRose, startApplianceIn } from './appliance-support.js';

const run = promisify(execFile);
const _OP: Actor = { kind: 'operator', name: 'test', from: 'local' };
const PASSWORD = 'Pop-Secret-Pass-7';
const USER = 'rose.pinkcheeks@iat.example';
const dir = tempDir('delegato-pop3-');
let app: RunningAppliance;

const port = (name: string) => app.listeners.find((l) => l.name === name)?.port ?? 0;

async function send(to: string, subject: string, body: string): Promise<void> {
  const c = await LineClient.connect(port('smtp'));
  await c.smtpReply();
  await c.smtp('EHLO t.example');
  await c.smtp('MAIL FROM:<sender@outside.example>');
  expect((await c.smtp(`RCPT TO:<${to}>`)).code).toBe(250);
  await c.smtp('DATA');
  expect(
    (await c.smtp(`Subject: ${subject}\r\nMessage-ID: <${subject}@outside.example>\r\n\r\n${body}\r\n.`))
      .code,
  ).toBe(250);
  c.close();
}

/** Runs a poplib script; it prints one JSON document. */
async function poplib(script: string): Promise<Record<string, unknown>> {
  const prelude = [
    'import json, poplib, ssl, sys',
    'ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE',
    `HOST, POP3, POP3S, USER, PW = '127.0.0.1', ${port('pop3')}, ${port('pop3s')}, '${USER}', '${PASSWORD}'`,
  ].join('\n');
  const { stdout } = await run('python3', ['-c', `${prelude}\n${script}`]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  app = await startApplianceIn(dir.path);
  await addRose(app, PASSWORD);
  await send(USER, 'one', 'first body\r\n.leading dot line');
  await send('pinkcheeks@iat.example', 'two', 'second body');
  await send('r.pinkcheeks@iat.example', 'three', 'third body');
}, 60_000);

afterAll(async () => {
  await app?.stop();
  dir.remove();
});

describe('POP3 with Python poplib', () => {
  it('STLS: STAT, LIST, UIDL, TOP, RETR byte-exact; UIDL stable across sessions', async () => {
    const out = await poplib(`
p = poplib.POP3(HOST, POP3); p.stls(ctx); p.user(USER); p.pass_(PW)
count, size = p.stat()
uidl = [l.decode() for l in p.uidl()[1]]
top = b'\\r\\n'.join(p.top(1, 0)[1]).decode()
msg = b'\\r\\n'.join(p.retr(1)[1]).decode('latin1')
p.quit()
q = poplib.POP3_SSL(HOST, POP3S, context=ctx); q.user(USER); q.pass_(PW)
uidl2 = [l.decode() for l in q.uidl()[1]]
q.quit()
print(json.dumps({'count': count, 'size': size, 'uidl': uidl, 'uidl2': uidl2, 'top': top, 'msg': msg}))`);
    expect(out.count).toBe(3);
    expect(out.uidl).toEqual(out.uidl2);
    expect((out.uidl as string[]).length).toBe(3);
    expect(out.top).toMatch(/^Return-Path: <sender@outside\.example>/);
    expect(out.top).toContain('Subject: one');
    expect(out.top).not.toContain('first body');
    // poplib un-stuffs the dot: the stored line ".leading dot line" comes back as it was sent.
    expect(out.msg).toMatch(/first body\r\n\.leading dot line$/);
    const userId = (await app.directory.resolveLogin(USER))?.id as string;
    const snap = await app.store.snapshot(userId, 'INBOX');
    expect(out.size).toBe(snap.messages.reduce((n, m) => n + m.size, 0));
  });

  it('DELE + QUIT removes the message for every client; re-login sees the rest', async () => {
    const out = await poplib(`
p = poplib.POP3_SSL(HOST, POP3S, context=ctx); p.user(USER); p.pass_(PW)
before = [l.decode() for l in p.uidl()[1]]
p.dele(1); p.quit()
q = poplib.POP3_SSL(HOST, POP3S, context=ctx); q.user(USER); q.pass_(PW)
after = [l.decode() for l in q.uidl()[1]]
q.quit()
print(json.dumps({'before': before, 'after': after}))`);
    const before = (out.before as string[]).map((l) => l.split(' ')[1]);
    const after = (out.after as string[]).map((l) => l.split(' ')[1]);
    expect(after).toEqual(before.slice(1));
    const userId = (await app.directory.resolveLogin(USER))?.id as string;
    expect((await app.store.snapshot(userId, 'INBOX')).messages).toHaveLength(2);
  });

  it('a wrong password is refused with [AUTH]', async () => {
    const out = await poplib(`
p = poplib.POP3_SSL(HOST, POP3S, context=ctx); p.user(USER)
try:
    p.pass_('wrong-password!'); print(json.dumps({'ok': True}))
except poplib.error_proto as e:
    print(json.dumps({'ok': False, 'err': e.args[0].decode()}))`);
    expect(out).toMatchObject({ ok: false });
    expect(out.err).toMatch(/^-ERR \[AUTH\]/);
  });
});

describe('POP3 with fetchmail', () => {
  it('downloads and deletes every message over implicit TLS', async () => {
    await send(USER, 'four', 'fourth body');
    const userId = (await app.directory.resolveLogin(USER))?.id as string;
    const waiting = (await app.store.snapshot(userId, 'INBOX')).messages.length;
    expect(waiting).toBe(3);
    const mbox = join(dir.path, 'fetched.mbox');
    const rc = join(dir.path, 'fetchmailrc');
    writeFileSync(
      rc,
      [
        'set no syslog',
        `poll 127.0.0.1 with proto POP3 port ${port('pop3s')} uidl`,
        `  user "${USER}" there with password "${PASSWORD}" is root here`,
        '  ssl',
        '  no sslcertck',
        `  mda "/bin/sh -c 'cat >> ${mbox}'"`,
        '  nokeep',
        '',
      ].join('\n'),
    );
    chmodSync(rc, 0o600);
    await run('fetchmail', ['-f', rc, '--nodetach', '--idfile', join(dir.path, 'fetchids')], {
      env: { ...process.env, HOME: dir.path, FETCHMAILHOME: dir.path },
    });
    const fetched = readFileSync(mbox, 'latin1');
    for (const s of ['two', 'three', 'four']) expect(fetched).toContain(`Message-ID: <${s}@outside.example>`);
    expect((await app.store.snapshot(userId, 'INBOX')).messages).toHaveLength(0);
  }, 60_000);
});
