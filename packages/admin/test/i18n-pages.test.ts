/**
 * Every translated page, requested in Italian through the real app, shows the Italian text of a sample of
 * its messages and none of their English text (docs/i18n.md).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type MessageKey, type Params, translator } from '../src/i18n/index.js';
import { MemoryTotpStore, totpCode } from '../src/index.js';
import type { OperationsSource } from '../src/operations/source.js';
import { helpTopics } from '../src/views/help-it.js';
import { Browser, location, operator, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>> | undefined;
afterEach(async () => {
  await w?.cleanup();
  w = undefined;
});

const escapeHtml = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/** A message as a page shows it: a key, or a key with its parameters. */
type Sample = MessageKey | [MessageKey, Params];

/** The page holds each sample in Italian and not in English. */
function expectItalian(page: string, samples: Sample[]): void {
  expect(page).toContain('<html lang="it">');
  for (const sample of samples) {
    const [key, params] = typeof sample === 'string' ? [sample, undefined] : sample;
    const italian = escapeHtml(translator('it')(key, params));
    const english = escapeHtml(translator('en')(key, params));
    expect(page, `${key} in Italian`).toContain(italian);
    expect(page, `${key} left in English`).not.toContain(english);
  }
}

/** A browser whose every request asks for Italian (Accept-Language), as an Italian browser does. */
function italianBrowser(app: Awaited<ReturnType<typeof world>>['app'], ip?: string): Browser {
  return new Browser(
    {
      request: (input: string, init?: RequestInit) =>
        app.request(input, {
          ...init,
          headers: { ...(init?.headers as Record<string, string> | undefined), 'accept-language': 'it' },
        }),
    },
    ip,
  );
}

describe('sign-in and self-service pages in Italian', () => {
  it('shows too many attempts, my account, the password form and its errors in Italian', async () => {
    w = await world();
    const b = italianBrowser(w.app, '198.51.100.7');
    await b.get('/login');
    const wrong = await b.post('/login', { username: 'alice', password: 'nope' });
    expectItalian(wrong.text, ['auth.wrongPassword', 'login.title']);
    for (let i = 0; i < 4; i++) await b.post('/login', { username: 'alice', password: 'nope' });
    const locked = await b.post('/login', { username: 'alice', password: 'nope' });
    expect(locked.status).toBe(429);
    expectItalian(locked.text, ['auth.tooManyTitle', 'auth.forgotPassword']);
    expect(locked.text).toMatch(/Riprovare tra \d+ minut[oi]\./);

    const admin = italianBrowser(w.app);
    await admin.signIn('bob');
    const me = await admin.get('/me');
    expectItalian(me.text, [
      'me.adminHeading',
      ['me.adminOf', { domains: 'b.example' }],
      'me.totpSettings',
      'me.passwordHeading',
      'me.currentPassword',
      'me.newPasswordHint',
      'me.changePassword',
    ]);
    const bad = await admin.post('/me/password', {
      currentPassword: 'wrong one',
      newPassword: 'plenty of unrelated words',
    });
    expect(bad.status).toBe(400);
    expectItalian(bad.text, ['me.notCurrentPassword']);

    const user = italianBrowser(w.app);
    await user.signIn('rose.pinkcheeks@a.example');
    const own = await user.get('/me');
    expectItalian(own.text, ['me.mailboxHeading', 'me.yourAddress', 'me.setupLink', 'me.setupPrintable']);
    const sheet = await user.get('/me/setup');
    expect(sheet.status).toBe(200);
    expectItalian(sheet.text, [
      'me.setupTitle',
      'setup.printNote',
      ['setup.heading', { address: 'rose.pinkcheeks@a.example' }],
      'setup.passwordText',
      'setup.portSecurity',
      'setup.imap',
      'setup.smtp',
      'setup.authText',
      'setup.thunderbird',
      'setup.outlook',
      'setup.phoneText',
      'setup.keep',
    ]);
  });

  it('shows two-step sign-in (enrolment, on, the second step) in Italian', async () => {
    const totpStore = new MemoryTotpStore();
    w = await world({ totpStore });
    const b = italianBrowser(w.app);
    await b.signIn('alice');
    const enrol = await b.get('/me/totp');
    expectItalian(enrol.text, [
      'totp.enrolHeading',
      'totp.explain',
      'totp.step1',
      'totp.step2',
      'totp.step3',
      'totp.turnOn',
    ]);
    const secret = /class="secret mono">([A-Z2-7 ]+)</.exec(enrol.text)?.[1]?.replace(/ /g, '') ?? '';
    const wrong = await b.post('/me/totp', { code: '000000' });
    expect(wrong.status).toBe(400);
    expectItalian(wrong.text, ['totp.wrongEnrolCode']);
    expect((await b.post('/me/totp', { code: totpCode(secret, w.clock.now()) })).status).toBe(303);
    expectItalian((await b.get('/me')).text, ['totp.turnedOn']);
    const on = await b.get('/me/totp');
    expectItalian(on.text, [
      'totp.onHeading',
      'totp.onText',
      'totp.offHeading',
      'totp.currentCode',
      'totp.turnOff',
    ]);

    w.clock.advance(60_000);
    const c = italianBrowser(w.app);
    expect(location(await c.signIn('alice'))).toBe('/login/totp');
    const step = await c.get('/login/totp');
    expectItalian(step.text, [
      'auth.totpTitle',
      'auth.totpIntro',
      'auth.code',
      'auth.codeHint',
      'auth.verify',
    ]);
    const no = await c.post('/login/totp', { code: '123456' });
    expect(no.status).toBe(401);
    expectItalian(no.text, ['auth.wrongCode']);
  });
});

