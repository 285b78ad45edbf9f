/**
 * Per-admin access restrictions (allowed networks, pinned client certificate), sessions and API tokens
 * surviving a restart (libSQL file), TOTP secrets in the directory, and sign-ins in the audit log. A real
 * directory and a real state file in a temp dir; the app is driven with app.request().
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FederationKey } from '@delegato/directory';
import { afterEach, describe, expect, it } from 'vitest';
import { adminApp, FileTotpStore, importTotpFile, totpCode } from '../src/index.js';
import { Browser, location, ORIGIN, operator, PASSWORD, world } from './helpers.js';

const FP_ALICE = 'a1'.repeat(32);
const FP_OTHER = 'b2'.repeat(32);

type World = Awaited<ReturnType<typeof world>>;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A world whose app reads the client certificate from a test header (as the TLS socket would give it). */
async function setup(extra: Parameters<typeof world>[0] = {}): Promise<World> {
  const w = await world({
    clientCertificate: (c) => c.req.header('x-test-cert') ?? null,
    ...extra,
  });
  cleanups.push(async () => {
    await w.app.close();
    await w.cleanup();
  });
  return w;
}

type App = { request: (input: string, init?: RequestInit) => Response | Promise<Response> };

async function api(
  app: App,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; ip?: string; cert?: string } = {},
) {
  const res = await app.request(`${ORIGIN}/api/v1${path}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.ip ? { 'x-test-client': opts.ip } : {}),
      ...(opts.cert ? { 'x-test-cert': opts.cert } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** A browser sending a client certificate fingerprint with every request. */
class CertBrowser extends Browser {
  constructor(app: App, ip: string, cert: string | null) {
    super(
      {
        request: (input, init) => {
          const headers = new Headers(init?.headers);
          if (cert) headers.set('x-test-cert', cert);
          return app.request(input, { ...init, headers });
        },
      },
      ip,
    );
  }
}

async function auditRows(w: World, action?: string) {
  const rows = await w.directory.listAudit(operator, { limit: 10_000 });
  return action ? rows.filter((r) => r.action === action) : rows;
}

describe('per-admin allowed networks', () => {
  it('an operator sets them in the form; sign-in and existing sessions from elsewhere are refused', async () => {
    const w = await setup();
    const alice = w.browser('198.51.100.20');
    expect(location(await alice.signIn('alice'))).toBe('/');
    expect((await alice.get('/d/a.example/mailboxes')).status).toBe(200);

    const root = w.browser('192.0.2.1');
    await root.signIn('root');
    const edit = await root.get('/admins/alice');
    expect(edit.status).toBe(200);
    expect(edit.text).toContain('<label for="allowedNetworks">Allowed networks</label>');
    const saved = await root.post('/admins/alice/access', {
      allowedNetworks: '192.0.2.0/24\n2001:db8::/32',
      certFingerprint: '',
    });
    expect(saved.status).toBe(303);
    expect((await w.directory.getAdmin(operator, 'alice')).allowedNetworks).toEqual([
      '192.0.2.0/24',
      '2001:db8::/32',
    ]);
    expect((await root.get('/admins/alice')).text).toContain('192.0.2.0/24\n2001:db8::/32');

    // Alice's existing session, from her (now disallowed) address: 403 on every page, session kept.
    const page = await alice.get('/d/a.example/mailboxes');
    expect(page.status).toBe(403);
    expect(page.text).toContain('may not be used from this network');
    expect(
      (await alice.post('/d/a.example/aliases', { alias: 'x', targets: 'rose.pinkcheeks' })).status,
    ).toBe(403);
    expect(
      (await w.directory.listAliases(operator, 'a.example')).some((a) => a.address === 'x@a.example'),
    ).toBe(false);
    // The same cookie from an allowed address works (a replayed cookie did not sign her out).
    const moved = w.browser('192.0.2.50');
    moved.cookie = alice.cookie;
    expect((await moved.get('/d/a.example/mailboxes')).status).toBe(200);

    // A new sign-in from elsewhere fails like a wrong password; the audit log says why.
    const elsewhere = w.browser('203.0.113.5');
    const refused = await elsewhere.signIn('alice');
    expect(refused.status).toBe(401);
    expect(refused.text).toContain('Wrong username or password');
    const [failed] = await auditRows(w, 'auth.signin-failed');
    expect(failed).toMatchObject({ actor: 'anonymous', actorFrom: '203.0.113.5', target: 'alice' });
    expect(JSON.parse(failed?.details ?? '{}')).toEqual({ reason: 'network', via: 'form' });
    expect(location(await w.browser('2001:db8::9').signIn('alice'))).toBe('/');
  });

  it('invalid networks re-render the form with a field error; nothing is saved', async () => {
    const w = await setup();
    const root = w.browser();
    await root.signIn('root');
    await root.get('/admins/alice');
    const bad = await root.post('/admins/alice/access', { allowedNetworks: '10.0.0.0/8\n10.0.0.0/33' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('id="allowedNetworks-error"');
    expect(bad.text).toContain('10.0.0.0/33');
    const badFp = await root.post('/admins/alice/access', { certFingerprint: 'not a fingerprint' });
    expect(badFp.status).toBe(400);
    expect(badFp.text).toContain('id="certFingerprint-error"');
    expect(await w.directory.getAdmin(operator, 'alice')).toMatchObject({
      allowedNetworks: [],
      certFingerprint: null,
    });
  });

  it('a token used from a disallowed address gets 403 and changes nothing', async () => {
    const w = await setup();
    const t = await api(w.app, 'POST', '/tokens', {
      body: { username: 'alice', password: PASSWORD },
      ip: '192.0.2.7',
    });
    expect(t.status).toBe(201);
    const token = t.json.token as string;
    const rootToken = (
      await api(w.app, 'POST', '/tokens', { body: { username: 'root', password: PASSWORD }, ip: '192.0.2.1' })
    ).json.token as string;
    const put = await api(w.app, 'PUT', '/admins/alice/access', {
      token: rootToken,
      ip: '192.0.2.1',
      body: { allowedNetworks: ['192.0.2.0/24'] },
    });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ username: 'alice', allowedNetworks: ['192.0.2.0/24'] });

    const before = await w.directory.listMailboxes(operator, 'a.example');
    const stolen = await api(w.app, 'POST', '/domains/a.example/mailboxes', {
      token,
      ip: '198.51.100.66',
      body: { kind: 'role', localPart: 'intruder', password: 'long enough pw' },
    });
    expect(stolen.status).toBe(403);
    expect(stolen.json.error.code).toBe('forbidden');
    expect((await api(w.app, 'GET', '/domains', { token, ip: '198.51.100.66' })).status).toBe(403);
    expect(await w.directory.listMailboxes(operator, 'a.example')).toEqual(before);
    // From inside the range, the same token works.
    expect((await api(w.app, 'GET', '/domains', { token, ip: '192.0.2.200' })).status).toBe(200);
    // A new token from outside: refused as a wrong password.
    const outside = await api(w.app, 'POST', '/tokens', {
      body: { username: 'alice', password: PASSWORD },
      ip: '198.51.100.66',
    });
    expect(outside.status).toBe(401);
  });

  it('domain admins cannot change anyone’s restrictions, their own included (403, nothing changes)', async () => {
    const w = await setup();
    await w.directory.setAdminAccess(operator, 'alice', { allowedNetworks: ['192.0.2.0/24'] });
    const before = JSON.stringify(await w.directory.listAdmins(operator));
    const alice = w.browser('192.0.2.3');
    await alice.signIn('alice');
    await alice.get('/d/a.example/mailboxes');
    for (const who of ['alice', 'bob', 'root']) {
      expect((await alice.get(`/admins/${who}`)).status).toBe(403);
      expect(
        (await alice.post(`/admins/${who}/access`, { allowedNetworks: '0.0.0.0/0', certFingerprint: '' }))
          .status,
      ).toBe(403);
    }
    const token = (
      await api(w.app, 'POST', '/tokens', {
        body: { username: 'alice', password: PASSWORD },
        ip: '192.0.2.3',
      })
    ).json.token as string;
    for (const who of ['alice', 'bob', 'root']) {
      const r = await api(w.app, 'PUT', `/admins/${who}/access`, {
        token,
        ip: '192.0.2.3',
        body: { allowedNetworks: [] },
      });
      expect(r.status).toBe(403);
      expect((await api(w.app, 'GET', `/admins/${who}`, { token, ip: '192.0.2.3' })).status).toBe(403);
    }
    expect(JSON.stringify(await w.directory.listAdmins(operator))).toBe(before);
    expect(await auditRows(w, 'admin.access')).toHaveLength(1);
  });
});

describe('pinned client certificates', () => {
  it('an admin with a fingerprint signs in and works only with that certificate', async () => {
    const w = await setup();
    await w.directory.setAdminAccess(operator, 'alice', { certFingerprint: FP_ALICE });
    expect((await new CertBrowser(w.app, '192.0.2.3', null).signIn('alice')).status).toBe(401);
    expect((await new CertBrowser(w.app, '192.0.2.3', FP_OTHER).signIn('alice')).status).toBe(401);
    const ok = new CertBrowser(w.app, '192.0.2.3', FP_ALICE);
    expect(location(await ok.signIn('alice'))).toBe('/');
    expect((await ok.get('/d/a.example/mailboxes')).status).toBe(200);
    // Her cookie on a connection with another certificate, or none: 403.
    for (const cert of [FP_OTHER, null]) {
      const thief = new CertBrowser(w.app, '192.0.2.3', cert);
      thief.cookie = ok.cookie;
      const r = await thief.get('/d/a.example/mailboxes');
      expect(r.status).toBe(403);
      expect(r.text).toContain('client certificate');
    }
    const reasons = (await auditRows(w, 'auth.signin-failed')).map(
      (r) => JSON.parse(r.details ?? '{}').reason,
    );
    expect(reasons).toEqual(['certificate', 'certificate']);
    // Other admins need none.
    expect(location(await w.browser().signIn('bob'))).toBe('/');
  });
});

describe('sessions and tokens survive a restart', () => {
  it('the same cookie and token work in a new app on the same state file; signed-out and revoked do not', async () => {
    const w = await setup();
    const stateFile = join(dirname(w.directory.options.path), 'admin-state.db');
    const secret = randomBytes(32);
    const make = () =>
      adminApp({
        directory: w.directory,
        region: 'local',
        sessionSecret: secret,
        stateFile,
        now: w.clock.now,
        clientAddress: (c) => c.req.header('x-test-client') ?? '192.0.2.10',
        logError: (err) => {
          throw err;
        },
      });
    const first = make();
    const kept = new Browser(first);
    expect(location(await kept.signIn('alice'))).toBe('/');
    const leaving = new Browser(first);
    await leaving.signIn('bob');
    const rose = new Browser(first);
    expect(location(await rose.signIn('rose.pinkcheeks@a.example'))).toBe('/me');
    const token = (await api(first, 'POST', '/tokens', { body: { username: 'root', password: PASSWORD } }))
      .json.token as string;
    const revoked = (await api(first, 'POST', '/tokens', { body: { username: 'root', password: PASSWORD } }))
      .json.token as string;
    await leaving.get('/d/b.example/mailboxes');
    const signedOutCookie = leaving.cookie;
    expect(location(await leaving.post('/logout'))).toBe('/login');
    expect((await api(first, 'DELETE', '/tokens/current', { token: revoked })).status).toBe(204);
    await first.close();

    const bytes = readFileSync(stateFile).toString('latin1');
    for (const secretValue of [token, revoked, kept.cookie?.split('=')[1]?.split('.')[0] ?? 'x']) {
      expect(bytes).not.toContain(secretValue);
    }

    w.clock.advance(10 * 60_000);
    const second = make();
    cleanups.push(() => second.close());
    const kept2 = kept.reattach(second);
    const page = await kept2.get('/d/a.example/mailboxes');
    expect(page.status).toBe(200);
    expect(page.text).toContain('rose.pinkcheeks@a.example');
    // The CSRF token is the same after the restart: a form opened before it still posts.
    expect(
      (await kept2.post('/d/a.example/aliases', { alias: 'after-restart', targets: 'rose.pinkcheeks' }))
        .status,
    ).toBe(303);
    expect((await rose.reattach(second).get('/me')).status).toBe(200);
    expect((await api(second, 'GET', '/domains', { token })).status).toBe(200);
    expect((await api(second, 'GET', '/domains', { token: revoked })).status).toBe(401);
    const gone = new Browser(second);
    gone.cookie = signedOutCookie;
    expect(location(await gone.get('/d/b.example/mailboxes'))).toBe('/login');
    // Idle timeout still holds across the restart.
    w.clock.advance(31 * 60_000);
    expect(location(await kept2.get('/d/a.example/mailboxes'))).toBe('/login');
  });
});

describe('TOTP secrets in the directory', () => {
  it('an admin enrolled in one app (region) is asked for the code by another on the same directory', async () => {
    const w = await setup();
    const b = w.browser();
    await b.signIn('alice');
    const enrol = await b.get('/me/totp');
    const key = (/<span class="secret mono">([A-Z2-7 ]+)<\/span>/.exec(enrol.text)?.[1] ?? '').replace(
      /\s+/g,
      '',
    );
    expect(key).toMatch(/^[A-Z2-7]{16,}$/);
    expect((await b.post('/me/totp', { code: totpCode(key, w.clock.now()) })).status).toBe(303);
    expect(await w.directory.adminTotpSecret('alice')).toBe(key);
    expect((await auditRows(w, 'admin.totp-on'))[0]).toMatchObject({ actor: 'domain-admin:alice' });

    const other = adminApp({
      directory: w.directory,
      region: 'other',
      sessionSecret: randomBytes(32),
      now: w.clock.now,
      clientAddress: () => '192.0.2.99',
    });
    cleanups.push(() => other.close());
    const there = new Browser(other);
    expect(location(await there.signIn('alice'))).toBe('/login/totp');
    w.clock.advance(30_000);
    await there.get('/login/totp');
    expect(location(await there.post('/login/totp', { code: totpCode(key, w.clock.now()) }))).toBe('/');
  });

  it('imports a former admin-totp.json once, then renames it', async () => {
    const w = await setup();
    const key = FederationKey.fromBytes(randomBytes(32));
    const file = join(dirname(w.directory.options.path), 'admin-totp.json');
    const old = new FileTotpStore(file, key);
    await old.set('bob', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    await old.set('gone', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ');
    await w.directory.setAdminTotpSecret(operator, 'alice', 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU');
    await old.set('alice', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    const system = { kind: 'system' as const, name: 'totp-import', from: 'local' };
    expect(await importTotpFile(file, key, w.directory, system)).toEqual(['bob']);
    expect(await w.directory.adminTotpSecret('bob')).toBe('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
    // An admin who already had one in the directory keeps it.
    expect(await w.directory.adminTotpSecret('alice')).toBe('KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU');
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.imported`)).toBe(true);
    expect(await importTotpFile(file, key, w.directory, system)).toEqual([]);
    writeFileSync(file, '{}\n');
    expect(await importTotpFile(file, key, w.directory, system)).toEqual([]);
  });
});

