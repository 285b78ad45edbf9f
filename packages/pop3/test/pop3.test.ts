/**
 * End-to-end: a real `Pop3Server` on port 0 over a real `MailStore`, driven through raw sockets
 * (`LineClient`). Byte-exact message transfer, UPDATE semantics, UIDL stability, STLS, SASL, abuse.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { LoginRateLimiter } from '@delegato/sasl';
import { ALICE, BOB, CAROL, LineClient, type TestAccount, waitFor } from '@delegato/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectedStuffed, type Harness, HOSTNAME, Pop3Client, startHarness } from './helpers.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64');

const MSG_DOTS =
  'From: a@example.test\r\nTo: alice@example.test\r\nSubject: dots\r\n\r\n' +
  '.leading dot\r\n..two dots\r\n.\r\nmiddle . dot\r\n.\r\n. space\r\nend\r\n';
// 8-bit bytes (latin1 string: each char one byte), a bare LF line with a dot after it.
const MSG_8BIT =
  'Subject: 8bit\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGr\xfc\xdfe \xff\xfe\x80\r\nbare\n.dot after bare LF\r\n';
const MSG_NO_CRLF = 'Subject: no final CRLF\r\n\r\nlast line without newline';

function bigMessage(): string {
  // 2 MiB and a bit: long lines, some starting with a dot, every byte value present.
  const bytes = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) bytes[i] = i === 10 || i === 13 ? 0x41 : i;
  const filler = bytes.toString('latin1');
  const lines = ['Subject: big', ''];
  let size = 0;
  for (let i = 0; size < 2 * 1024 * 1024 + 100; i++) {
    const line = (i % 7 === 0 ? '.' : '') + filler.repeat(3).slice(i % 50);
    lines.push(line);
    size += line.length + 2;
  }
  return `${lines.join('\r\n')}\r\n`;
}

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

async function retrExact(c: Pop3Client, n: number, message: string): Promise<void> {
  const status = await c.cmd(`RETR ${n}`);
  expect(status).toBe(`+OK ${Buffer.byteLength(message, 'latin1')} octets`);
  const expected = expectedStuffed(message);
  expect(await c.exact(expected.length)).toBe(expected);
}

describe('a full session', () => {
  it('STAT, LIST, UIDL, TOP and RETR are byte-exact with dot-stuffing', async () => {
    const big = bigMessage();
    const uids = [];
    for (const m of [MSG_DOTS, MSG_8BIT, MSG_NO_CRLF, big]) uids.push(await h.deliver(ALICE, m));
    const sizes = [MSG_DOTS, MSG_8BIT, MSG_NO_CRLF, big].map((m) => Buffer.byteLength(m, 'latin1'));
    const total = sizes.reduce((a, b) => a + b, 0);
    const snap = await h.store.snapshot(ALICE.id, 'INBOX');

    const c = await Pop3Client.connect(h.port);
    expect(await c.login()).toBe(`+OK Logged in, 4 messages (${total} octets)`);
    expect(await c.cmd('STAT')).toBe(`+OK 4 ${total}`);
    expect(await c.multi('LIST')).toEqual({
      status: `+OK 4 messages (${total} octets)`,
      lines: sizes.map((s, i) => `${i + 1} ${s}`),
    });
    expect(await c.cmd('LIST 2')).toBe(`+OK 2 ${sizes[1]}`);
    expect(await c.cmd('LIST 5')).toMatch(/^-ERR /);
    expect((await c.multi('UIDL')).lines).toEqual(uids.map((u, i) => `${i + 1} ${snap.uidValidity}.${u}`));
    expect(await c.cmd('UIDL 3')).toBe(`+OK 3 ${snap.uidValidity}.${uids[2]}`);

    await retrExact(c, 1, MSG_DOTS);
    await retrExact(c, 2, MSG_8BIT);
    await retrExact(c, 3, MSG_NO_CRLF);
    await retrExact(c, 4, big);

    // TOP: header block, blank line, n body lines (dot-stuffed like RETR).
    expect(await c.cmd('TOP 1 0')).toMatch(/^\+OK/);
    const head = 'From: a@example.test\r\nTo: alice@example.test\r\nSubject: dots\r\n\r\n';
    expect(await c.exact(head.length + 3)).toBe(`${head}.\r\n`);
    expect(await c.cmd('TOP 1 3')).toMatch(/^\+OK/);
    const three = `${head}..leading dot\r\n...two dots\r\n..\r\n.\r\n`;
    expect(await c.exact(three.length)).toBe(three);
    expect(await c.cmd('TOP 3 100')).toMatch(/^\+OK/);
    expect(await c.exact(expectedStuffed(MSG_NO_CRLF).length)).toBe(expectedStuffed(MSG_NO_CRLF));
    expect(await c.cmd('TOP 4 1')).toMatch(/^\+OK/);
    const bigTop = big.slice(0, big.indexOf('\r\n\r\n') + 4);
    const firstBody = big.slice(bigTop.length, big.indexOf('\r\n', bigTop.length) + 2);
    expect(await c.exact(expectedStuffed(bigTop + firstBody).length)).toBe(
      expectedStuffed(bigTop + firstBody),
    );

    expect(await c.cmd('NOOP')).toBe('+OK');
    expect(await c.cmd('QUIT')).toBe('+OK Bye (0 messages deleted)');
    await c.raw.waitClosed();
    // Nothing deleted; RETR'd messages are \Seen now (UPDATE), TOP'd ones are not.
    const after = await h.store.snapshot(ALICE.id, 'INBOX');
    expect(after.messages.map((m) => m.uid)).toEqual(uids);
    expect(after.messages.every((m) => m.flags.includes('\\Seen'))).toBe(true);
  });

  it('an empty maildrop', async () => {
    const c = await Pop3Client.connect(h.port);
    expect(await c.login(BOB)).toBe('+OK Logged in, 0 messages (0 octets)');
    expect(await c.cmd('STAT')).toBe('+OK 0 0');
    expect((await c.multi('LIST')).lines).toEqual([]);
    expect((await c.multi('UIDL')).lines).toEqual([]);
    expect(await c.cmd('RETR 1')).toMatch(/^-ERR /);
    expect(await c.cmd('QUIT')).toMatch(/^\+OK/);
  });

  it('shows the snapshot taken at login: later deliveries wait for the next session (RFC 1939 §8)', async () => {
    await h.deliver(ALICE, 'Subject: one\r\n\r\n1\r\n');
    const c = await Pop3Client.connect(h.port);
    await c.login();
    await h.deliver(ALICE, 'Subject: two\r\n\r\n2\r\n');
    expect(await c.cmd('STAT')).toMatch(/^\+OK 1 /);
    expect(await c.cmd('QUIT')).toMatch(/^\+OK/);
    const d = await Pop3Client.connect(h.port);
    await waitFor(async () => (await d.login()).startsWith('+OK'));
    expect(await d.cmd('STAT')).toMatch(/^\+OK 2 /);
    d.close();
  });
});

describe('DELE, RSET and the UPDATE state', () => {
  async function three(): Promise<number[]> {
    const out = [];
    for (let i = 1; i <= 3; i++) out.push(await h.deliver(ALICE, `Subject: ${i}\r\n\r\nbody ${i}\r\n`));
    return out;
  }

  it('DELE then QUIT expunges exactly the marked messages', async () => {
    const [u1, u2, u3] = await three();
    const c = await Pop3Client.connect(h.port);
    await c.login();
    expect(await c.cmd('DELE 1')).toBe('+OK Message 1 deleted');
    expect(await c.cmd('DELE 3')).toMatch(/^\+OK/);
    expect(await c.cmd('DELE 3')).toBe('-ERR Message already deleted');
    expect(await c.cmd('RETR 1')).toBe('-ERR No such message');
    expect(await c.cmd('LIST 3')).toBe('-ERR No such message');
    expect(await c.cmd('STAT')).toMatch(/^\+OK 1 /);
    expect((await c.multi('LIST')).lines.map((l) => l.split(' ')[0])).toEqual(['2']);
    // Not removed before QUIT.
    expect(await h.inbox(ALICE)).toEqual([u1, u2, u3]);
    // Another client's \Deleted is not ours to expunge.
    await h.store.storeFlags(ALICE.id, 'INBOX', [u2 as number], 'add', ['\\Deleted']);
    expect(await c.cmd('QUIT')).toBe('+OK Bye (2 messages deleted)');
    await c.raw.waitClosed();
    expect(await h.inbox(ALICE)).toEqual([u2]);
  });

  it('RSET unmarks', async () => {
    const uids = await three();
    const c = await Pop3Client.connect(h.port);
    await c.login();
    await c.cmd('DELE 1');
    await c.cmd('DELE 2');
    expect(await c.cmd('RSET')).toMatch(/^\+OK Maildrop has 3 messages/);
    expect(await c.cmd('STAT')).toMatch(/^\+OK 3 /);
    await c.cmd('DELE 2');
    expect(await c.cmd('QUIT')).toBe('+OK Bye (1 messages deleted)');
    await c.raw.waitClosed();
    expect(await h.inbox(ALICE)).toEqual([uids[0], uids[2]]);
  });

  it('an abrupt disconnect deletes nothing and releases the maildrop', async () => {
    const uids = await three();
    const c = await Pop3Client.connect(h.port);
    await c.login();
    await c.cmd('DELE 1');
    await c.cmd('DELE 2');
    await c.multi('RETR 3');
    c.close();
    const d = await Pop3Client.connect(h.port);
    await waitFor(async () => (await d.login()).startsWith('+OK'));
    expect(await d.cmd('STAT')).toMatch(/^\+OK 3 /);
    d.close();
    const snap = await h.store.snapshot(ALICE.id, 'INBOX');
    expect(snap.messages.map((m) => m.uid)).toEqual(uids);
    expect(snap.messages.some((m) => m.flags.includes('\\Seen'))).toBe(false);
  });

  it('QUIT in AUTHORIZATION just closes', async () => {
    const c = await Pop3Client.connect(h.port);
    expect(await c.cmd('QUIT')).toBe('+OK Bye');
    await c.raw.waitClosed();
  });
});

describe('UIDL', () => {
  it('is stable across sessions and after re-opening the store', async () => {
    await h.deliver(ALICE, 'Subject: a\r\n\r\na\r\n');
    await h.deliver(ALICE, 'Subject: b\r\n\r\nb\r\n');
    // A copy shares the body (blobId) but must get its own UIDL.
    await h.deliver(ALICE, 'Subject: b\r\n\r\nb\r\n');
    const read = async (port: number) => {
      const c = await Pop3Client.connect(port);
      await waitFor(async () => (await c.login()).startsWith('+OK'));
      const { lines } = await c.multi('UIDL');
      await c.cmd('QUIT');
      await c.raw.waitClosed();
      return lines;
    };
    const first = await read(h.port);
    expect(first).toHaveLength(3);
    expect(new Set(first.map((l) => l.split(' ')[1])).size).toBe(3);
    for (const l of first) expect(l).toMatch(/^\d+ [\x21-\x7e]{1,70}$/);
    expect(await read(h.port)).toEqual(first);

    await h.stop();
    const again = await startHarness({ dir: h.dir });
    try {
      expect(await read(again.port)).toEqual(first);
    } finally {
      await again.stop();
    }
  });
});

describe('STLS, CAPA and plain-text credentials', () => {
  async function capa(c: Pop3Client): Promise<string[]> {
    const r = await c.multi('CAPA');
    expect(r.status).toMatch(/^\+OK/);
    return r.lines;
  }

  it('before TLS on an untrusted connection: no USER, no PLAIN/LOGIN, STLS offered; after STLS the opposite', async () => {
    const strict = await startHarness({ trustLocalConnections: false });
    try {
      const c = await Pop3Client.connect(strict.port);
      const before = await capa(c);
      expect(before).toEqual([
        'TOP',
        'UIDL',
        'RESP-CODES',
        'AUTH-RESP-CODE',
        'PIPELINING',
        'SASL SCRAM-SHA-256 CRAM-MD5',
        'STLS',
        'IMPLEMENTATION Delegato',
      ]);
      expect(await c.cmd('USER alice')).toBe(
        '-ERR [AUTH] Plaintext authentication disallowed on non-secure connections',
      );
      expect(await c.cmd(`AUTH PLAIN ${b64('\0alice\0wonder land')}`)).toMatch(/^-ERR \[AUTH\] Plaintext/);
      expect(await c.cmd('AUTH LOGIN')).toMatch(/^-ERR \[AUTH\] Plaintext/);
      expect((await c.multi('AUTH')).lines).toEqual(['SCRAM-SHA-256', 'CRAM-MD5']);

      await c.startTls();
      const after = await capa(c);
      expect(after).toContain('USER');
      expect(after).toContain('SASL SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN');
      expect(after).not.toContain('STLS');
      expect(await c.cmd('STLS')).toBe('-ERR TLS is already active');
      expect(await c.login()).toMatch(/^\+OK Logged in/);
      expect(await c.cmd('STAT')).toBe('+OK 0 0');
      expect(await c.cmd('QUIT')).toMatch(/^\+OK/);
    } finally {
      await strict.cleanup();
    }
  });

  it('a client on the server’s own address (127.0.0.1 → 127.0.0.1) counts as secure by default', async () => {
    const c = await Pop3Client.connect(h.port);
    const caps = await capa(c);
    expect(caps).toContain('USER');
    expect(caps).toContain('SASL SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN');
    expect(caps).toContain('STLS');
    expect(await c.login()).toMatch(/^\+OK Logged in/);
    c.close();
  });

  it('a client from another address (127.0.0.2 → 127.0.0.1) does not', async () => {
    const c = await Pop3Client.connect(h.port, { localAddress: '127.0.0.2' });
    expect(await capa(c)).not.toContain('USER');
    expect(await c.cmd('USER alice')).toMatch(/^-ERR \[AUTH\]/);
    c.close();
  });

  it('discards commands pipelined after STLS (no plain-text injection)', async () => {
    const c = await Pop3Client.connect(h.port);
    c.raw.write('STLS\r\nUSER alice\r\nPASS wonder land\r\n');
    expect(await c.raw.line()).toBe('+OK Begin TLS negotiation');
    await c.raw.startTls();
    // Had the injected commands run, the session would be logged in now.
    expect(await c.cmd('STAT')).toBe('-ERR Command not valid in this state');
    c.close();
  });

  it('implicit TLS listener (POP3S)', async () => {
    await h.deliver(ALICE, MSG_DOTS);
    const c = await Pop3Client.connect(h.tlsPort, { tls: true, localAddress: '127.0.0.2' });
    const caps = await capa(c);
    expect(caps).toContain('USER');
    expect(caps).not.toContain('STLS');
    expect(await c.login()).toMatch(/^\+OK Logged in, 1 messages/);
    await retrExact(c, 1, MSG_DOTS);
    expect(await c.cmd('QUIT')).toMatch(/^\+OK/);
    await c.raw.waitClosed();
  });
});

describe('authentication', () => {
  it('USER/PASS with a password containing a space; wrong password is -ERR [AUTH]', async () => {
    const c = await Pop3Client.connect(h.port);
    expect(await c.cmd('USER alice')).toMatch(/^\+OK/);
    expect(await c.cmd('PASS wonder')).toBe('-ERR [AUTH] Authentication failed');
    expect(await c.cmd('PASS wonder land')).toBe('-ERR No USER given');
    expect(await c.cmd('USER nobody')).toMatch(/^\+OK/);
    expect(await c.cmd('PASS x')).toBe('-ERR [AUTH] Authentication failed');
    expect(await c.login()).toMatch(/^\+OK Logged in/);
    c.close();
  });

  const plainIr = (a: TestAccount) => b64(`\0${a.login}\0${a.password}`);

  it('AUTH PLAIN with and without initial response', async () => {
    const c = await Pop3Client.connect(h.port);
    expect(await c.cmd(`AUTH PLAIN ${b64('\0alice\0nope')}`)).toBe('-ERR [AUTH] Authentication failed');
    expect(await c.cmd(`AUTH PLAIN ${plainIr(ALICE)}`)).toMatch(/^\+OK Logged in/);
    c.close();
    const d = await Pop3Client.connect(h.port);
    expect(await d.cmd('auth plain')).toBe('+ ');
    expect(await d.cmd(plainIr(BOB))).toMatch(/^\+OK Logged in/);
    d.close();
  });

  it('AUTH LOGIN with and without initial response', async () => {
    const c = await Pop3Client.connect(h.port);
    expect(await c.cmd('AUTH LOGIN')).toBe(`+ ${b64('Username:')}`);
    expect(await c.cmd(b64(ALICE.login))).toBe(`+ ${b64('Password:')}`);
    expect(await c.cmd(b64(ALICE.password))).toMatch(/^\+OK Logged in/);
    c.close();
    const d = await Pop3Client.connect(h.port);
    expect(await d.cmd(`AUTH LOGIN ${b64(BOB.login)}`)).toBe(`+ ${b64('Password:')}`);
    expect(await d.cmd(b64('wrong'))).toBe('-ERR [AUTH] Authentication failed');
    d.close();
  });

  it('AUTH CRAM-MD5', async () => {
    const c = await Pop3Client.connect(h.port);
    const challengeLine = await c.cmd('AUTH CRAM-MD5');
    expect(challengeLine).toMatch(/^\+ /);
    const challenge = unb64(challengeLine.slice(2)).toString();
    expect(challenge).toMatch(new RegExp(`^<.+@${HOSTNAME.replace(/\./g, '\\.')}>$`));
    const digest = createHmac('md5', ALICE.password).update(challenge).digest('hex');
    expect(await c.cmd(b64(`${ALICE.login} ${digest}`))).toMatch(/^\+OK Logged in/);
    c.close();
    const d = await Pop3Client.connect(h.port);
    const ch2 = unb64((await d.cmd('AUTH CRAM-MD5')).slice(2)).toString();
    const bad = createHmac('md5', 'wrong').update(ch2).digest('hex');
    expect(await d.cmd(b64(`${ALICE.login} ${bad}`))).toBe('-ERR [AUTH] Authentication failed');
    d.close();
  });

  /** A small SCRAM-SHA-256 client (RFC 5802 §3). */
  async function scram(c: Pop3Client, a: TestAccount, password: string, initial: boolean): Promise<string> {
    const cnonce = randomBytes(18).toString('base64');
    const bare = `n=${a.login},r=${cnonce}`;
    const first = `n,,${bare}`;
    let line: string;
    if (initial) line = await c.cmd(`AUTH SCRAM-SHA-256 ${b64(first)}`);
    else {
      expect(await c.cmd('AUTH SCRAM-SHA-256')).toBe('+ ');
      line = await c.cmd(b64(first));
    }
    expect(line).toMatch(/^\+ /);
    const serverFirst = unb64(line.slice(2)).toString();
    const attrs = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
    expect(attrs.r?.startsWith(cnonce)).toBe(true);
    const salted = pbkdf2Sync(password, unb64(attrs.s ?? ''), Number(attrs.i), 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=${b64('n,,')},r=${attrs.r}`;
    const authMessage = `${bare},${serverFirst},${withoutProof}`;
    const signature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((byte, i) => byte ^ (signature[i] ?? 0)));
    const reply = await c.cmd(b64(`${withoutProof},p=${proof.toString('base64')}`));
    if (!reply.startsWith('+ ')) return reply;
    const serverKey = createHmac('sha256', salted).update('Server Key').digest();
    const expected = createHmac('sha256', serverKey).update(authMessage).digest('base64');
    expect(unb64(reply.slice(2)).toString()).toBe(`v=${expected}`);
    return c.cmd('');
  }

  it('AUTH SCRAM-SHA-256 with and without initial response, server signature checked', async () => {
    const c = await Pop3Client.connect(h.port, { localAddress: '127.0.0.2' });
    expect(await scram(c, ALICE, ALICE.password, true)).toMatch(/^\+OK Logged in/);
    c.close();
    const d = await Pop3Client.connect(h.port, { localAddress: '127.0.0.2' });
    expect(await scram(d, BOB, BOB.password, false)).toMatch(/^\+OK Logged in/);
    d.close();
    const e = await Pop3Client.connect(h.port);
    expect(await scram(e, CAROL, 'wrong', true)).toBe('-ERR [AUTH] Authentication failed');
    e.close();
  });

  it('"*" aborts, bad base64 fails, unknown mechanisms are refused, "=" is an empty initial response', async () => {
    const c = await Pop3Client.connect(h.port);
    expect(await c.cmd('AUTH LOGIN')).toMatch(/^\+ /);
    expect(await c.cmd('*')).toBe('-ERR Authentication aborted');
    expect(await c.cmd('AUTH PLAIN')).toBe('+ ');
    expect(await c.cmd('not base64!')).toBe('-ERR Invalid base64 data');
    expect(await c.cmd('AUTH PLAIN ***')).toBe('-ERR Invalid base64 data');
    expect(await c.cmd('AUTH GSSAPI')).toBe('-ERR Unsupported authentication mechanism');
    expect(await c.cmd('AUTH PLAIN =')).toBe('-ERR [AUTH] Authentication failed');
    expect((await c.multi('AUTH')).lines).toEqual(['SCRAM-SHA-256', 'CRAM-MD5', 'PLAIN', 'LOGIN']);
    // Still usable afterwards.
    expect(await c.cmd(`AUTH PLAIN ${plainIr(ALICE)}`)).toMatch(/^\+OK/);
    c.close();
  });

  it('AUTH continuation lines may be longer than command lines (8 KiB), not longer', async () => {
    const c = await Pop3Client.connect(h.port);
    expect(await c.cmd('AUTH PLAIN')).toBe('+ ');
    const long = b64(`\0alice\0${'x'.repeat(4000)}`);
    expect(long.length).toBeGreaterThan(255);
    expect(await c.cmd(long)).toBe('-ERR [AUTH] Authentication failed');
    expect(await c.cmd('AUTH PLAIN')).toBe('+ ');
    expect(await c.cmd('A'.repeat(9000))).toBe('-ERR Line too long');
    expect(await c.cmd('NOOP')).toBe('-ERR Command not valid in this state');
    c.close();
  });

  it('[IN-USE] for a second concurrent session of the same user; released at QUIT', async () => {
    const a = await Pop3Client.connect(h.port);
    expect(await a.login()).toMatch(/^\+OK/);
    const b = await Pop3Client.connect(h.port);
    expect(await b.login()).toBe('-ERR [IN-USE] Maildrop is locked by another POP3 session');
    expect(await b.cmd(`AUTH PLAIN ${b64('\0alice\0wonder land')}`)).toMatch(/^-ERR \[IN-USE\]/);
    // Another user is not affected.
    const other = await Pop3Client.connect(h.port);
    expect(await other.login(BOB)).toMatch(/^\+OK/);
    expect(await a.cmd('QUIT')).toMatch(/^\+OK/);
    await a.raw.waitClosed();
    expect(await b.login()).toMatch(/^\+OK Logged in/);
    b.close();
    other.close();
  });

  it('[LOGIN-DELAY] once the rate limiter refuses (USER/PASS and AUTH)', async () => {
    const limited = await startHarness({
      rateLimiter: new LoginRateLimiter({ maxPerAddress: 3, maxPerAccount: 3 }),
    });
    try {
      const c = await Pop3Client.connect(limited.port);
      for (let i = 0; i < 3; i++) {
        await c.cmd('USER alice');
        expect(await c.cmd('PASS nope')).toBe('-ERR [AUTH] Authentication failed');
      }
      await c.cmd('USER alice');
      expect(await c.cmd(`PASS ${ALICE.password}`)).toBe(
        '-ERR [LOGIN-DELAY] Too many failed logins, try again later',
      );
      expect(await c.cmd(`AUTH PLAIN ${b64(`\0alice\0${ALICE.password}`)}`)).toMatch(/^-ERR \[LOGIN-DELAY\]/);
      c.close();
    } finally {
      await limited.cleanup();
    }
  });
});

describe('pipelining and robustness', () => {
  it('answers many commands sent in one write, in order; nothing after QUIT runs', async () => {
    await h.deliver(ALICE, MSG_DOTS);
    const u2 = await h.deliver(ALICE, MSG_NO_CRLF);
    const { uidValidity } = await h.store.snapshot(ALICE.id, 'INBOX');
    const c = await Pop3Client.connect(h.port);
    c.raw.write(
      'CAPA\r\nuser alice\r\nPASS wonder land\r\nstat\r\nLIST\r\nRETR 2\r\nbogus\r\nDELE 1\r\nNOOP\r\n' +
        'UIDL 2\r\nQUIT\r\nDELE 2\r\n',
    );
    expect(await c.raw.line()).toBe('+OK Capability list follows');
    expect(await c.body()).toContain('PIPELINING');
    expect(await c.raw.line()).toMatch(/^\+OK/);
    expect(await c.raw.line()).toMatch(/^\+OK Logged in, 2 messages/);
    expect(await c.raw.line()).toMatch(/^\+OK 2 \d+$/);
    expect(await c.raw.line()).toMatch(/^\+OK 2 messages/);
    expect(await c.body()).toHaveLength(2);
    expect(await c.raw.line()).toBe(`+OK ${MSG_NO_CRLF.length} octets`);
    expect(await c.exact(expectedStuffed(MSG_NO_CRLF).length)).toBe(expectedStuffed(MSG_NO_CRLF));
    expect(await c.raw.line()).toBe('-ERR Unknown command');
    expect(await c.raw.line()).toBe('+OK Message 1 deleted');
    expect(await c.raw.line()).toBe('+OK');
    expect(await c.raw.line()).toBe(`+OK 2 ${uidValidity}.${u2}`);
    expect(await c.raw.line()).toBe('+OK Bye (1 messages deleted)');
    await c.raw.waitClosed();
    expect(c.raw.pending).toBe('');
    expect(await h.inbox(ALICE)).toEqual([u2]);
  });

  it('pipelined RETRs to a client that stops reading wait for it (back-pressure), then flow', async () => {
    await h.deliver(ALICE, bigMessage());
    const c = await Pop3Client.connect(h.port);
    await c.login();
    c.raw.socket.pause();
    c.raw.write('RETR 1\r\n'.repeat(200));
    await new Promise((r) => setTimeout(r, 300));
    c.raw.socket.resume();
    expect(await c.raw.line()).toMatch(/^\+OK \d+ octets/);
    c.close();
  });

  it('closes the connection on an HTTP request', async () => {
    const c = await Pop3Client.connect(h.port);
    c.raw.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(await c.raw.line()).toMatch(/^-ERR /);
    await c.raw.waitClosed();
  });

  it('refuses command lines over 255 octets (CRLF included), and recovers', async () => {
    const c = await Pop3Client.connect(h.port);
    expect(await c.cmd(`USER ${'a'.repeat(248)}`)).toMatch(/^\+OK/); // 253 + CRLF = 255
    expect(await c.cmd(`USER ${'a'.repeat(249)}`)).toBe('-ERR Line too long');
    c.raw.write(`USER ${'a'.repeat(5000)}`);
    await new Promise((r) => setTimeout(r, 50));
    c.raw.write('b\r\nNOOP\r\n');
    expect(await c.raw.line()).toBe('-ERR Line too long');
    expect(await c.raw.line()).toBe('-ERR Command not valid in this state');
    c.close();
  });

  it('drops an idle connection without a response and without UPDATE (RFC 1939 §3 autologout)', async () => {
    const quick = await startHarness({ limits: { idleTimeoutMs: 300 } });
    try {
      const uid = await quick.deliver(ALICE, MSG_DOTS);
      const c = await Pop3Client.connect(quick.port);
      await c.login();
      expect(await c.cmd('DELE 1')).toMatch(/^\+OK/);
      await c.raw.waitClosed(5_000);
      expect(c.raw.pending).toBe('');
      expect(await quick.inbox(ALICE)).toEqual([uid]);
    } finally {
      await quick.cleanup();
    }
  });

  it('UPDATE sets \\Seen only where it was not set at login (an IMAP "mark unread" meanwhile stands)', async () => {
    const read = await h.deliver(ALICE, MSG_DOTS);
    const fresh = await h.deliver(ALICE, MSG_DOTS);
    await h.store.storeFlags(ALICE.id, 'INBOX', [read], 'add', ['\\Seen']);
    const c = await Pop3Client.connect(h.port);
    await c.login();
    const n = (await h.inbox(ALICE)).length;
    // Meanwhile an IMAP client marks the read one unread again.
    await h.store.storeFlags(ALICE.id, 'INBOX', [read], 'remove', ['\\Seen']);
    expect((await c.multi(`RETR ${n - 1}`)).status).toMatch(/^\+OK/);
    expect((await c.multi(`RETR ${n}`)).status).toMatch(/^\+OK/);
    expect(await c.cmd('QUIT')).toMatch(/^\+OK/);
    const flags = new Map(
      (await h.store.listMessages(ALICE.id, 'INBOX')).map((m) => [m.uid, m.flags] as const),
    );
    expect(flags.get(read)).not.toContain('\\Seen');
    expect(flags.get(fresh)).toContain('\\Seen');
  });

  it('a message expunged by another client since login answers -ERR', async () => {
    const uid = await h.deliver(ALICE, MSG_DOTS);
    const c = await Pop3Client.connect(h.port);
    await c.login();
    await h.store.storeFlags(ALICE.id, 'INBOX', [uid], 'add', ['\\Deleted']);
    await h.store.expunge(ALICE.id, 'INBOX', [uid]);
    expect(await c.cmd('RETR 1')).toBe('-ERR No such message');
    expect(await c.cmd('DELE 1')).toMatch(/^\+OK/);
    expect(await c.cmd('QUIT')).toBe('+OK Bye (1 messages deleted)');
  });

  it('close() cuts every connection and stops listening; nothing marked is deleted', async () => {
    const uid = await h.deliver(ALICE, MSG_DOTS);
    const c = await Pop3Client.connect(h.port);
    await c.login();
    expect(await c.cmd('DELE 1')).toMatch(/^\+OK/);
    const tlsHandshaking = await LineClient.connect(h.tlsPort, '127.0.0.1').catch(() => null);
    await h.server.close();
    await c.raw.waitClosed();
    if (tlsHandshaking) await tlsHandshaking.waitClosed();
    await expect(Pop3Client.connect(h.port)).rejects.toThrow();
    expect(await h.inbox(ALICE)).toEqual([uid]);
    expect(h.locks.size).toBe(0);
  });
});
