/**
 * Issue 19's CSV import of aliases and of a list's members in headless Chromium against the real
 * appliance (screenshots kept in test-artifacts/admin/addr-import-*): the aliases page's import with bad
 * rows previewed (nothing written), then the correct rows applied; a list's members imported the same
 * way and exported. The attack: a domain administrator aiming these imports at another domain (pages and
 * API) gets 403 and nothing changes, also with another domain's alias inside their own domain's file.
 */
import type { Actor } from '@delegato/directory';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserUser, launchChromium, OP, startTestAppliance, WebClient } from './admin-support.js';

const DOMAIN = 'iat.example';
const OTHER = 'other.example';
const ADMIN = 'iat-admin';
const ADMIN_PASSWORD = 'Iat-Admin-Pass-1';
const ROSE = `rose.pinkcheeks@${DOMAIN}`;

let t: Awaited<ReturnType<typeof startTestAppliance>>;
let browser: Browser;
let da: BrowserUser;

const manual = async (domain: string) =>
  (await t.app.directory.listAliases(OP as Actor, domain, { kinds: ['manual'] })).map((a) => [
    a.address,
    a.targets,
  ]);

beforeAll(async () => {
  t = await startTestAppliance('delegato-addr-import-');
  const d = t.app.directory;
  for (const domain of [DOMAIN, OTHER]) {
    await d.addDomain(OP, domain);
    await d.addMailbox(OP, { domain, kind: 'personal', firstName: 'Rose', lastName: 'Pinkcheeks' });
    await d.createList(OP, { address: `team@${domain}`, owner: `rose.pinkcheeks@${domain}` });
  }
  await d.addAdmin(OP, {
    username: ADMIN,
    role: 'domain-admin',
    domains: [DOMAIN],
    password: ADMIN_PASSWORD,
  });
  browser = await launchChromium();
  da = await BrowserUser.open(browser, t.origin, 'addr-import');
  await da.signIn(ADMIN, ADMIN_PASSWORD);
}, 90_000);

afterAll(async () => {
  await da?.close();
  await browser?.close();
  await t?.stop();
});

