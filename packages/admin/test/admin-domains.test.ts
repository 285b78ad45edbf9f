/** The operator changes a domain administrator's domains in the UI (issue 19); nobody else can. */
import { afterEach, describe, expect, it } from 'vitest';
import { location, operator, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>> | undefined;
afterEach(async () => {
  await w?.cleanup();
  w = undefined;
});

describe("an administrator's domains", () => {
  it('are set by an operator, with or without sub-domains; a domain admin gets 403', async () => {
    w = await world();
    await w.directory.addDomain(operator, 'lab.b.example');
    const root = w.browser();
    await root.signIn('root');
    const page = await root.get('/admins/alice/domains');
    expect(page.status).toBe(200);
    expect(page.text).toContain('With sub-domains');
    const res = await root.post('/admins/alice/domains', {
      domains: ['a.example', 'b.example'],
      withSubdomains: ['b.example'],
    });
    expect(res.status).toBe(303);
    expect(location(res)).toBe('/admins/alice');
    const actor = await w.directory.actorForAdmin('alice', '127.0.0.1');
    expect(actor).toMatchObject({ domains: ['a.example', 'b.example', 'lab.b.example'] });
    const shown = await root.get('/admins/alice/domains');
    expect(shown.text).toMatch(/name="withSubdomains" value="b\.example" checked=""/);

    const alice = w.browser();
    await alice.signIn('alice');
    await alice.get('/me');
    expect((await alice.get('/admins/bob/domains')).status).toBe(403);
    expect((await alice.post('/admins/alice/domains', { domains: ['a.example', 'b.example'] })).status).toBe(
      403,
    );
    // She now manages the sub-domain's pages.
    expect((await alice.get('/d/lab.b.example/mailboxes')).status).toBe(200);
  });
});

describe('the address lists', () => {
  it('search, filter the ambiguous ones and page (the add form stays in reach)', async () => {
    w = await world();
    for (let i = 0; i < 60; i++) {
      await w.directory.addAlias(operator, `team${String(i).padStart(2, '0')}@a.example`, [
        'rose.pinkcheeks@a.example',
      ]);
    }
    const b = w.browser();
    await b.signIn('alice');
    const first = await b.get('/d/a.example/aliases');
    expect(first.text).toContain('Page 1 of 2');
    expect(first.text).toContain('Add an alias');
    expect(first.text).not.toContain('team59@a.example');
    const second = await b.get('/d/a.example/aliases?page=2');
    expect(second.text).toContain('team59@a.example');
    const found = await b.get('/d/a.example/aliases?q=team07');
    expect(found.text).toContain('team07@a.example');
    expect(found.text).toContain('1 found');
    expect(found.text).not.toContain('team08@a.example');
  });
});

describe("a domain's limits", () => {
  it('are set by an operator on their page and hold for the domain admin; others get 403', async () => {
    w = await world();
    const root = w.browser();
    await root.signIn('root');
    expect((await root.get('/domains')).text).toContain('href="/domains/a.example/limits"');
    const page = await root.get('/domains/a.example/limits');
    expect(page.text).toContain('Now: 1 mailboxes');
    const bad = await root.post('/domains/a.example/limits', { maxMailboxes: '0', maxQuota: '' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('already has 1 mailboxes');
    const ok = await root.post('/domains/a.example/limits', { maxMailboxes: '1', maxQuota: '1G' });
    expect(ok.status).toBe(303);
    expect(await w.directory.domainLimits(operator, 'a.example')).toMatchObject({
      maxMailboxes: 1,
      maxQuotaBytes: 1024 ** 3,
    });
    const alice = w.browser();
    await alice.signIn('alice');
    await alice.get('/me');
    expect((await alice.get('/domains/a.example/limits')).status).toBe(403);
    expect((await alice.post('/domains/a.example/limits', { maxMailboxes: '99', maxQuota: '' })).status).toBe(
      403,
    );
    const refused = await alice.post('/d/a.example/mailboxes', {
      kind: 'role',
      email: 'desk',
      password: 'Green-Lamp-Post-9',
      quota: '10M',
    });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('may have at most 1 mailboxes');
  });
});
