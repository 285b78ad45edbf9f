/** The JSON API: token flow, the same permission checks as the pages, validation, OpenAPI. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryTotpStore, totpCode } from '../src/index.js';
import { apiRequest, operator, PASSWORD, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
const totpStore = new MemoryTotpStore();

beforeAll(async () => {
  w = await world({ totpStore });
  await w.directory.addForward(operator, 'old@b.example', 'old@elsewhere.example');
});
afterAll(async () => w?.cleanup());

const call = (method: string, path: string, opts: { token?: string; body?: unknown } = {}) =>
  apiRequest(w.app, method, path, opts);

async function token(username: string, extra: Record<string, string> = {}) {
  const res = await call('POST', '/tokens', { body: { username, password: PASSWORD, ...extra } });
  expect(res.status).toBe(201);
  return res.json.token as string;
}

async function snapshot() {
  return JSON.stringify({
    mailboxes: await w.directory.listMailboxes(operator, 'b.example'),
    aliases: await w.directory.listAliases(operator, 'b.example'),
    domains: await w.directory.listDomains(operator),
    admins: await w.directory.listAdmins(operator),
  });
}

describe('tokens', () => {
  it('issues a token for right credentials only, and revokes it', async () => {
    const bad = await call('POST', '/tokens', { body: { username: 'alice', password: 'wrong' } });
    expect(bad.status).toBe(401);
    expect(bad.json.error.code).toBe('unauthorized');
    expect((await call('POST', '/tokens', { body: { username: 'alice' } })).status).toBe(400);
    const t = await token('alice');
    expect(t).toMatch(/^dlg_/);
    expect((await call('GET', '/domains', { token: t })).json).toEqual([
      expect.objectContaining({ name: 'a.example', mailboxes: 2 }),
    ]);
    expect((await call('DELETE', '/tokens/current', { token: t })).status).toBe(204);
    expect((await call('GET', '/domains', { token: t })).status).toBe(401);
  });

  it('refuses calls without a valid token', async () => {
    const none = await call('GET', '/domains');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect((await call('GET', '/domains', { token: 'dlg_forged' })).status).toBe(401);
  });

  it('expires tokens after 12 hours', async () => {
    const t = await token('bob');
    w.clock.advance(11 * 3600_000);
    expect((await call('GET', '/domains', { token: t })).status).toBe(200);
    w.clock.advance(3600_000);
    expect((await call('GET', '/domains', { token: t })).status).toBe(401);
  });

  it('asks admins with two-step sign-in for a code', async () => {
    await w.directory.addAdmin(operator, {
      username: 'tina',
      role: 'domain-admin',
      domains: ['a.example'],
      password: PASSWORD,
    });
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    await totpStore.set('tina', secret);
    const noCode = await call('POST', '/tokens', { body: { username: 'tina', password: PASSWORD } });
    expect(noCode.status).toBe(401);
    expect(noCode.json.error.code).toBe('totp-required');
    await token('tina', { code: totpCode(secret, w.clock.now()) });
  });
});

describe('permissions', () => {
  it('lets an operator manage domains and admins', async () => {
    const t = await token('root');
    expect((await call('POST', '/domains', { token: t, body: { name: 'api.example' } })).status).toBe(201);
    expect((await call('POST', '/domains', { token: t, body: { name: 'api.example' } })).status).toBe(409);
    const admin = await call('POST', '/admins', {
      token: t,
      body: { username: 'zed', password: PASSWORD, role: 'domain-admin', domains: ['api.example'] },
    });
    expect(admin.status).toBe(201);
    expect(
      (await call('GET', '/admins', { token: t })).json.map((a: { username: string }) => a.username),
    ).toContain('zed');
    expect((await call('DELETE', '/admins/zed', { token: t })).status).toBe(200);
    expect((await call('DELETE', '/domains/api.example', { token: t })).status).toBe(200);
    expect((await call('GET', '/regions', { token: t })).json).toEqual([{ name: 'local', title: 'local' }]);
    expect((await call('GET', '/audit?limit=5', { token: t })).json).toHaveLength(5);
  });

  it('manages mailboxes, aliases, forwards and list aliases of the own domain', async () => {
    const t = await token('alice');
    const created = await call('POST', '/domains/a.example/mailboxes', {
      token: t,
      body: { firstName: 'Nicolò', lastName: "D'Amico" },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ address: 'nicolo.damico@a.example', kind: 'personal' });
    expect(created.json.password).toHaveLength(20);
    const detail = await call('GET', '/domains/a.example/mailboxes/nicolo.damico@a.example', { token: t });
    expect(detail.json.aliases.map((a: { address: string }) => a.address).sort()).toEqual([
      'damico@a.example',
      'n.damico@a.example',
    ]);
    const path = '/domains/a.example/mailboxes/nicolo.damico@a.example';
    expect(
      (await call('PUT', `${path}/password`, { token: t, body: { password: 'a new password' } })).status,
    ).toBe(200);
    expect(
      (await call('PUT', `${path}/expiry`, { token: t, body: { expiresOn: '2030-01-01' } })).json.expiresOn,
    ).toBe('2030-01-01');
    expect(
      (
        await call('POST', '/domains/a.example/aliases', {
          token: t,
          body: { alias: 'team', targets: ['nicolo.damico@a.example'] },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call('POST', '/domains/a.example/forwards', {
          token: t,
          body: { address: 'away', remote: 'x@remote.example' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call('POST', '/domains/a.example/lists', {
          token: t,
          body: { address: 'all', listServer: 'all@lists.example' },
        })
      ).status,
    ).toBe(201);
    expect((await call('GET', '/domains/a.example/forwards', { token: t })).json).toEqual([
      { address: 'away@a.example', kind: 'forward', targets: ['x@remote.example'], ambiguous: false },
    ]);
    for (const p of ['aliases/team@a.example', 'forwards/away@a.example', 'lists/all@a.example']) {
      expect((await call('DELETE', `/domains/a.example/${p}`, { token: t })).status).toBe(200);
    }
    expect((await call('DELETE', path, { token: t })).json).toMatchObject({ purged: false });
    const list = await call('GET', '/domains/a.example/mailboxes?q=nicolo', { token: t });
    expect(list.json.mailboxes[0].state).toBe('removed');
  });

  it('validates bodies and says which field is wrong', async () => {
    const t = await token('alice');
    const res = await call('POST', '/domains/a.example/mailboxes', {
      token: t,
      body: { kind: 'robot', expiresOn: 'soon' },
    });
    expect(res.status).toBe(400);
    expect(Object.keys(res.json.error.fields).sort()).toEqual(['expiresOn', 'kind']);
    const notJson = await w.app.request('https://admin.test/api/v1/domains/a.example/aliases', {
      method: 'POST',
      headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
      body: '{',
    });
    expect(notJson.status).toBe(400);
    const dirInvalid = await call('POST', '/domains/a.example/mailboxes', {
      token: t,
      body: { kind: 'personal' },
    });
    expect(dirInvalid.status).toBe(400);
    expect(dirInvalid.json.error.code).toBe('invalid');
  });

  it('refuses a domain admin everything about another domain and operator resources (403, nothing changed)', async () => {
    const t = await token('alice');
    const before = await snapshot();
    const attempts: Array<[string, string, unknown?]> = [
      ['GET', '/domains/b.example/mailboxes'],
      ['GET', '/domains/b.example/mailboxes/mario.rossi@b.example'],
      ['GET', '/domains/a.example/mailboxes/mario.rossi@b.example'],
      ['POST', '/domains/b.example/mailboxes', { firstName: 'Eve', lastName: 'X', password: PASSWORD }],
      ['DELETE', '/domains/b.example/mailboxes/mario.rossi@b.example'],
      ['DELETE', '/domains/a.example/mailboxes/mario.rossi@b.example'],
      ['PUT', '/domains/b.example/mailboxes/mario.rossi@b.example/password', { password: 'owned by eve' }],
      ['PUT', '/domains/b.example/mailboxes/mario.rossi@b.example/expiry', { expiresOn: '2020-01-01' }],
      ['GET', '/domains/b.example/aliases'],
      ['POST', '/domains/b.example/aliases', { alias: 'x', targets: ['mario.rossi@b.example'] }],
      [
        'POST',
        '/domains/a.example/aliases',
        { alias: 'x@b.example', targets: ['rose.pinkcheeks@a.example'] },
      ],
      ['POST', '/domains/b.example/forwards', { address: 'x', remote: 'x@remote.example' }],
      ['POST', '/domains/b.example/lists', { address: 'x', listServer: 'x@lists.example' }],
      ['DELETE', '/domains/b.example/forwards/old@b.example'],
      ['DELETE', '/domains/b.example/aliases/rossi@b.example'],
      ['POST', '/domains', { name: 'evil.example' }],
      ['DELETE', '/domains/b.example?force=true'],
      ['GET', '/admins'],
      ['POST', '/admins', { username: 'eve', password: PASSWORD, role: 'operator' }],
      ['DELETE', '/admins/bob'],
      ['GET', '/audit'],
      ['GET', '/audit?domain=b.example'],
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(method, path, { token: t, ...(body !== undefined ? { body } : {}) });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json.error.code).toBe('forbidden');
    }
    expect(await snapshot()).toBe(before);
    expect((await call('GET', '/audit?domain=a.example', { token: t })).status).toBe(200);
  });

  it('answers unknown endpoints with a JSON 404', async () => {
    const res = await call('GET', '/nope');
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('not-found');
  });
});

describe('OpenAPI', () => {
  it('describes every route as OpenAPI 3.1 with schemas generated from zod', async () => {
    const res = await call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.json;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/tokens',
        '/domains',
        '/domains/{domain}',
        '/admins',
        '/admins/{username}',
        '/regions',
        '/audit',
        '/domains/{domain}/mailboxes',
        '/domains/{domain}/mailboxes/{address}',
        '/domains/{domain}/mailboxes/{address}/password',
        '/domains/{domain}/mailboxes/{address}/expiry',
        '/domains/{domain}/aliases',
        '/domains/{domain}/forwards',
        '/domains/{domain}/lists',
        '/domains/{domain}/lists/{address}',
      ]),
    );
    expect(doc.components.schemas.NewMailbox.properties.kind.enum).toEqual(['personal', 'role']);
    expect(doc.components.schemas.NewAdmin.required).toEqual(
      expect.arrayContaining(['username', 'password', 'role']),
    );
    // Every $ref resolves.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([A-Za-z]+)"/g)].map(
      (m) => m[1],
    );
    for (const r of refs) expect(doc.components.schemas[r ?? '']).toBeDefined();
  });
});
