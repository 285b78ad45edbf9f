/**
 * The IMAP listeners under abuse, on raw sockets: malformed input gets BAD and never ends the session or
 * the process; repeated errors end the session; plain-text login is refused before STARTTLS for a client
 * that is not local (LOGINDISABLED, RFC 9051 §6.2.3) and nothing pipelined behind STARTTLS is executed;
 * literals (synchronizing, LITERAL+/LITERAL- RFC 7888, oversized ones refused); IDLE/DONE (RFC 2177).
 * The real appliance runs in this process (ports 0, real databases in a temp dir).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Actor } from '@delegato/directory';
import { LineClient, tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { dataPaths } from '../src/data-dir.js';
import { addRose, startApplianceIn } from './appliance-support.js';

const _OP: Actor = { kind: 'operator', name: 'test', from: 'local' };
const PASSWORD = 'Imap-Secret-Pass-7';
const USER = 'rose.pinkcheeks@iat.example';
/** A client address other than the server's 127.0.0.1: not local, so not secure without TLS. */
const REMOTE = '127.0.0.2';
const dir = tempDir('delegato-imap-abuse-');
const DATA = join(dir.path, 'var');
let app: RunningAppliance;
let userId = '';

const port = (name: string) => app.listeners.find((l) => l.name === name)?.port ?? 0;

interface Reply {
  untagged: string[];
  tagged: string;
}

/** Reads lines until the tagged completion of `tag`. */
async function reply(c: LineClient, tag: string, timeoutMs = 10_000): Promise<Reply> {
  const untagged: string[] = [];
  for (;;) {
    const l = await c.line(timeoutMs);
    if (l.startsWith(`${tag} `)) return { untagged, tagged: l };
    untagged.push(l);
  }
}

async function cmd(c: LineClient, tag: string, text: string): Promise<Reply> {
  c.write(`${tag} ${text}\r\n`);
  return reply(c, tag);
}

async function greeted(
  opts: { localAddress?: string; tls?: boolean; port?: string } = {},
): Promise<LineClient> {
  const c = await LineClient.connect(port(opts.port ?? (opts.tls ? 'imaps' : 'imap')), '127.0.0.1', {
    ...(opts.tls ? { tls: true } : {}),
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
  });
  expect(await c.line()).toMatch(/^\* OK[ \r]/);
  return c;
}

async function loggedIn(): Promise<LineClient> {
  const c = await greeted();
  expect((await cmd(c, 'L', `LOGIN "${USER}" "${PASSWORD}"`)).tagged).toMatch(/^L OK/);
  return c;
}

async function capabilities(c: LineClient, tag = 'C'): Promise<string[]> {
  const r = await cmd(c, tag, 'CAPABILITY');
  expect(r.tagged).toMatch(new RegExp(`^${tag} OK`));
  const line = r.untagged.find((l) => l.startsWith('* CAPABILITY '));
  expect(line).toBeDefined();
  return (line ?? '').slice('* CAPABILITY '.length).toUpperCase().split(' ');
}

/** The session is still usable: NOOP answers OK. */
async function alive(c: LineClient, tag = 'Z'): Promise<void> {
  expect((await cmd(c, tag, 'NOOP')).tagged).toMatch(new RegExp(`^${tag} OK`));
}