describe('address pages in Italian', () => {
  it('shows aliases, remote mailboxes and list aliases (lists, forms, messages) in Italian', async () => {
    w = await world();
    const b = italianBrowser(w.app);
    await b.signIn('alice');
    const empty = await b.get('/d/a.example/aliases');
    expectItalian(empty.text, [
      ['aliases.heading', { domain: 'a.example' }],
      'aliases.intro',
      'aliases.introEnd',
      'aliases.formTitle',
      ['aliases.aliasHint', { domain: 'a.example' }],
      'aliases.targetsHint',
      'aliases.submit',
    ]);
    expect(empty.text).toContain('<title>Alias di a.example · Delegato</title>');
    expect((await b.post('/d/a.example/aliases', { alias: 'info', targets: 'rose.pinkcheeks' })).status).toBe(
      303,
    );
    const aliases = await b.get('/d/a.example/aliases');
    expectItalian(aliases.text, [
      ['aliases.added', { address: 'info@a.example', targets: 'rose.pinkcheeks@a.example' }],
      'addresses.kind',
      'addresses.kind.manual',
      'aliases.deliversTo',
    ]);
    expect((await b.post('/d/a.example/aliases/info%40a.example/remove')).status).toBe(303);
    expectItalian((await b.get('/d/a.example/aliases')).text, [
      ['addresses.removed', { address: 'info@a.example' }],
    ]);

    const forwards = await b.get('/d/a.example/forwards');
    expectItalian(forwards.text, [
      ['forwards.heading', { domain: 'a.example' }],
      'forwards.intro',
      'forwards.empty',
      'forwards.formTitle',
      'forwards.remoteHint',
      ['forwards.addressHint', { domain: 'a.example' }],
      'forwards.submit',
    ]);
    await b.post('/d/a.example/forwards', { address: 'anna.verdi', remote: 'anna@elsewhere.example' });
    expectItalian((await b.get('/d/a.example/forwards')).text, [
      ['forwards.added', { address: 'anna.verdi@a.example', targets: 'anna@elsewhere.example' }],
      'forwards.remote',
      'addresses.remove',
    ]);

    const lists = await b.get('/d/a.example/lists');
    expectItalian(lists.text, [
      ['listAliases.heading', { domain: 'a.example' }],
      'listAliases.intro',
      'listAliases.empty',
      'listAliases.formTitle',
      'listAliases.listServerHint',
      ['listAliases.addressHint', { domain: 'a.example' }],
      'listAliases.submit',
    ]);
    await b.post('/d/a.example/lists', { address: 'staff', listServer: 'staff@lists.example' });
    expectItalian((await b.get('/d/a.example/lists')).text, [
      ['listAliases.added', { address: 'staff@a.example', targets: 'staff@lists.example' }],
      'listAliases.listServer',
    ]);
  });
});

