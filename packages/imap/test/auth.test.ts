/**
 * Greeting, capabilities and authentication over raw sockets: LOGIN, every SASL mechanism with and without
 * SASL-IR, STARTTLS (and the dropping of pipelined plain text), LOGINDISABLED on insecure connections,
 * implicit TLS, rate limiting, ID, ENABLE, NAMESPACE.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { LoginRateLimiter } from '@delegato/sasl';
import { ALICE, BOB, CAROL, type TestAccount } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, HOSTNAME, ImapClient, startHarness } from './helpers.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64');
/** A connection from 127.0.0.2 to 127.0.0.1: not the server's own address, so not trusted. */
const REMOTE = { localAddress: '127.0.0.2' };

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

const capsOf = (line: string) => (/CAPABILITY ([^\]]*)/.exec(line)?.[1] ?? '').split(' ');

describe('greeting and capabilities', () => {
  it('greets with the pre-login capabilities (RFC 9051 §7.1.1)', async () => {
    const c = await ImapClient.connect(h.port);
    const caps = capsOf(c.greeting);
    expect(caps).toEqual(
      expect.arrayContaining(['IMAP4rev1', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE', 'STARTTLS']),
    );
    // A local connection is trusted: plain-text mechanisms offered, LOGIN enabled.
    expect(caps).toEqual(
      expect.arrayContaining(['AUTH=SCRAM-SHA-256', 'AUTH=CRAM-MD5', 'AUTH=PLAIN', 'AUTH=LOGIN']),
    );
    expect(caps).not.toContain('LOGINDISABLED');
    const r = await c.cmd('CAPABILITY');
    expect(r.untagged).toEqual([`* CAPABILITY ${caps.join(' ')}`]);
    expect(r.tagged).toBe('A1 OK Capability completed.');
    c.close();
  });

  it('hides plain-text mechanisms and disables LOGIN on an insecure connection (RFC 9051 §6.2.3)', async () => {
    const c = await ImapClient.connect(h.port, REMOTE);
    const caps = capsOf(c.greeting);
    expect(caps).toEqual(
      expect.arrayContaining(['LOGINDISABLED', 'STARTTLS', 'AUTH=SCRAM-SHA-256', 'AUTH=CRAM-MD5']),
    );
    expect(caps).not.toContain('AUTH=PLAIN');
    expect(caps).not.toContain('AUTH=LOGIN');
    expect((await c.cmd(`LOGIN alice "${ALICE.password}"`)).tagged).toBe(
      'A1 NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.',
    );
    expect((await c.cmd(`AUTHENTICATE PLAIN ${b64(`\0alice\0${ALICE.password}`)}`)).tagged).toMatch(
      /^A2 NO \[PRIVACYREQUIRED\]/,
    );
    // After STARTTLS: LOGIN works, the capabilities change.
    await c.startTls();
    const after = capsOf((await c.cmd('CAPABILITY')).untagged[0] ?? '');
    expect(after).toContain('AUTH=PLAIN');
    expect(after).not.toContain('STARTTLS');
    expect(after).not.toContain('LOGINDISABLED');
    const login = await c.login();
    expect(capsOf(login.tagged)).toEqual(
      expect.arrayContaining(['IDLE', 'MOVE', 'UIDPLUS', 'CONDSTORE', 'QRESYNC', 'QUOTA', 'SPECIAL-USE']),
    );
    expect(capsOf(login.tagged)).not.toContain('AUTH=PLAIN');
    c.close();
  });

  it('STARTTLS drops plain text pipelined after it (RFC 9051 §6.2.1)', async () => {
    const c = await ImapClient.connect(h.port, REMOTE);
    c.raw.write('S1 STARTTLS\r\nS2 LOGIN alice "x"\r\n');
    expect(await c.response()).toBe('S1 OK Begin TLS negotiation now.');
    await c.raw.startTls();
    expect(await c.cmd('NOOP', { tag: 'S3' })).toEqual({
      untagged: [],
      continuations: [],
      tagged: 'S3 OK Noop completed.',
    });
    expect((await c.cmd('STARTTLS', { tag: 'S4' })).tagged).toBe('S4 BAD TLS is already active.');
    c.close();
  });

  it('serves implicit TLS (RFC 8314 §3.3) without STARTTLS', async () => {
    const c = await ImapClient.connect(h.tlsPort, { tls: true, ...REMOTE });
    const caps = capsOf(c.greeting);
    expect(caps).not.toContain('STARTTLS');
    expect(caps).toContain('AUTH=PLAIN');
    await c.login();
    c.close();
  });
});

describe('LOGIN', () => {
  it('accepts atoms, quoted strings and literals; refuses wrong credentials', async () => {
    const c = await ImapClient.connect(h.port);
    expect((await c.cmd('LOGIN alice wrong')).tagged).toBe(
      'A1 NO [AUTHENTICATIONFAILED] Authentication failed.',
    );
    c.raw.write(`L2 LOGIN {5}\r\n`);
    expect(await c.response()).toMatch(/^\+ /);
    c.raw.write(`alice {${ALICE.password.length}+}\r\n${ALICE.password}\r\n`);
    expect((await c.until('L2')).tagged).toMatch(/^L2 OK \[CAPABILITY IMAP4rev1 .*\] Logged in$/);
    expect((await c.cmd('LOGIN alice x', { tag: 'L3' })).tagged).toBe(
      'L3 BAD Command not valid in this state.',
    );
    c.close();
    const d = await ImapClient.connect(h.port);
    expect((await d.cmd(`LOGIN ${BOB.address} ${BOB.password}`)).tagged).toMatch(/^A1 OK/);
    d.close();
  });

  it('is rate limited (NO [UNAVAILABLE]) and never says which part was wrong', async () => {
    const limiter = new LoginRateLimiter({ maxPerAccount: 2 });
    const h2 = await startHarness({ rateLimiter: limiter });
    try {
      const c = await ImapClient.connect(h2.port);
      expect((await c.cmd('LOGIN carol bad1')).tagged).toMatch(/NO \[AUTHENTICATIONFAILED\]/);
      expect((await c.cmd('LOGIN nobody bad')).tagged).toMatch(/NO \[AUTHENTICATIONFAILED\]/);
      expect((await c.cmd('LOGIN carol bad2')).tagged).toMatch(/NO \[AUTHENTICATIONFAILED\]/);
      expect((await c.cmd(`LOGIN carol "${CAROL.password}"`)).tagged).toBe(
        'A4 NO [UNAVAILABLE] Too many failed logins, try again later.',
      );
      c.close();
    } finally {
      await h2.cleanup();
    }
  });
});

describe('AUTHENTICATE (RFC 9051 §6.2.2, SASL-IR RFC 4959)', () => {
  it('PLAIN with an initial response, and with an empty challenge', async () => {
    const c = await ImapClient.connect(h.port);
    const r = await c.cmd(`AUTHENTICATE PLAIN ${b64(`\0alice\0${ALICE.password}`)}`);
    expect(r.tagged).toMatch(/^A1 OK \[CAPABILITY .*\] Logged in$/);
    c.close();
    const d = await ImapClient.connect(h.port);
    d.raw.write('P1 AUTHENTICATE PLAIN\r\n');
    expect(await d.response()).toBe('+ ');
    d.raw.write(`${b64(`\0bob\0${BOB.password}`)}\r\n`);
    expect((await d.until('P1')).tagged).toMatch(/^P1 OK/);
    d.close();
  });

  it('LOGIN', async () => {
    const c = await ImapClient.connect(h.port);
    c.raw.write('L1 AUTHENTICATE LOGIN\r\n');
    expect(await c.response()).toBe(`+ ${b64('Username:')}`);
    c.raw.write(`${b64('alice')}\r\n`);
    expect(await c.response()).toBe(`+ ${b64('Password:')}`);
    c.raw.write(`${b64(ALICE.password)}\r\n`);
    expect((await c.until('L1')).tagged).toMatch(/^L1 OK/);
    c.close();
  });

  it('CRAM-MD5', async () => {
    const c = await ImapClient.connect(h.port, REMOTE);
    c.raw.write('C1 AUTHENTICATE CRAM-MD5\r\n');
    const line = await c.response();
    const challenge = unb64(line.slice(2)).toString();
    expect(challenge).toMatch(new RegExp(`^<.+@${HOSTNAME.replace(/\./g, '\\.')}>$`));
    const digest = createHmac('md5', ALICE.password).update(challenge).digest('hex');
    c.raw.write(`${b64(`alice ${digest}`)}\r\n`);
    expect((await c.until('C1')).tagged).toMatch(/^C1 OK/);
    c.close();
  });

  /** A small SCRAM-SHA-256 client (RFC 5802 §3). */
  async function scram(c: ImapClient, a: TestAccount, password: string, initial: boolean): Promise<string> {
    const cnonce = randomBytes(18).toString('base64');
    const bare = `n=${a.login},r=${cnonce}`;
    const first = `n,,${bare}`;
    c.raw.write(
      initial ? `X1 AUTHENTICATE SCRAM-SHA-256 ${b64(first)}\r\n` : 'X1 AUTHENTICATE SCRAM-SHA-256\r\n',
    );
    if (!initial) {
      expect(await c.response()).toBe('+ ');
      c.raw.write(`${b64(first)}\r\n`);
    }
    const line = await c.response();
    expect(line).toMatch(/^\+ /);
    const serverFirst = unb64(line.slice(2)).toString();
    const attrs = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
    const salted = pbkdf2Sync(password, unb64(attrs.s ?? ''), Number(attrs.i), 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const withoutProof = `c=${b64('n,,')},r=${attrs.r}`;
    const authMessage = `${bare},${serverFirst},${withoutProof}`;
    const signature = createHmac('sha256', storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((byte, i) => byte ^ (signature[i] ?? 0)));
    c.raw.write(`${b64(`${withoutProof},p=${proof.toString('base64')}`)}\r\n`);
    const reply = await c.response();
    if (!reply.startsWith('+ ')) return reply;
    const serverKey = createHmac('sha256', salted).update('Server Key').digest();
    const expected = createHmac('sha256', serverKey).update(authMessage).digest('base64');
    expect(unb64(reply.slice(2)).toString()).toBe(`v=${expected}`);
    c.raw.write('\r\n');
    return (await c.until('X1')).tagged;
  }

  it('SCRAM-SHA-256 with and without initial response, server signature checked', async () => {
    const c = await ImapClient.connect(h.port, REMOTE);
    expect(await scram(c, ALICE, ALICE.password, true)).toMatch(/^X1 OK \[CAPABILITY .*\] Logged in$/);
    c.close();
    const d = await ImapClient.connect(h.port, REMOTE);
    expect(await scram(d, BOB, BOB.password, false)).toMatch(/^X1 OK/);
    d.close();
    const e = await ImapClient.connect(h.port);
    expect(await scram(e, CAROL, 'wrong', true)).toBe('X1 NO [AUTHENTICATIONFAILED] Authentication failed.');
    e.close();
  });

  it('"*" cancels with BAD, bad base64 is BAD, unknown mechanisms are NO, "=" is an empty initial response', async () => {
    const c = await ImapClient.connect(h.port);
    c.raw.write('Z1 AUTHENTICATE LOGIN\r\n');
    expect(await c.response()).toMatch(/^\+ /);
    c.raw.write('*\r\n');
    expect((await c.until('Z1')).tagged).toBe('Z1 BAD Authentication aborted by client.');
    c.raw.write('Z2 AUTHENTICATE PLAIN\r\n');
    expect(await c.response()).toBe('+ ');
    c.raw.write('not base64!\r\n');
    expect((await c.until('Z2')).tagged).toBe('Z2 BAD Invalid base64 data in continued response');
    expect((await c.cmd('AUTHENTICATE PLAIN ***', { tag: 'Z3' })).tagged).toBe(
      'Z3 BAD Invalid base64 data in initial response',
    );
    expect((await c.cmd('AUTHENTICATE GSSAPI', { tag: 'Z4' })).tagged).toBe(
      'Z4 NO Unsupported authentication mechanism.',
    );
    expect((await c.cmd('AUTHENTICATE PLAIN =', { tag: 'Z5' })).tagged).toBe(
      'Z5 NO [AUTHENTICATIONFAILED] Authentication failed.',
    );
    // Still usable.
    expect(
      (await c.cmd(`AUTHENTICATE PLAIN ${b64(`\0alice\0${ALICE.password}`)}`, { tag: 'Z6' })).tagged,
    ).toMatch(/^Z6 OK/);
    c.close();
  });

  it('honours the configured mechanisms', async () => {
    const h2 = await startHarness({ mechanisms: ['PLAIN'] });
    try {
      const c = await ImapClient.connect(h2.port);
      expect(capsOf(c.greeting).filter((x) => x.startsWith('AUTH='))).toEqual(['AUTH=PLAIN']);
      expect((await c.cmd('AUTHENTICATE CRAM-MD5')).tagged).toBe(
        'A1 NO Unsupported authentication mechanism.',
      );
      c.close();
    } finally {
      await h2.cleanup();
    }
  });
});

describe('ID, ENABLE, NAMESPACE, NOOP, LOGOUT', () => {
  it('answers ID in any state (RFC 2971)', async () => {
    const c = await ImapClient.connect(h.port);
    expect(await c.cmd('ID ("name" "test client" "version" "1")')).toEqual({
      untagged: ['* ID ("name" "Delegato")'],
      continuations: [],
      tagged: 'A1 OK Id completed.',
    });
    expect((await c.cmd('ID NIL')).tagged).toBe('A2 OK Id completed.');
    expect((await c.cmd('ID ("name")')).tagged).toMatch(/^A3 BAD/);
    c.close();
  });

  it('ENABLE CONDSTORE QRESYNC (RFC 5161, RFC 7162 §3.2.3), only after login', async () => {
    const c = await ImapClient.connect(h.port);
    expect((await c.cmd('ENABLE CONDSTORE')).tagged).toMatch(/^A1 BAD/);
    await c.login();
    expect((await c.cmd('ENABLE QRESYNC X-UNKNOWN')).untagged).toEqual(['* ENABLED CONDSTORE QRESYNC']);
    expect((await c.cmd('ENABLE CONDSTORE')).untagged).toEqual(['* ENABLED']);
    c.close();
  });

  it('NAMESPACE: one personal namespace (RFC 2342)', async () => {
    const c = await ImapClient.connect(h.port);
    await c.login();
    expect((await c.cmd('NAMESPACE')).untagged).toEqual(['* NAMESPACE (("" "/")) NIL NIL']);
    c.close();
  });

  it('LOGOUT: BYE, tagged OK, close (RFC 9051 §6.1.3)', async () => {
    const c = await ImapClient.connect(h.port);
    expect(await c.cmd('LOGOUT')).toEqual({
      untagged: ['* BYE Logging out'],
      continuations: [],
      tagged: 'A1 OK Logout completed.',
    });
    await c.raw.waitClosed();
  });
});