async function deliver(subject: string): Promise<void> {
  const c = await LineClient.connect(port('smtp'));
  try {
    await c.smtpReply();
    await c.smtp('EHLO t.example');
    await c.smtp('MAIL FROM:<sender@outside.example>');
    expect((await c.smtp(`RCPT TO:<${USER}>`)).code).toBe(250);
    await c.smtp('DATA');
    expect((await c.smtp(`Subject: ${subject}\r\n\r\nbody\r\n.`)).code).toBe(250);
  } finally {
    c.close();
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function eventually(what: string, probe: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  app = await startApplianceIn(dir.path, { DELEGATO_DATA_DIR: DATA });
  userId = await addRose(app, PASSWORD);
  await deliver('first');
}, 60_000);

afterAll(async () => {
  await app?.stop();
  dir.remove();
});

describe('malformed input', () => {
  it('unknown commands get a tagged BAD, and the session goes on', async () => {
    const c = await greeted();
    expect((await cmd(c, 'a1', 'FROBNICATE')).tagged).toMatch(/^a1 BAD/);
    expect((await cmd(c, 'a2', 'XYZZY now please')).tagged).toMatch(/^a2 BAD/);
    await alive(c);
    c.close();
    const d = await loggedIn();
    expect((await cmd(d, 'b1', 'FROBNICATE INBOX')).tagged).toMatch(/^b1 BAD/);
    await alive(d);
    d.close();
  });

  // Each on its own connection, so that the count of errors before a forced close does not matter.
  const before: Array<[string, string, RegExp]> = [
    ['a tag without a command', 't1\r\n', /^(t1|\*) BAD/],
    ['LOGIN without arguments', 't1 LOGIN\r\n', /^t1 BAD/],
    ['LOGIN with one argument', 't1 LOGIN onlyuser\r\n', /^t1 BAD/],
    ['an unterminated quoted string', 't1 LOGIN "rose\r\n', /^t1 BAD/],
    ['control characters and 8-bit bytes', 't1 \x00\x01\xff\xfe\x7f\r\n', /^(t1|\*) BAD/],
    ['a command of the selected state before login', 't1 FETCH 1 FLAGS\r\n', /^t1 (BAD|NO)/],
    ['a command of the authenticated state before login', 't1 SELECT INBOX\r\n', /^t1 (BAD|NO)/],
    ['a tag with a forbidden character', 't{1 NOOP\r\n', /^(t\{1|\*) BAD/],
  ];
  for (const [what, input, expected] of before) {
    it(`not authenticated: ${what} → BAD, session usable`, async () => {
      const c = await greeted();
      c.write(input);
      const l = await c.line();
      expect(l).toMatch(expected);
      await alive(c);
      c.close();
    });
  }

  const after: Array<[string, string, RegExp]> = [
    ['SELECT without a mailbox', 't2 SELECT\r\n', /^t2 BAD/],
    ['FETCH with unbalanced parentheses', 't2 FETCH 1 (FLAGS\r\n', /^t2 BAD/],
    ['FETCH with an invalid sequence set', 't2 FETCH 0:foo FLAGS\r\n', /^t2 BAD/],
    ['FETCH of sequence number 0', 't2 FETCH 0 FLAGS\r\n', /^t2 BAD/],
    ['FETCH of an unknown data item', 't2 FETCH 1 (FLAGS FROBS)\r\n', /^t2 BAD/],
    ['FETCH BODY[ unterminated', 't2 FETCH 1 BODY[HEADER.FIELDS (SUBJECT)\r\n', /^t2 BAD/],
    ['STORE with an unknown operation', 't2 STORE 1 ~FLAGS (\\Seen)\r\n', /^t2 BAD/],
    ['SEARCH with an unknown key', 't2 SEARCH FROBS 1\r\n', /^t2 BAD/],
    ['SEARCH with an unbalanced parenthesis', 't2 SEARCH (OR SEEN\r\n', /^t2 BAD/],
    ['SEARCH with a bad date', 't2 SEARCH SINCE 31-Foo-2020\r\n', /^t2 BAD/],
    ['UID with an unknown command', 't2 UID FROB 1\r\n', /^t2 BAD/],
    ['STATUS with an unknown item', 't2 STATUS INBOX (FROBS)\r\n', /^t2 BAD/],
    ['a sequence number far beyond 32 bits', 't2 FETCH 99999999999999999999 FLAGS\r\n', /^t2 BAD/],
    ['a literal with a bad size', 't2 SELECT {abc}\r\n', /^t2 BAD/],
    [
      'deeply nested parentheses',
      `t2 SEARCH ${'('.repeat(2000)}ALL${')'.repeat(2000)}\r\n`,
      /^t2 (BAD|NO|OK)/,
    ],
  ];
  for (const [what, input, expected] of after) {
    it(`selected: ${what} → BAD, session usable`, async () => {
      const c = await loggedIn();
      expect((await cmd(c, 's', 'SELECT INBOX')).tagged).toMatch(/^s OK/);
      c.write(input);
      const r = await reply(c, 't2');
      expect(r.tagged).toMatch(expected);
      await alive(c);
      c.close();
    });
  }

  it('STORE +FLAGS (\\Recent) is refused or ignored: the client cannot set \\Recent (RFC 3501 §2.3.2)', async () => {
    const c = await loggedIn();
    expect((await cmd(c, 's', 'SELECT INBOX')).tagged).toMatch(/^s OK/);
    const r = await cmd(c, 't2', 'STORE 1 +FLAGS (\\Recent)');
    expect(r.tagged).toMatch(/^t2 (OK|NO|BAD)/);
    const f = await cmd(c, 't3', 'FETCH 1 FLAGS');
    expect(f.tagged).toMatch(/^t3 OK/);
    expect(f.untagged.join('\n')).not.toContain('\\Recent');
    await alive(c);
    c.close();
  });

  it('a literal size beyond 64 bits: refused (BAD/NO) or the connection closed; never a continuation', async () => {
    const c = await loggedIn();
    c.write('t3 SELECT {999999999999999999999999}\r\n');
    let answer = 'closed';
    try {
      answer = await c.line();
    } catch {
      // closed without a word
    }
    expect(answer).toMatch(/^(t3 (BAD|NO)|\* BYE|closed)/);
    if (answer.startsWith('t3 ')) await alive(c);
    c.close();
  });

  it('an empty line and a lone CRLF between commands do not break the session', async () => {
    const c = await greeted();
    c.write('\r\n\r\n');
    // Either ignored or answered with an untagged BAD; NOOP still works.
    const r = await cmd(c, 'e1', 'NOOP');
    expect(r.tagged).toMatch(/^e1 OK/);
    for (const l of r.untagged) expect(l).toMatch(/^\* (BAD|OK)/);
    c.close();
  });

  it('pipelined commands are answered in order', async () => {
    const c = await loggedIn();
    c.write('p1 NOOP\r\np2 CAPABILITY\r\np3 SELECT INBOX\r\np4 NOOP\r\n');
    expect((await reply(c, 'p1')).tagged).toMatch(/^p1 OK/);
    expect((await reply(c, 'p2')).untagged.some((l) => l.startsWith('* CAPABILITY '))).toBe(true);
    expect((await reply(c, 'p3')).tagged).toMatch(/^p3 OK \[READ-WRITE\]/);
    expect((await reply(c, 'p4')).tagged).toMatch(/^p4 OK/);
    c.close();
  });

  it('an over-long command line gets its tagged BAD (or a close), not only an untagged one', async () => {
    const c = await loggedIn();
    expect((await cmd(c, 's', 'SELECT INBOX')).tagged).toMatch(/^s OK/);
    c.write(`x1 SEARCH SUBJECT "${'A'.repeat(256 * 1024)}"\r\n`);
    const seen: string[] = [];
    let answer = '';
    try {
      while (!answer) {
        const l = await c.line(5000);
        seen.push(l);
        if (l.startsWith('x1 ')) answer = l;
      }
    } catch {
      // A close is an answer; a silence is not.
      answer = c.closed ? 'closed' : 'no answer';
    }
    // The tag is known (it starts the line): the client waits for its completion (RFC 9051 §7.1.5: the
    // untagged BAD is for errors whose command cannot be determined). A server may also search it.
    expect(answer, `lines received: ${JSON.stringify(seen)}`).toMatch(/^(x1 (OK|NO|BAD)|closed)/);
    c.close();
    const d = await loggedIn();
    await alive(d);
    d.close();
  });

  it('an endless line without CRLF is cut off: the server does not buffer it without limit', async () => {
    const c = await loggedIn();
    const chunk = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 64 && !c.closed; i++) {
      c.write(chunk);
      await new Promise((r) => setTimeout(r, 5));
    }
    // 4 MiB without a line end: the server answers BAD/BYE and closes, or at least answers.
    await eventually(
      'a BAD/BYE or a close',
      () => c.closed || /^(\* BYE|\* BAD|\S+ BAD)/m.test(c.pending),
      15_000,
    );
    c.close();
    const d = await loggedIn();
    await alive(d);
    d.close();
  }, 30_000);

  it('a client that disconnects in the middle of an APPEND literal leaves nothing behind', async () => {
    const c = await loggedIn();
    c.write('ap APPEND INBOX {1000}\r\n');
    expect(await c.line()).toMatch(/^\+/);
    c.write('Subject: cut\r\n\r\nonly part of it');
    await new Promise((r) => setTimeout(r, 200));
    c.close();
    await new Promise((r) => setTimeout(r, 500));
    expect((await app.store.snapshot(userId, 'INBOX')).messages).toHaveLength(1);
    await eventually('no temp files', () => readdirSync(join(dataPaths(DATA).mailStore, 'tmp')).length === 0);
  });

  it('after all this, the process still serves IMAP, SMTP and POP3', async () => {
    const c = await loggedIn();
    const r = await cmd(c, 'z1', 'SELECT INBOX');
    expect(r.tagged).toMatch(/^z1 OK/);
    expect(r.untagged).toContain('* 1 EXISTS');
    expect((await cmd(c, 'z2', 'LOGOUT')).untagged[0]).toMatch(/^\* BYE/);
    await c.waitClosed();
    await deliver('still up');
    const pop = await LineClient.connect(port('pop3'));
    expect(await pop.line()).toMatch(/^\+OK/);
    pop.close();
  });
});

describe('repeated errors', () => {
  it('the server says BYE and closes the connection after repeated bad commands', async () => {
    const c = await loggedIn();
    let bad = 0;
    let bye = false;
    for (let i = 0; i < 100 && !c.closed; i++) {
      c.write(`r${i} FROBNICATE\r\n`);
      let l: string;
      try {
        l = await c.line(5000);
      } catch {
        break;
      }
      if (l.startsWith('* BYE')) {
        bye = true;
        break;
      }
      expect(l).toMatch(new RegExp(`^r${i} BAD`));
      bad++;
    }
    expect(bad).toBeGreaterThan(2);
    expect(bad).toBeLessThan(100);
    await c.waitClosed();
    expect(bye).toBe(true);
  });
});

describe('LOGINDISABLED before STARTTLS for a client that is not local (RFC 9051 §6.2.3)', () => {
  it('127.0.0.2 → 127.0.0.1: LOGINDISABLED, LOGIN and AUTHENTICATE PLAIN refused; after STARTTLS, LOGIN works', async () => {
    const c = await greeted({ localAddress: REMOTE });
    const before = await capabilities(c, 'c1');
    expect(before).toContain('STARTTLS');
    expect(before).toContain('LOGINDISABLED');
    expect((await cmd(c, 'c2', `LOGIN "${USER}" "${PASSWORD}"`)).tagged).toMatch(/^c2 NO/);
    // AUTHENTICATE PLAIN is plain text too: refused at once, or after the credentials.
    c.write('c3 AUTHENTICATE PLAIN\r\n');
    const first = await c.line();
    if (first.startsWith('+')) {
      c.write(`${Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64')}\r\n`);
      expect((await reply(c, 'c3')).tagged).toMatch(/^c3 NO/);
    } else {
      expect(first).toMatch(/^c3 NO/);
    }
    // Still not logged in.
    expect((await cmd(c, 'c4', 'SELECT INBOX')).tagged).toMatch(/^c4 (BAD|NO)/);
    expect((await cmd(c, 'c5', 'STARTTLS')).tagged).toMatch(/^c5 OK/);
    await c.startTls();
    const after = await capabilities(c, 'c6');
    expect(after).not.toContain('LOGINDISABLED');
    expect(after).not.toContain('STARTTLS');
    expect(after).toContain('AUTH=PLAIN');
    expect((await cmd(c, 'c7', `LOGIN "${USER}" "${PASSWORD}"`)).tagged).toMatch(/^c7 OK/);
    expect((await cmd(c, 'c8', 'SELECT INBOX')).tagged).toMatch(/^c8 OK/);
    c.close();
  });

  it('127.0.0.1 → 127.0.0.1 is local: no LOGINDISABLED, LOGIN works without TLS', async () => {
    const c = await greeted();
    const caps = await capabilities(c);
    expect(caps).toContain('STARTTLS');
    expect(caps).not.toContain('LOGINDISABLED');
    expect((await cmd(c, 'l1', `LOGIN "${USER}" "${PASSWORD}"`)).tagged).toMatch(/^l1 OK/);
    c.close();
  });

  it('implicit TLS from 127.0.0.2: no LOGINDISABLED, no STARTTLS, LOGIN works', async () => {
    const c = await greeted({ tls: true, localAddress: REMOTE });
    const caps = await capabilities(c);
    expect(caps).not.toContain('LOGINDISABLED');
    expect(caps).not.toContain('STARTTLS');
    expect((await cmd(c, 'l1', `LOGIN "${USER}" "${PASSWORD}"`)).tagged).toMatch(/^l1 OK/);
    c.close();
  });

  it('a command pipelined behind STARTTLS is not executed, neither in plain text nor under TLS', async () => {
    const c = await greeted({ localAddress: REMOTE });
    c.write(`s1 STARTTLS\r\ns2 LOGIN "${USER}" "${PASSWORD}"\r\n`);
    expect((await reply(c, 's1')).tagged).toMatch(/^s1 OK/);
    // Nothing answered s2 in plain text.
    await new Promise((r) => setTimeout(r, 200));
    expect(c.pending).toBe('');
    // The server discards what was pipelined (the handshake succeeds), or takes it for TLS data (the
    // handshake fails, as with Dovecot): both are safe. What it must not do is execute it.
    const upgraded = await Promise.race([
      c.startTls().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
    ]);
    if (upgraded) {
      const r = await cmd(c, 's3', 'SELECT INBOX');
      expect([...r.untagged, r.tagged].some((l) => l.startsWith('s2 '))).toBe(false);
      // The injected LOGIN did not log the session in.
      expect(r.tagged).toMatch(/^s3 (BAD|NO)/);
    }
    c.close();
  });

  it('STARTTLS is refused once under TLS and after login', async () => {
    const c = await greeted({ tls: true });
    expect((await cmd(c, 'k1', 'STARTTLS')).tagged).toMatch(/^k1 (BAD|NO)/);
    c.close();
    const d = await loggedIn();
    expect((await cmd(d, 'k2', 'STARTTLS')).tagged).toMatch(/^k2 (BAD|NO)/);
    d.close();
  });
});

describe('literals', () => {
  it('synchronizing literals: a continuation request for each, in LOGIN', async () => {
    const c = await greeted();
    c.write(`g1 LOGIN {${Buffer.byteLength(USER)}}\r\n`);
    expect(await c.line()).toMatch(/^\+/);
    c.write(`${USER} {${Buffer.byteLength(PASSWORD)}}\r\n`);
    expect(await c.line()).toMatch(/^\+/);
    c.write(`${PASSWORD}\r\n`);
    expect((await reply(c, 'g1')).tagged).toMatch(/^g1 OK/);
    c.close();
  });

  it('non-synchronizing literals (RFC 7888) in SELECT, LIST and APPEND; APPENDUID; the bytes are stored as sent', async () => {
    const c = await loggedIn();
    const caps = await capabilities(c);
    expect(caps.includes('LITERAL+') || caps.includes('LITERAL-')).toBe(true);
    c.write('n1 SELECT {5+}\r\nINBOX\r\n');
    expect((await reply(c, 'n1')).tagged).toMatch(/^n1 OK \[READ-WRITE\]/);
    // An empty literal as the reference name.
    c.write('n2 LIST {0+}\r\n "*"\r\n');
    const list = await reply(c, 'n2');
    expect(list.tagged).toMatch(/^n2 OK/);
    expect(list.untagged.filter((l) => l.startsWith('* LIST '))).toHaveLength(5);
    const message = 'Subject: lit1\r\nX-Odd: ) ( " \\ {5}\r\n\r\nA body line.\r\n.\r\n';
    c.write(`n3 APPEND INBOX (\\Flagged $Lit) {${Buffer.byteLength(message)}+}\r\n${message}\r\n`);
    const appended = await reply(c, 'n3');
    const m = /^n3 OK \[APPENDUID (\d+) (\d+)\]/.exec(appended.tagged);
    expect(m, appended.tagged).not.toBeNull();
    const uid = Number(m?.[2]);
    const snap = await app.store.snapshot(userId, 'INBOX');
    expect(Number(m?.[1])).toBe(snap.uidValidity);
    const meta = snap.messages.find((x) => x.uid === uid);
    expect([...(meta?.flags ?? [])].sort()).toEqual(['$Lit', '\\Flagged']);
    expect((await readAll(await app.store.openMessage(userId, 'INBOX', uid))).toString()).toBe(message);
    // A literal in SEARCH finds it.
    c.write('n4 UID SEARCH SUBJECT {4+}\r\nlit1\r\n');
    const found = await reply(c, 'n4');
    expect(found.tagged).toMatch(/^n4 OK/);
    expect(found.untagged).toContain(`* SEARCH ${uid}`);
    c.close();
  });

  it('an oversized synchronizing literal is refused without a continuation; the session goes on', async () => {
    const c = await loggedIn();
    c.write('o1 APPEND INBOX {1099511627776}\r\n');
    const l = await c.line();
    expect(l).not.toMatch(/^\+/);
    expect(l).toMatch(/^o1 (NO|BAD)/);
    await alive(c);
    c.close();
  });

  it('an oversized non-synchronizing literal is refused (RFC 7888 §4, RFC 9051 §7.1 TOOBIG)', async () => {
    const c = await loggedIn();
    const caps = await capabilities(c);
    if (caps.includes('LITERAL+')) {
      // Any size may be sent without waiting; one beyond every limit is refused (or the session ends).
      c.write('o2 APPEND INBOX {1099511627776+}\r\n');
      expect(await c.line()).toMatch(/^(o2 (BAD|NO)|\* BYE)/);
    } else {
      // LITERAL- (and IMAP4rev2): a non-synchronizing literal may not exceed 4096 bytes: BAD [TOOBIG].
      c.write('o2 APPEND INBOX {5000+}\r\n');
      expect(await c.line()).toMatch(/^(o2 BAD \[TOOBIG\]|\* BYE)/);
      if (!c.closed) {
        // The client sends the literal anyway: the server skips it, or closes the connection.
        c.write(`${'y'.repeat(5000)}\r\n`);
        try {
          await alive(c);
        } catch {
          await c.waitClosed();
        }
      }
    }
    c.close();
    expect((await app.store.snapshot(userId, 'INBOX')).messages.every((m) => m.size < 4096)).toBe(true);
  });
});

describe('IDLE / DONE (RFC 2177)', () => {
  it('EXISTS arrives while idling; DONE ends IDLE with OK', async () => {
    const c = await loggedIn();
    const sel = await cmd(c, 'i0', 'SELECT INBOX');
    const exists = Number(/^\* (\d+) EXISTS$/.exec(sel.untagged.find((l) => / EXISTS$/.test(l)) ?? '')?.[1]);
    c.write('i1 IDLE\r\n');
    expect(await c.line()).toMatch(/^\+/);
    await deliver('while idling');
    const start = Date.now();
    let l = '';
    do l = await c.line(5000);
    while (!/ EXISTS$/.test(l));
    expect(l).toBe(`* ${exists + 1} EXISTS`);
    expect(Date.now() - start).toBeLessThan(5000);
    c.write('DONE\r\n');
    expect((await reply(c, 'i1')).tagged).toMatch(/^i1 OK/);
    await alive(c);
    c.close();
  });

  it('anything but DONE while idling is BAD, and ends IDLE', async () => {
    const c = await loggedIn();
    await cmd(c, 'j0', 'SELECT INBOX');
    c.write('j1 IDLE\r\n');
    expect(await c.line()).toMatch(/^\+/);
    c.write('NOT-DONE\r\n');
    expect((await reply(c, 'j1')).tagged).toMatch(/^j1 BAD/);
    await alive(c);
    c.close();
  });

  it('IDLE before login is refused', async () => {
    const c = await greeted();
    expect((await cmd(c, 'k1', 'IDLE')).tagged).toMatch(/^k1 (BAD|NO)/);
    await alive(c);
    c.close();
  });
});