/** A day of traffic of a.example, a region that did not answer, and one failing health check. */
const operations: OperationsSource = {
  today: () => '2026-03-02',
  stats: async () => ({
    rows: [
      {
        day: '2026-03-02',
        domain: 'a.example',
        region: 'local',
        messages_in: 5,
        messages_out: 3,
        messages_internal: 2,
        bytes_in: 5_000_000,
        bytes_out: 1_000_000,
        bytes_internal: 500_000,
        rejected: 1,
        deferred: 0,
        bounced: 0,
        gateway: 0,
        mailboxes: 2,
      },
    ],
    unreachable: [{ region: 'south', error: 'timeout' }],
  }),
  health: async () => [
    {
      region: 'local',
      sections: [{ title: 'Disk', checks: [{ name: 'last backup', ok: false, detail: '3 days ago' }] }],
    },
    { region: 'south', sections: [], error: 'timeout' },
  ],
};

describe('statistics and health in Italian', () => {
  it('shows the statistics (form, charts, tables) and the health page in Italian', async () => {
    w = await world({ operations });
    const b = italianBrowser(w.app);
    await b.signIn('root');
    const period = { period: translator('it')('stats.period', { from: '2026-02-24', to: '2026-03-02' }) };
    const stats = await b.get('/stats?from=2026-02-24&to=2026-03-02');
    expect(stats.status).toBe(200);
    expectItalian(stats.text, [
      ['stats.heading', { scope: translator('it')('stats.allScope') }],
      'stats.from',
      'stats.show',
      'stats.downloadCsv',
      'stats.unreachable',
      'stats.note',
      'stats.incoming',
      'stats.outgoing',
      'stats.perMailbox',
      ['stats.messagesTitle', period],
      ['stats.trafficTitle', period],
      ['stats.daysTitle', period],
      'stats.daysDesc',
      ['stats.otherCaption', period],
      'stats.toGateway',
      ['stats.data', { title: translator('it')('stats.daysTitle', period) }],
    ]);
    const domain = await b.get('/d/a.example/stats?from=2026-02-24&to=2026-03-02');
    expectItalian(domain.text, [['stats.heading', { scope: 'a.example' }]]);
    expect(domain.text).toContain('<title>Statistiche di a.example · Delegato</title>');
    const health = await b.get('/health');
    expect(health.status).toBe(200);
    expectItalian(health.text, [
      'health.title',
      ['health.region', { region: 'south' }],
      'health.noAnswer',
      'health.bad',
    ]);
    // ("1 problema" holds "1 problem": the Italian whole is checked instead.)
    expect(health.text).toMatch(/Regione local:\s*1 problema</);
  });
});

