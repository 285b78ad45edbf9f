/** The pages and forms: what a domain administrator and an operator do, and what they see. */
import { afterEach, describe, expect, it } from 'vitest';
import { location, operator, PASSWORD, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
afterEach(async () => w?.cleanup());

async function asAlice() {
  const b = w.browser();
  await b.signIn('alice');
  await b.get('/d/a.example/mailboxes/new');
  return b;
}

describe('local mailboxes', () => {
  it('has the "add user" form of docs/background.md, with exact labels', async () => {
    w = await world();
    const b = await asAlice();
    const page = await b.get('/d/a.example/mailboxes/new');
    for (const [id, label] of [
      ['firstName', 'First name'],
      ['lastName', 'Last name'],
      ['username', 'Username'],
      ['group', 'Group'],
      ['password', 'Password'],
      ['kind-personal', 'Personal'],
      ['kind-role', 'Role'],
      ['email', 'E-mail'],
      ['expiresOn', 'Expiration date'],
      ['contact', 'Contact person'],
      ['flag', 'Flag'],
    ]) {
      expect(page.text).toContain(`<label for="${id}">${label}</label>`);
      expect(page.text).toContain(`id="${id}"`);
    }
    expect(page.text).toContain('<button type="submit">Add user</button>');
  });

  it('adds a person and shows the official address and aliases (fig. 3), ambiguous ones marked', async () => {
    w = await world();
    const b = await asAlice();
    const res = await b.post('/d/a.example/mailboxes', {
      firstName: 'Robert',
      lastName: 'Pinkcheeks',
      kind: 'personal',
      group: 'IAT',
      expiresOn: '2027-06-30',
      contact: 'Laura Abba',
    });
    expect(res.status).toBe(303);
    // The set-up sheet comes right after "Add user"; the mailbox page is one link away.
    expect(location(res)).toBe('/d/a.example/mailboxes/robert.pinkcheeks@a.example/setup');
    const sheet = await b.get(location(res) ?? '');
    expect(sheet.text).toContain('E-mail settings for robert.pinkcheeks@a.example');
    const page = await b.get('/d/a.example/mailboxes/robert.pinkcheeks@a.example');
    expect(page.status).toBe(200);
    expect(page.text).toContain(
      '<a href="mailto:robert.pinkcheeks@a.example">robert.pinkcheeks@a.example</a>',
    );
    expect(page.text).toContain('Official e-mail address');
    expect(page.text).toMatch(
      /r\.pinkcheeks@a\.example<\/a> <span class="tag warn">ambiguous: also rose\.pinkcheeks@a\.example/,
    );
    expect(page.text).toMatch(/>pinkcheeks@a\.example<\/a> <span class="tag warn">ambiguous/);
    expect(page.text).toContain('2027-06-30');
    expect(page.text).toContain('Laura Abba');
    expect(page.text).toContain('/mailboxes/robert.pinkcheeks@a.example/setup');
    // A password was made up and is shown once, on the set-up sheet (on screen, not in print).
    const secret = /<p class="secret">([^<]+)<\/p>/.exec(sheet.text)?.[1] ?? '';
    expect(secret).toHaveLength(20);
    expect(await w.directory.authenticateMailbox('robert.pinkcheeks@a.example', secret)).not.toBeNull();
    expect(page.text).not.toContain(secret);
    expect((await b.get(location(res) ?? '')).text).not.toContain(secret);
    // Rose's page now shows the ambiguity too.
    const rose = await b.get('/d/a.example/mailboxes/rose.pinkcheeks%40a.example');
    expect(rose.text).toContain('ambiguous: also robert.pinkcheeks@a.example');
  });

  it('refuses a password with the person’s name or a common one, saying why beside the field', async () => {
    w = await world();
    const b = await asAlice();
    const named = await b.post('/d/a.example/mailboxes', {
      firstName: 'Robert',
      lastName: 'Pinkcheeks',
      kind: 'personal',
      password: 'Robert-Secret-1',
    });
    expect(named.status).toBe(400);
    expect(named.text).toContain(
      'the password must not contain the name, username or address (&quot;robert&quot;)',
    );
    const common = await b.post('/d/a.example/mailboxes', {
      firstName: 'Robert',
      lastName: 'Pinkcheeks',
      kind: 'personal',
      password: 'Password123',
    });
    expect(common.status).toBe(400);
    expect(common.text).toContain('one of the most common passwords');
    expect(await w.directory.resolveLogin('robert.pinkcheeks@a.example')).toBeNull();
    const own = await b.post('/d/a.example/mailboxes/rose.pinkcheeks%40a.example/password', {
      newPassword: 'Pinkcheeks-2026',
    });
    expect(own.status).toBe(400);
    expect(own.text).toContain('(&quot;pinkcheeks&quot;)');
  });

  it('adds a role mailbox with its typed address', async () => {
    w = await world();
    const b = await asAlice();
    const res = await b.post('/d/a.example/mailboxes', {
      kind: 'role',
      email: 'helpdesk',
      password: PASSWORD,
    });
    expect(location(res)).toBe('/d/a.example/mailboxes/helpdesk@a.example/setup');
    expect(await w.directory.authenticateMailbox('helpdesk@a.example', PASSWORD)).not.toBeNull();
  });

  it('re-renders the form with field errors, keeping what was typed but never the password', async () => {
    w = await world();
    const b = await asAlice();
    let res = await b.post('/d/a.example/mailboxes', {
      firstName: 'Anna',
      lastName: '',
      kind: 'personal',
      password: 'short',
      expiresOn: '31/12/2026',
      group: 'Lab',
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('Last name is required');
    expect(res.text).toContain('Password must have at least 8 characters');
    expect(res.text).toContain('Use a date like 2026-12-31');
    expect(res.text).toContain('id="lastName-error"');
    expect(res.text).toContain('aria-invalid="true"');
    expect(res.text).toContain('value="Anna"');
    expect(res.text).toContain('value="Lab"');
    expect(res.text).not.toContain('value="short"');

    res = await b.post('/d/a.example/mailboxes', { kind: 'role', email: '' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('A role address needs its e-mail address');
    expect(res.text).toMatch(/id="kind-role" name="kind" value="role" checked=""/);

    // The directory's own checks come back in the form too.
    res = await b.post('/d/a.example/mailboxes', {
      firstName: 'Rose',
      lastName: 'Pinkcheeks',
      kind: 'personal',
    });
    expect(res.status).toBe(409);
    expect(res.text).toContain('rose.pinkcheeks@a.example already exists');
    expect(res.text).toContain('type another address in E-mail, for example rose.pinkcheeks2');
    expect(res.text).toContain('id="email-error"');
    res = await b.post('/d/a.example/mailboxes', { kind: 'role', email: 'bad address!' });
    expect(res.status).toBe(400);
    res = await b.post('/d/a.example/mailboxes', { kind: 'role', email: 'x@b.example' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('The address must end in @a.example');
    expect((await w.directory.listMailboxes(operator, 'a.example')).total).toBe(2);
  });

  it('escapes HTML in names and notes everywhere', async () => {
    w = await world();
    const b = await asAlice();
    const evil = '<script>alert(1)</script>';
    const res = await b.post('/d/a.example/mailboxes', {
      firstName: `Eve${evil}`,
      lastName: 'Smith',
      kind: 'personal',
      contact: '"><img src=x onerror=alert(1)>',
      flag: evil,
      group: 'G',
      password: PASSWORD,
    });
    expect(res.status).toBe(303);
    const detailPath = (location(res) ?? '').replace(/\/setup$/, '');
    for (const path of [location(res) ?? '', detailPath, '/d/a.example/mailboxes', '/d/a.example/audit']) {
      const page = await b.get(path);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain('<script>alert(1)');
      expect(page.text).not.toContain('<img src=x');
    }
    const detail = await b.get(detailPath);
    expect(detail.text).toContain('Eve&lt;script&gt;alert(1)&lt;/script&gt; Smith');
    expect(detail.text).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    // A validation error page echoes the input escaped too.
    const again = await b.post('/d/a.example/mailboxes', { firstName: evil, kind: 'personal' });
    expect(again.status).toBe(400);
    expect(again.text).not.toContain('<script>alert(1)');
    expect(again.text).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  it('searches and pages the list', async () => {
    w = await world();
    for (let i = 0; i < 55; i++) {
      await w.directory.addMailbox(operator, {
        domain: 'a.example',
        kind: 'role',
        localPart: `room${String(i).padStart(2, '0')}`,
      });
    }
    const b = await asAlice();
    const first = await b.get('/d/a.example/mailboxes');
    expect(first.text).toContain('57 mailboxes');
    expect(first.text).toContain('Page 1 of 2');
    expect(first.text).toContain('href="/d/a.example/mailboxes?page=2"');
    const second = await b.get('/d/a.example/mailboxes?page=2');
    expect(second.text).toContain('rose.pinkcheeks@a.example');
    const search = await b.get('/d/a.example/mailboxes?q=pink');
    expect(search.text).toContain('1 mailboxes found');
    expect(search.text).toContain('rose.pinkcheeks@a.example');
    expect(search.text).not.toContain('room00@');
  });

  it('sets a password and an expiration date, with errors shown next to the field', async () => {
    w = await world();
    const b = await asAlice();
    const base = '/d/a.example/mailboxes/rose.pinkcheeks%40a.example';
    await b.get(base);
    expect((await b.post(`${base}/password`, { newPassword: 'brand new secret' })).status).toBe(303);
    expect(
      await w.directory.authenticateMailbox('rose.pinkcheeks@a.example', 'brand new secret'),
    ).not.toBeNull();
    const short = await b.post(`${base}/password`, { newPassword: 'x' });
    expect(short.status).toBe(400);
    expect(short.text).toContain('id="newPassword-error"');

    await b.get(base);
    expect((await b.post(`${base}/expiry`, { expiresOn: '2026-12-31' })).status).toBe(303);
    let mb = (await w.directory.listMailboxes(operator, 'a.example', { search: 'rose' })).mailboxes[0];
    expect(mb?.expiresOn).toBe('2026-12-31');
    const bad = await b.post(`${base}/expiry`, { expiresOn: '2026-02-30' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('no such day');
    await b.get(base);
    expect((await b.post(`${base}/expiry`, { expiresOn: '' })).status).toBe(303);
    mb = (await w.directory.listMailboxes(operator, 'a.example', { search: 'rose' })).mailboxes[0];
    expect(mb?.expiresOn).toBeNull();
  });

  it('removes a mailbox and signs its user out', async () => {
    w = await world();
    const rose = w.browser();
    await rose.signIn('rose.pinkcheeks@a.example');
    expect((await rose.get('/me')).status).toBe(200);
    const b = await asAlice();
    // First the confirmation step, naming what will be lost; nothing is removed yet.
    const confirm = await b.get('/d/a.example/mailboxes/rose.pinkcheeks%40a.example/remove');
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('What will be lost:');
    expect(confirm.text).toContain('r.pinkcheeks@a.example');
    expect(confirm.text).toContain('class="flash flash-warn"');
    expect((await rose.get('/me')).status).toBe(200);
    const res = await b.post('/d/a.example/mailboxes/rose.pinkcheeks%40a.example/remove', {
      confirmed: 'yes',
    });
    expect(res.status).toBe(303);
    expect(location(res)).toBe('/d/a.example/mailboxes');
    const list = await b.get('/d/a.example/mailboxes');
    expect(list.text).toContain('removed. Its mail is kept until');
    expect(list.text).toContain('<span class="tag bad">removed</span>');
    expect(location(await rose.get('/me'))).toBe('/login');
    // postmaster@ cannot be removed: 409 from the directory, shown as a page.
    await b.get('/d/a.example/mailboxes');
    const pm = await b.post('/d/a.example/mailboxes/postmaster%40a.example/remove');
    expect(pm.status).toBe(409);
    expect(pm.text).toContain('every domain must accept postmaster@');
  });

  it("prints a set-up sheet with the domain's server names and the configured ports", async () => {
    w = await world({
      ports: { imap: 2143, imaps: 2993, pop3: 2110, pop3s: 2995, submission: 2587, submissions: 2465 },
    });
    const b = await asAlice();
    const sheet = await b.get('/d/a.example/mailboxes/rose.pinkcheeks%40a.example/setup');
    expect(sheet.status).toBe(200);
    for (const s of [
      'imap.a.example',
      'pop.a.example',
      'smtp.a.example',
      '2993, SSL/TLS',
      '2143, STARTTLS',
      '2995',
      '2110',
      '2465',
      '2587',
    ]) {
      expect(sheet.text).toContain(s);
    }
    for (const s of ['Thunderbird', 'Outlook', 'Apple Mail', 'Phone or tablet'])
      expect(sheet.text).toContain(s);
    expect(sheet.text).toContain('class="printable"');
    const css = await w.app.request('https://admin.test/assets/admin.css');
    expect(await css.text()).toMatch(/@media print[\s\S]*@page \{ size: A4/);
  });
});

describe('aliases, forwards, list aliases', () => {
  it('adds and removes an alias with several targets; ambiguous aliases listed with candidates', async () => {
    w = await world();
    await w.directory.addMailbox(operator, {
      domain: 'a.example',
      kind: 'personal',
      firstName: 'Rita',
      lastName: 'Pinkcheeks',
    });
    const b = await asAlice();
    const page = await b.get('/d/a.example/aliases');
    expect(page.text).toContain('<label for="alias">Alias</label>');
    expect(page.text).toContain('<label for="targets">Targets</label>');
    expect(page.text).toMatch(/r\.pinkcheeks@a\.example<\/td><td><span class="tag warn">ambiguous<\/span>/);
    expect(page.text).toContain('Candidates: </span>rose.pinkcheeks@a.example, rita.pinkcheeks@a.example');
    const res = await b.post('/d/a.example/aliases', {
      alias: 'info',
      targets: 'rose.pinkcheeks\nfriend@remote.example',
    });
    expect(res.status).toBe(303);
    const aliases = await w.directory.listAliases(operator, 'a.example', { kinds: ['manual'] });
    expect(aliases).toEqual([
      {
        address: 'info@a.example',
        kind: 'manual',
        targets: ['rose.pinkcheeks@a.example', 'friend@remote.example'],
        ambiguous: false,
      },
    ]);
    const bad = await b.post('/d/a.example/aliases', { alias: 'sales', targets: 'pinkcheeks' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('id="targets-error"');
    expect(bad.text).toContain('ambiguous');
    const empty = await b.post('/d/a.example/aliases', { alias: '', targets: '' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Alias is required');
    await b.get('/d/a.example/aliases');
    expect((await b.post('/d/a.example/aliases/info%40a.example/remove')).status).toBe(303);
    expect(await w.directory.listAliases(operator, 'a.example', { kinds: ['manual'] })).toEqual([]);
  });

  it('adds and removes an address for a remote mailbox', async () => {
    w = await world();
    const b = await asAlice();
    const page = await b.get('/d/a.example/forwards');
    expect(page.text).toContain('<label for="address">Address</label>');
    expect(page.text).toContain('<label for="remote">Remote address</label>');
    expect(
      (await b.post('/d/a.example/forwards', { address: 'anna.verdi', remote: 'anna@old.example' })).status,
    ).toBe(303);
    const list = await b.get('/d/a.example/forwards');
    expect(list.text).toContain('anna.verdi@a.example');
    expect(list.text).toContain('anna@old.example');
    const dup = await b.post('/d/a.example/forwards', { address: 'anna.verdi', remote: 'anna@old.example' });
    expect(dup.status).toBe(409);
    expect(dup.text).toContain('id="address-error"');
    const local = await b.post('/d/a.example/forwards', {
      address: 'x',
      remote: 'rose.pinkcheeks@a.example',
    });
    expect(local.status).toBe(400);
    expect(local.text).toContain('id="remote-error"');
    await b.get('/d/a.example/forwards');
    expect((await b.post('/d/a.example/forwards/anna.verdi%40a.example/remove')).status).toBe(303);
    expect(await w.directory.listAliases(operator, 'a.example', { kinds: ['forward'] })).toEqual([]);
  });

  it('adds and removes a distribution-list alias', async () => {
    w = await world();
    const b = await asAlice();
    const page = await b.get('/d/a.example/lists');
    expect(page.text).toContain('<label for="listServer">List server address</label>');
    expect(
      (await b.post('/d/a.example/lists', { address: 'staff', listServer: 'staff@lists.example' })).status,
    ).toBe(303);
    expect((await w.directory.listAliases(operator, 'a.example', { kinds: ['list'] }))[0]?.targets).toEqual([
      'staff@lists.example',
    ]);
    await b.get('/d/a.example/lists');
    expect((await b.post('/d/a.example/lists/staff%40a.example/remove')).status).toBe(303);
    expect(await w.directory.listAliases(operator, 'a.example', { kinds: ['list'] })).toEqual([]);
  });
});

describe('operator pages', () => {
  it('adds a domain, refuses a bad one, and removes one only with the confirmation when it has mailboxes', async () => {
    w = await world();
    const b = w.browser();
    await b.signIn('root');
    const page = await b.get('/domains');
    expect(page.text).toContain('<label for="domain">Domain</label>');
    expect(page.text).toContain('<label for="region">Region</label>');
    expect(page.text).toContain('<button type="submit">Add domain</button>');
    expect((await b.post('/domains', { domain: 'C.Example', region: 'local' })).status).toBe(303);
    expect((await b.get('/domains')).text).toContain('Domain c.example added');
    const bad = await b.post('/domains', { domain: 'not a domain', region: 'local' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('id="domain-error"');
    const dup = await b.post('/domains', { domain: 'c.example', region: 'local' });
    expect(dup.status).toBe(409);
    expect((await b.post('/domains', { domain: 'd.example', region: 'nowhere' })).status).toBe(404);

    await b.get('/domains');
    expect((await b.post('/domains/c.example/remove')).status).toBe(303);
    const refused = await b.post('/domains/a.example/remove');
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('still has 1 mailbox');
    await b.get('/domains');
    expect((await b.post('/domains/a.example/remove', { force: 'yes' })).status).toBe(303);
    expect((await w.directory.listDomains(operator)).map((d) => d.name)).toEqual(['b.example']);
  });

  it('adds and removes administrators, with field errors', async () => {
    w = await world();
    const b = w.browser();
    await b.signIn('root');
    const page = await b.get('/admins');
    for (const l of ['Username', 'Password', 'Role', 'Domains'])
      expect(page.text).toMatch(new RegExp(`<label for="[a-z]+">${l}</label>`));
    expect(page.text).toContain('<option value="operator">Operator</option>');
    expect(page.text).toContain('<button type="submit">Add administrator</button>');
    const missing = await b.post('/admins', { username: 'dave', password: PASSWORD, role: 'domain-admin' });
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('Choose at least one domain');
    const ok = await b.post('/admins', {
      username: 'dave',
      password: PASSWORD,
      role: 'domain-admin',
      domains: ['a.example', 'b.example'],
    });
    expect(ok.status).toBe(303);
    expect((await w.directory.listAdmins(operator)).find((a) => a.username === 'dave')?.domains).toEqual([
      'a.example',
      'b.example',
    ]);
    const dup = await b.post('/admins', { username: 'dave', password: PASSWORD, role: 'operator' });
    expect(dup.status).toBe(409);
    await b.get('/admins');
    expect((await b.post('/admins/dave/remove')).status).toBe(303);
    expect((await w.directory.listAdmins(operator)).some((a) => a.username === 'dave')).toBe(false);
  });

  it('shows regions and an audit log with who changed what from where', async () => {
    w = await world();
    const alice = await asAlice();
    await alice.post('/d/a.example/lists', { address: 'staff', listServer: 'staff@lists.example' });
    const b = w.browser('203.0.113.77');
    await b.signIn('root');
    expect((await b.get('/regions')).text).toContain('this appliance');
    const audit = await b.get('/audit');
    // In plain words: what, by whom, from where (the raw action and details one click away).
    expect(audit.text).toMatch(
      /Distribution list staff@a\.example added by alice<span class="muted"> · a\.example<\/span><\/td><td class="mono">192\.0\.2\.10<\/td>/,
    );
    expect(audit.text).toContain('Rose Pinkcheeks added by root');
    const mine = await alice.get('/d/a.example/audit');
    expect(mine.text).toContain('Distribution list staff@a.example added by alice');
    expect(mine.text).not.toContain('b.example');
  });
});

describe('self-service and help', () => {
  it('lets an end user change their password and see their set-up sheet', async () => {
    w = await world();
    const rose = w.browser();
    await rose.signIn('rose.pinkcheeks@a.example');
    const me = await rose.get('/me');
    expect(me.text).toContain('<label for="currentPassword">Current password</label>');
    expect(me.text).toContain('<label for="newPassword">New password</label>');
    const wrong = await rose.post('/me/password', { currentPassword: 'nope', newPassword: 'another secret' });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('That is not your current password.');
    const ok = await rose.post('/me/password', { currentPassword: PASSWORD, newPassword: 'another secret' });
    expect(ok.status).toBe(303);
    expect(
      await w.directory.authenticateMailbox('rose.pinkcheeks@a.example', 'another secret'),
    ).not.toBeNull();
    const audit = await w.directory.listAudit(operator, { domain: 'a.example', limit: 1 });
    expect(audit[0]).toMatchObject({
      action: 'mailbox.passwd',
      actor: 'system:self-service:rose.pinkcheeks@a.example',
      actorFrom: '192.0.2.10',
    });
    const sheet = await rose.get('/me/setup');
    expect(sheet.text).toContain('imap.a.example');
    expect(sheet.text).toContain('993, SSL/TLS');
  });

  it('lets an admin change their own password', async () => {
    w = await world();
    const b = await asAlice();
    await b.get('/me');
    expect(
      (await b.post('/me/password', { currentPassword: PASSWORD, newPassword: 'new admin secret' })).status,
    ).toBe(303);
    expect(await w.directory.authenticateAdmin('alice', 'new admin secret', 'x')).not.toBeNull();
  });

  it('has help pages for every topic, linked from every page, open without signing in', async () => {
    w = await world();
    const b = w.browser();
    const index = await b.get('/help');
    expect(index.status).toBe(200);
    const topics = [...index.text.matchAll(/href="\/help\/([a-z-]+)"/g)].map((m) => m[1]);
    expect(topics.length).toBeGreaterThan(10);
    for (const t of new Set(topics)) expect((await b.get(`/help/${t}`)).status).toBe(200);
    expect((await b.get('/help/nope')).status).toBe(404);
    const alice = await asAlice();
    for (const p of [
      '/d/a.example/mailboxes',
      '/d/a.example/forwards',
      '/d/a.example/aliases',
      '/d/a.example/lists',
      '/me',
    ]) {
      expect((await alice.get(p)).text).toMatch(/class="help-link" href="\/help\/[a-z-]+"/);
    }
  });

  it('renders unknown pages as 404', async () => {
    w = await world();
    const res = await w.browser().get('/no/such/page');
    expect(res.status).toBe(404);
    expect(res.text).toContain('Not found');
  });
});
