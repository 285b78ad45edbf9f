import { afterEach, describe, expect, it } from 'vitest';
import { MemoryTotpStore, totpCode } from '../src/index.js';
import { location, PASSWORD, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
afterEach(async () => w?.cleanup());

const MIN = 60_000;

describe('sign-in', () => {
  it('shows the form with the labels and button the browser tests use', async () => {
    w = await world();
    const page = await w.browser().get('/login');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<label for="username">Username</label>');
    expect(page.text).toContain('<label for="password">Password</label>');
    expect(page.text).toMatch(/<button type="submit">Sign in<\/button>/);
    expect(page.text).toContain('href="/help/signing-in"');
  });

  it('signs an operator in, with a hardened cookie, and sends them to /domains', async () => {
    w = await world();
    const b = w.browser();
    await b.get('/login');
    const before = b.cookie;
    const res = await b.post('/login', { username: 'root', password: PASSWORD });
    expect(res.status).toBe(303);
    expect(location(res)).toBe('/');
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/Secure/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\//);
    // A new session id on sign-in (fixation).
    expect(b.cookie).not.toBe(before);
    expect(location(await b.get('/'))).toBe('/domains');
    expect((await b.get('/domains')).status).toBe(200);
  });

  it('sends a domain admin to their first domain and an end user to /me', async () => {
    w = await world();
    const alice = w.browser();
    await alice.signIn('alice');
    expect(location(await alice.get('/'))).toBe('/d/a.example/mailboxes');
    const rose = w.browser();
    const res = await rose.signIn('rose.pinkcheeks@a.example');
    expect(location(res)).toBe('/me');
    const me = await rose.get('/me');
    expect(me.status).toBe(200);
    expect(me.text).toContain('rose.pinkcheeks@a.example');
    expect(me.text).toContain('href="/me/setup"');
    // An end user signs in with an alias too; and cannot reach admin pages.
    const rose2 = w.browser();
    expect(location(await rose2.signIn('pinkcheeks@a.example'))).toBe('/me');
    expect((await rose.get('/d/a.example/mailboxes')).status).toBe(403);
    expect((await rose.get('/domains')).status).toBe(403);
  });

  it('re-renders the form with an error on wrong credentials, and keeps the user out', async () => {
    w = await world();
    const b = w.browser();
    await b.get('/login');
    const res = await b.post('/login', { username: 'alice', password: 'wrong password' });
    expect(res.status).toBe(401);
    expect(res.text).toContain('Wrong username or password');
    expect(res.text).toContain('value="alice"');
    expect(res.text).not.toContain('wrong password');
    expect(location(await b.get('/d/a.example/mailboxes'))).toBe('/login');
    const empty = await b.post('/login', { username: '', password: '' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Username is required');
    expect(empty.text).toContain('Password is required');
  });

  it('locks an account after repeated failures (429 even with the right password), per address too', async () => {
    w = await world();
    const b = w.browser('198.51.100.1');
    await b.get('/login');
    for (let i = 0; i < 5; i++)
      expect((await b.post('/login', { username: 'alice', password: 'nope' })).status).toBe(401);
    const locked = await b.post('/login', { username: 'alice', password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.text).toContain('Too many attempts');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // From another address too (per account), until the window passes.
    const other = w.browser('198.51.100.2');
    expect((await other.signIn('alice')).status).toBe(429);
    w.clock.advance(16 * MIN);
    expect((await other.signIn('alice')).status).toBe(303);

    // Per client address: ten failures on different names block that address for everyone.
    const guesser = w.browser('203.0.113.9');
    await guesser.get('/login');
    for (let i = 0; i < 10; i++) await guesser.post('/login', { username: `nobody${i}`, password: 'x' });
    expect((await guesser.post('/login', { username: 'bob', password: PASSWORD })).status).toBe(429);
    expect((await w.browser('203.0.113.10').signIn('bob')).status).toBe(303);
  });

  it('signs out: the session is gone on the server', async () => {
    w = await world();
    const b = w.browser();
    await b.signIn('alice');
    const cookie = b.cookie;
    await b.get('/d/a.example/mailboxes');
    const out = await b.post('/logout');
    expect(out.status).toBe(303);
    expect(location(out)).toBe('/login');
    b.cookie = cookie; // replaying the old cookie does not help
    expect(location(await b.get('/d/a.example/mailboxes'))).toBe('/login');
  });

  it('refuses a tampered or unknown session cookie', async () => {
    w = await world();
    const b = w.browser();
    await b.signIn('alice');
    const [id, mac] = (b.cookie ?? '').split('=')[1]?.split('.') ?? [];
    b.cookie = `delegato_session=${id}.${mac?.slice(0, -2)}xx`;
    expect(location(await b.get('/d/a.example/mailboxes'))).toBe('/login');
  });
});

describe('session timeouts', () => {
  it('ends a session idle for 30 minutes', async () => {
    w = await world();
    const b = w.browser();
    await b.signIn('alice');
    w.clock.advance(29 * MIN);
    expect((await b.get('/d/a.example/mailboxes')).status).toBe(200);
    w.clock.advance(29 * MIN);
    expect((await b.get('/d/a.example/mailboxes')).status).toBe(200);
    w.clock.advance(30 * MIN);
    expect(location(await b.get('/d/a.example/mailboxes'))).toBe('/login');
  });

  it('ends a busy session after 12 hours', async () => {
    w = await world();
    const b = w.browser();
    await b.signIn('alice');
    for (let i = 0; i < 35; i++) {
      w.clock.advance(20 * MIN);
      expect((await b.get('/d/a.example/mailboxes')).status).toBe(200);
    }
    w.clock.advance(20 * MIN); // 12 h in all
    expect(location(await b.get('/d/a.example/mailboxes'))).toBe('/login');
  });

  it('ends the sessions of a removed admin at once', async () => {
    w = await world();
    const alice = w.browser();
    await alice.signIn('alice');
    const root = w.browser();
    await root.signIn('root');
    await root.get('/admins');
    expect((await root.post('/admins/alice/remove')).status).toBe(303);
    expect(location(await alice.get('/d/a.example/mailboxes'))).toBe('/login');
  });

  it('takes a withdrawn domain away at once (the Actor is read on every request)', async () => {
    w = await world();
    const alice = w.browser();
    await alice.signIn('alice');
    expect((await alice.get('/d/a.example/mailboxes')).status).toBe(200);
    await w.directory.removeDomain({ kind: 'operator', name: 'root', from: 'test' }, 'a.example', {
      force: true,
    });
    expect((await alice.get('/d/a.example/mailboxes')).status).toBe(403);
  });
});

describe('two-step sign-in (TOTP)', () => {
  it('enrols at /me/totp, then asks for a code at /login/totp', async () => {
    const totpStore = new MemoryTotpStore();
    w = await world({ totpStore });
    const b = w.browser();
    await b.signIn('alice');
    const enrol = await b.get('/me/totp');
    expect(enrol.status).toBe(200);
    const secret = /class="secret mono">([A-Z2-7 ]+)</.exec(enrol.text)?.[1]?.replace(/ /g, '') ?? '';
    expect(secret.length).toBeGreaterThanOrEqual(16);
    expect(enrol.text).toContain('otpauth://totp/');
    expect((await b.post('/me/totp', { code: '000000' })).status).toBe(400);
    const on = await b.post('/me/totp', { code: totpCode(secret, w.clock.now()) });
    expect(on.status).toBe(303);
    expect(await totpStore.get('alice')).toBe(secret);

    // Next sign-in: password, then the code.
    w.clock.advance(60_000);
    const c = w.browser();
    const res = await c.signIn('alice');
    expect(location(res)).toBe('/login/totp');
    expect(location(await c.get('/d/a.example/mailboxes'))).toBe('/login/totp');
    const page = await c.get('/login/totp');
    expect(page.text).toContain('<label for="code">Code</label>');
    expect((await c.post('/login/totp', { code: '123456' })).status).toBe(401);
    const code = totpCode(secret, w.clock.now());
    const ok = await c.post('/login/totp', { code });
    expect(ok.status).toBe(303);
    expect(location(ok)).toBe('/');
    expect((await c.get('/d/a.example/mailboxes')).status).toBe(200);

    // The same code does not work twice.
    const d = w.browser();
    await d.signIn('alice');
    await d.get('/login/totp');
    expect((await d.post('/login/totp', { code })).status).toBe(401);
  });

  it('with requireTotp, an admin without a secret must enrol before anything else', async () => {
    w = await world({ requireTotp: true });
    const b = w.browser();
    const res = await b.signIn('alice');
    expect(location(res)).toBe('/me/totp');
    expect(location(await b.get('/d/a.example/mailboxes'))).toBe('/me/totp');
    const enrol = await b.get('/me/totp');
    expect(enrol.text).toContain('requires two-step sign-in');
    const secret = /class="secret mono">([A-Z2-7 ]+)</.exec(enrol.text)?.[1]?.replace(/ /g, '') ?? '';
    expect((await b.post('/me/totp', { code: totpCode(secret, w.clock.now()) })).status).toBe(303);
    expect((await b.get('/d/a.example/mailboxes')).status).toBe(200);
  });
});

describe('IP allow-list', () => {
  it('refuses clients outside allowedNetworks', async () => {
    w = await world({ allowedNetworks: ['10.0.0.0/8', '127.0.0.1'] });
    expect((await w.browser('192.0.2.1').get('/login')).status).toBe(403);
    expect((await w.browser('10.1.2.3').get('/login')).status).toBe(200);
    expect((await w.browser('127.0.0.1').get('/login')).status).toBe(200);
  });
});