describe('operator pages in Italian', () => {
  it('shows domains, administrators (list, one, access restrictions) and regions in Italian', async () => {
    w = await world();
    const b = italianBrowser(w.app);
    await b.signIn('root');
    const domains = await b.get('/domains');
    expectItalian(domains.text, [
      'domains.title',
      'domains.limits',
      'domains.removeDomain',
      'domains.addHeading',
      'domains.domainHint',
      'domains.regionHint',
      'domains.submit',
    ]);
    expect((await b.post('/domains', { domain: 'c.example', region: 'local' })).status).toBe(303);
    expectItalian((await b.get('/domains')).text, [
      ['domains.addedFlash', { domain: 'c.example', region: 'local' }],
    ]);

    const admins = await b.get('/admins');
    expectItalian(admins.text, [
      'admins.title',
      'admins.role',
      'admins.domainAdmin',
      'admins.addHeading',
      'admins.usernameHint',
      'admins.passwordHint',
      'admins.domainsHint',
      'admins.submit',
    ]);
    const alice = await b.get('/admins/alice');
    expectItalian(alice.text, [
      ['admins.editTitle', { username: 'alice' }],
      'admins.totp',
      'admins.access',
      'admins.networks',
      'admins.networksHint',
      'admins.fingerprint',
      'admins.fingerprintHint',
      'admins.saveAccess',
    ]);
    expect((await b.post('/admins/alice/access', { allowedNetworks: '', certFingerprint: '' })).status).toBe(
      303,
    );
    expectItalian((await b.get('/admins/alice')).text, [['admins.accessSaved', { username: 'alice' }]]);

    const regions = await b.get('/regions');
    expectItalian(regions.text, ['regions.title', 'regions.intro', 'regions.thisAppliance']);
  });

  it('tells a domain administrator without domains, in Italian', async () => {
    w = await world();
    // alice's one domain goes: she is left with none.
    await w.directory.removeDomain(operator, 'a.example', { force: true });
    const b = italianBrowser(w.app);
    await b.signIn('alice');
    const home = await b.get('/');
    expectItalian(home.text, ['home.noDomainsHeading', 'home.noDomainsText']);
  });
});

describe('help in Italian', () => {
  it('has every help topic in Italian, and shows each one in Italian', async () => {
    const english = helpTopics('en');
    const italian = helpTopics('it');
    const untranslated = Object.keys(english).filter((slug) => italian[slug] === english[slug]);
    expect(untranslated).toEqual([]);
    w = await world();
    for (const slug of Object.keys(english)) {
      const res = await w.app.request(`https://admin.test/help/${slug}`, {
        headers: { 'accept-language': 'it' },
      });
      const page = await res.text();
      expect(res.status, slug).toBe(200);
      expect(page, slug).toContain(`<h1>${escapeHtml(italian[slug]?.title ?? '')}</h1>`);
      expect(page, slug).not.toContain(`<h1>${escapeHtml(english[slug]?.title ?? '')}</h1>`);
    }
  });
});

describe('the mailbox pages’ messages in Italian', () => {
  it('says in Italian that a user was added, with the made-up password, and that a password was set', async () => {
    w = await world();
    const b = italianBrowser(w.app);
    await b.signIn('alice');
    expectItalian((await b.get('/d/a.example/mailboxes/new')).text, ['mailboxFlash.newTitle']);
    const res = await b.post('/d/a.example/mailboxes', {
      firstName: 'Robert',
      lastName: 'Pinkcheeks',
      kind: 'personal',
    });
    expect(res.status).toBe(303);
    const sheet = await b.get(location(res) ?? '');
    expectItalian(sheet.text, [
      ['mailboxFlash.added', { address: 'robert.pinkcheeks@a.example' }],
      'mailboxFlash.password',
      ['setup.heading', { address: 'robert.pinkcheeks@a.example' }],
    ]);
    const set = await b.post('/d/a.example/mailboxes/robert.pinkcheeks@a.example/password', {
      newPassword: 'plenty of unrelated words',
    });
    expect(set.status).toBe(303);
    expectItalian((await b.get(location(set) ?? '')).text, [
      ['mailboxFlash.passwordSet', { address: 'robert.pinkcheeks@a.example' }],
    ]);
  });
});

describe('the attachment gateway form in Italian', () => {
  it('refuses a mailbox of another domain in Italian', async () => {
    w = await world();
    const b = italianBrowser(w.app);
    await b.signIn('root');
    await b.get('/d/a.example/gateway');
    const res = await b.post('/d/a.example/gateway/register', {
      kind: 'mailbox',
      target: 'mario.rossi@b.example',
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expectItalian(res.text, [
      ['gateway.notOfDomain', { address: 'mario.rossi@b.example', domain: 'a.example' }],
    ]);
  });
});
