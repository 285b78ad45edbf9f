/**
 * Authorization: a domain admin of a.example can do nothing to b.example, through any route (403 and
 * nothing changed), nor reach operator pages; forms without the CSRF token or from another origin are
 * refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operator, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;

beforeAll(async () => {
  w = await world();
  await w.directory.addForward(operator, 'old@b.example', 'old@elsewhere.example');
  await w.directory.addListAlias(operator, 'staff@b.example', 'staff@lists.example');
  await w.directory.addAlias(operator, 'info@b.example', ['mario.rossi@b.example']);
});
afterAll(async () => w?.cleanup());

/** Everything an attack on b.example could change, plus the audit log's length. */
async function snapshot() {
  return JSON.stringify({
    mailboxes: await w.directory.listMailboxes(operator, 'b.example'),
    aliases: await w.directory.listAliases(operator, 'b.example'),
    domains: await w.directory.listDomains(operator),
    admins: await w.directory.listAdmins(operator),
    // Sign-ins are in the audit log too (`auth.*`), but they are not changes.
    audit: (await w.directory.listAudit(operator, { limit: 10_000 })).filter(
      (r) => !r.action.startsWith('auth.'),
    ).length,
  });
}

const MARIO = 'mario.rossi%40b.example';
const mutating: Array<[string, Record<string, string>]> = [
  ['/d/b.example/mailboxes', { firstName: 'Eve', lastName: 'Intruder', password: 'long enough pw' }],
  [`/d/b.example/mailboxes/${MARIO}/remove`, {}],
  [`/d/b.example/mailboxes/${MARIO}/remove`, { purge: 'yes' }],
  [`/d/b.example/mailboxes/${MARIO}/password`, { newPassword: 'owned by eve!' }],
  [`/d/b.example/mailboxes/${MARIO}/expiry`, { expiresOn: '2020-01-01' }],
  [`/d/a.example/mailboxes/${MARIO}/remove`, {}],
  [`/d/a.example/mailboxes/${MARIO}/password`, { newPassword: 'owned by eve!' }],
  [`/d/a.example/mailboxes/${MARIO}/expiry`, { expiresOn: '2020-01-01' }],
  ['/d/b.example/forwards', { address: 'x', remote: 'x@elsewhere.example' }],
  ['/d/b.example/aliases', { alias: 'x', targets: 'mario.rossi@b.example' }],
  ['/d/b.example/lists', { address: 'x', listServer: 'x@lists.example' }],
  ['/d/a.example/aliases', { alias: 'x@b.example', targets: 'rose.pinkcheeks@a.example' }],
  ['/d/a.example/forwards', { address: 'y@b.example', remote: 'y@elsewhere.example' }],
  ['/d/a.example/lists', { address: 'z@b.example', listServer: 'z@lists.example' }],
  ['/d/b.example/forwards/old%40b.example/remove', {}],
  ['/d/b.example/lists/staff%40b.example/remove', {}],
  ['/d/b.example/aliases/info%40b.example/remove', {}],
  ['/d/b.example/aliases/rossi%40b.example/remove', {}],
  ['/d/a.example/aliases/info%40b.example/remove', {}],
  ['/domains', { domain: 'c.example', region: 'local' }],
  ['/domains/b.example/remove', { force: 'yes' }],
  ['/admins', { username: 'eve', password: 'long enough pw', role: 'operator' }],
  ['/admins/bob/remove', {}],
];

describe('a domain admin of a.example', () => {
  it.each(mutating)('POST %s → 403, nothing changed', async (path, fields) => {
    const alice = w.browser();
    await alice.signIn('alice');
    await alice.get('/d/a.example/mailboxes');
    const before = await snapshot();
    const res = await alice.post(path, fields);
    expect(res.status).toBe(403);
    // Refused by the scope check, not by CSRF.
    expect(res.text).toMatch(/may not|for operators/);
    expect(await snapshot()).toBe(before);
  });

  it.each([
    '/d/b.example/mailboxes',
    '/d/b.example/mailboxes/new',
    `/d/b.example/mailboxes/${MARIO}`,
    `/d/b.example/mailboxes/${MARIO}/setup`,
    `/d/a.example/mailboxes/${MARIO}`,
    `/d/a.example/mailboxes/${MARIO}/setup`,
    '/d/b.example/forwards',
    '/d/b.example/aliases',
    '/d/b.example/lists',
    '/d/b.example/audit',
    '/domains',
    '/admins',
    '/regions',
    '/audit',
    '/audit?domain=b.example',
  ])('GET %s → 403', async (path) => {
    const alice = w.browser();
    await alice.signIn('alice');
    const res = await alice.get(path);
    expect(res.status).toBe(403);
    expect(res.text).not.toContain('mario.rossi@b.example');
  });

  it('never sees b.example in its pages', async () => {
    const alice = w.browser();
    await alice.signIn('alice');
    for (const path of ['/d/a.example/mailboxes', '/d/a.example/aliases', '/me', '/help']) {
      const res = await alice.get(path);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain('b.example');
      expect(res.text).not.toContain('href="/domains"');
    }
  });

  it('sees a domain selector only with several domains', async () => {
    await w.directory.addAdmin(operator, {
      username: 'carol',
      role: 'domain-admin',
      domains: ['a.example', 'b.example'],
      password: 'correct horse battery',
    });
    const carol = w.browser();
    await carol.signIn('carol');
    const page = await carol.get('/d/b.example/mailboxes');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<select id="domain-select" name="domain">');
    expect(page.text).toContain('<option value="b.example" selected="">b.example</option>');
    const go = await carol.get('/go?domain=a.example');
    expect(go.headers.get('location')).toBe('/d/a.example/mailboxes');
    const alice = w.browser();
    await alice.signIn('alice');
    expect((await alice.get('/d/a.example/mailboxes')).text).not.toContain('domain-select');
  });
});

describe('CSRF', () => {
  it('refuses a form POST without the token, with a wrong one, or from another origin', async () => {
    const root = w.browser();
    await root.signIn('root');
    await root.get('/domains');
    const before = await snapshot();
    const fields = { domain: 'csrf.example', region: 'local' };
    expect((await root.post('/domains', fields, { csrf: null })).status).toBe(403);
    expect((await root.post('/domains', fields, { csrf: 'x'.repeat(43) })).status).toBe(403);
    expect((await root.post('/domains', fields, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await root.post('/domains', fields, { origin: null })).status).toBe(403);
    expect((await root.post('/admins/bob/remove', {}, { csrf: null })).status).toBe(403);
    expect(await snapshot()).toBe(before);
    // Another session's token is no good either.
    const alice = w.browser();
    await alice.signIn('alice');
    await alice.get('/d/a.example/mailboxes');
    expect((await root.post('/domains', fields, { csrf: alice.csrf })).status).toBe(403);
    expect(await snapshot()).toBe(before);
    // With everything right it works.
    expect((await root.post('/domains', fields)).status).toBe(303);
    await w.directory.removeDomain(operator, 'csrf.example');
  });

  it('refuses the login form without the token', async () => {
    const b = w.browser();
    await b.get('/login');
    expect(
      (await b.post('/login', { username: 'root', password: 'correct horse battery' }, { csrf: null }))
        .status,
    ).toBe(403);
    const fresh = w.browser();
    expect((await fresh.post('/login', { username: 'root', password: 'correct horse battery' })).status).toBe(
      403,
    );
  });

  it('sends a strict CSP without scripts on every page', async () => {
    const res = await w.app.request('https://admin.test/login');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('script-src');
    expect(await res.text()).not.toContain('<script');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });
});