describe('alias and list member import in Chromium', { timeout: 120_000 }, () => {
  it('imports aliases from the aliases page: bad rows previewed, nothing written, then the others applied', async () => {
    expect(await da.goto(`/d/${DOMAIN}/aliases`)).toBe(200);
    await da.page.getByRole('link', { name: 'Import aliases from a CSV file' }).click();
    await da.page.waitForURL(`**/d/${DOMAIN}/aliases/import`);
    await da.screenshot('alias-form');
    const csv = [
      'address,target',
      `sales,${ROSE}`,
      'sales,boss@elsewhere.example',
      `info,${ROSE};someone@elsewhere.example`,
      `rose.pinkcheeks,x@elsewhere.example`, // a mailbox's address
      `spy@${OTHER},${ROSE}`, // another domain
      'help,', // no target
    ];
    await da.page.getByLabel('CSV file').setInputFiles({
      name: 'aliases.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`${csv.join('\r\n')}\r\n`),
    });
    expect((await da.submitButton('Check the file')).final).toBe(200);
    await da.screenshot('alias-preview');
    const preview = await da.text();
    expect(preview).toContain('3 rows can be imported, 3 have errors.');
    expect(preview).toContain(`${ROSE} already exists (a mailbox)`);
    expect(preview).toContain(`spy@${OTHER} is not an address of ${DOMAIN}`);
    expect(preview).toContain('no target');
    expect(await da.page.locator('tr.row-error').count()).toBe(3);
    expect(await manual(DOMAIN)).toEqual([]);
    expect((await da.submitButton('Import the 3 correct rows, leave out the 3 with errors')).final).toBe(200);
    expect(da.path).toBe(`/d/${DOMAIN}/aliases`);
    await da.screenshot('alias-applied');
    const page = await da.text();
    expect(page).toContain(`2 aliases imported into ${DOMAIN}.`);
    expect(page).toContain('Left out (errors): lines 5, 6, 7.');
    expect(await manual(DOMAIN)).toEqual([
      [`info@${DOMAIN}`, [ROSE, 'someone@elsewhere.example']],
      [`sales@${DOMAIN}`, [ROSE, 'boss@elsewhere.example']],
    ]);
    const audit = await t.app.directory.listAudit(OP, { domain: DOMAIN });
    expect(audit.filter((a) => a.action === 'alias.import')).toHaveLength(1);
  });

  it('imports a list’s members with a preview, then exports them', async () => {
    expect(await da.goto(`/d/${DOMAIN}/mailing-lists/team@${DOMAIN}`)).toBe(200);
    await da.page.getByRole('link', { name: 'Import members from a CSV file' }).click();
    await da.page.waitForURL(`**/members/import`);
    const rows = ['address', 'one@elsewhere.example', 'not an address', 'two@elsewhere.example', ROSE];
    await da.page.getByLabel('CSV file').setInputFiles({
      name: 'members.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`${rows.join('\n')}\n`),
    });
    expect((await da.submitButton('Check the file')).final).toBe(200);
    await da.screenshot('members-preview');
    expect(await da.text()).toContain('3 rows can be imported, 1 have errors.');
    expect(await da.page.locator('tr.row-error').count()).toBe(1);
    expect((await t.app.directory.getList(OP, `team@${DOMAIN}`)).members).toEqual([]);
    expect((await da.submitButton('Import the 3 correct rows, leave out the 1 with errors')).final).toBe(200);
    await da.screenshot('members-applied');
    expect(await da.text()).toContain(`3 members added to team@${DOMAIN}.`);
    expect((await t.app.directory.getList(OP, `team@${DOMAIN}`)).members).toEqual([
      'one@elsewhere.example',
      ROSE,
      'two@elsewhere.example',
    ]);
    const out = await da.page.request.get(`${t.origin}/d/${DOMAIN}/mailing-lists/team@${DOMAIN}/members.csv`);
    expect(out.status()).toBe(200);
    expect(await out.text()).toBe(`address\r\none@elsewhere.example\r\n${ROSE}\r\ntwo@elsewhere.example\r\n`);
  });

  it('another domain’s aliases and lists are out of reach of this admin (pages and API); nothing changes', async () => {
    const team = `team@${OTHER}`;
    for (const path of [
      `/d/${OTHER}/aliases/import`,
      `/d/${OTHER}/mailing-lists/${team}/members/import`,
      `/d/${OTHER}/mailing-lists/${team}/members.csv`,
    ]) {
      const r = await da.page.request.get(`${t.origin}${path}`);
      expect(r.status(), path).toBe(403);
    }
    // The forms, posted with a valid session and CSRF token, at the other domain.
    expect(await da.goto(`/d/${DOMAIN}/aliases/import`)).toBe(200);
    const token = await da.page.locator('input[name=_csrf]').first().getAttribute('value');
    const post = (path: string, csv: string) =>
      da.page.request.post(`${t.origin}${path}`, {
        headers: { Origin: t.origin },
        form: { _csrf: token ?? '', csv, skip: '' },
      });
    for (const [path, csv] of [
      [`/d/${OTHER}/aliases/import/apply`, `address,target\nspy,${ROSE}\n`],
      [`/d/${OTHER}/mailing-lists/${team}/members/import/apply`, 'address\nspy@elsewhere.example\n'],
    ] as const) {
      expect((await post(path, csv)).status(), path).toBe(403);
    }
    // The control: the same token and form in her own domain get past the checks (an empty file: shown
    // again, nothing imported), so the 403s above are the scope check's doing.
    expect((await post(`/d/${DOMAIN}/aliases/import/apply`, 'address,target\n')).status()).toBe(200);
    const api = new WebClient(t.origin);
    const tok = await api.fetch('POST', '/api/v1/tokens', {
      json: { username: ADMIN, password: ADMIN_PASSWORD },
    });
    const bearer = (JSON.parse(tok.body) as { token: string }).token;
    const attempts: Array<[string, string, unknown, number]> = [
      [
        'POST',
        `/api/v1/domains/${OTHER}/aliases/import`,
        { rows: [{ address: 'spy', targets: [ROSE] }] },
        403,
      ],
      ['POST', `/api/v1/domains/${OTHER}/aliases/import`, { csv: `address,target\nspy,${ROSE}\n` }, 403],
      [
        'POST',
        `/api/v1/domains/${OTHER}/mailing-lists/${team}/members/import`,
        { addresses: ['spy@x.example'] },
        403,
      ],
      [
        'POST',
        `/api/v1/domains/${DOMAIN}/mailing-lists/${team}/members/import`,
        { addresses: ['spy@x.example'] },
        403,
      ],
      ['GET', `/api/v1/domains/${OTHER}/mailing-lists/${team}/members.csv`, undefined, 403],
      // Her own domain's import naming another domain's alias: a row error, nothing imported.
      [
        'POST',
        `/api/v1/domains/${DOMAIN}/aliases/import`,
        {
          rows: [
            { address: 'ok', targets: [ROSE] },
            { address: `spy@${OTHER}`, targets: [ROSE] },
          ],
        },
        422,
      ],
    ];
    for (const [method, path, json, status] of attempts) {
      const r = await api.fetch(method, path, { bearer, ...(json === undefined ? {} : { json }) });
      expect(r.status, `${method} ${path}: ${r.body.slice(0, 200)}`).toBe(status);
    }
    expect(await manual(OTHER)).toEqual([]);
    expect((await manual(DOMAIN)).map(([a]) => a)).toEqual([`info@${DOMAIN}`, `sales@${DOMAIN}`]);
    expect((await t.app.directory.getList(OP, team)).members).toEqual([]);
    // The API's dry run and import in her own domain.
    const dry = await api.fetch(
      'POST',
      `/api/v1/domains/${DOMAIN}/mailing-lists/team@${DOMAIN}/members/import`,
      {
        bearer,
        json: { csv: 'address\nthree@elsewhere.example\n', dryRun: true },
      },
    );
    expect(dry.status).toBe(200);
    expect((await t.app.directory.getList(OP, `team@${DOMAIN}`)).members).toHaveLength(3);
    const done = await api.fetch('POST', `/api/v1/domains/${DOMAIN}/aliases/import`, {
      bearer,
      json: { rows: [{ address: 'ok', targets: [ROSE] }] },
    });
    expect(done.status, done.body).toBe(201);
    expect((await manual(DOMAIN)).map(([a]) => a)).toContain(`ok@${DOMAIN}`);
  });
});