describe('sign-ins in the audit log', () => {
  it('records sign-ins, failures, lockouts and sign-outs with actor and address, never the password', async () => {
    const w = await setup();
    const alice = w.browser('192.0.2.44');
    await alice.signIn('alice');
    await alice.get('/me');
    await alice.post('/logout');
    const rose = w.browser('192.0.2.45');
    await rose.signIn('rose.pinkcheeks@a.example');
    const guesser = w.browser('203.0.113.99');
    for (let i = 0; i < 6; i++) await guesser.signIn('bob', `wrong password ${i}`);
    expect(guesser.last?.status).toBe(429);
    await api(w.app, 'POST', '/tokens', { body: { username: 'root', password: PASSWORD } });

    const rows = (await auditRows(w)).filter((r) => r.action.startsWith('auth.')).reverse();
    expect(rows.map((r) => [r.action, r.actor, r.actorFrom, r.target])).toEqual([
      ['auth.signin', 'domain-admin:alice', '192.0.2.44', 'alice'],
      ['auth.signout', 'domain-admin:alice', '192.0.2.44', 'alice'],
      ['auth.signin', 'mailbox:rose.pinkcheeks@a.example', '192.0.2.45', 'rose.pinkcheeks@a.example'],
      ...Array.from({ length: 5 }, () => ['auth.signin-failed', 'anonymous', '203.0.113.99', 'bob']),
      ['auth.lockout', 'anonymous', '203.0.113.99', 'bob'],
      ['auth.token', 'operator:root', '192.0.2.10', 'root'],
    ]);
    // Rose's sign-in is in her domain's log, which its admins see.
    expect(rows[2]?.domain).toBe('a.example');
    const text = JSON.stringify(await auditRows(w));
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('wrong password');
    // Operators see them on the audit page.
    const root = w.browser();
    await root.signIn('root');
    expect((await root.get('/audit')).text).toContain('auth.lockout');
  });
});
