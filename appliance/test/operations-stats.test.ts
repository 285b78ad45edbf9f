/**
 * Statistics (issue 16): a scripted day of traffic over the real listeners (mail from outside, internal
 * and outgoing submissions, refused recipients), the roll-up job run through `delegato jobs run`, then
 * the charts' data tables in Chromium (screenshots in test-artifacts/admin/) and the CSV export hold the
 * per-domain numbers of the traffic sent. A domain admin sees their own domain only: the pages and the
 * CSV of another domain, and the all-domains view, answer 403.
 */
import { dirname } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendControlRequest } from '../src/control/client.js';
import { controlSocketPath } from '../src/control/paths.js';
import { dataPaths } from '../src/data-dir.js';
import {
  BrowserUser,
  launchChromium,
  listenerPort,
  OP,
  OPERATOR,
  OPERATOR_PASSWORD,
  startTestAppliance,
  WebClient,
} from './admin-support.js';
import { mxSend, refusedRcpt, submit } from './operations-support.js';

const IAT = 'iat.example';
const IBP = 'ibp.example';
const ROSE = `rose@${IAT}`;
const MARIO = `mario@${IAT}`;
const ANNA = `anna@${IBP}`;
const PASSWORD = 'Mailbox-Pass-1';
const ADMIN = 'iat-admin';
const ADMIN_PASSWORD = 'Quiet-Lantern-Stats-7';

let t: Awaited<ReturnType<typeof startTestAppliance>>;
let browser: Browser;
let dataDir: string;
const users: BrowserUser[] = [];
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

const expected = {
  [IAT]: { in: 0, out: 0, internal: 0, bytesIn: 0, bytesOut: 0, bytesInternal: 0, rejected: 0 },
  [IBP]: { in: 0, out: 0, internal: 0, bytesIn: 0, bytesOut: 0, bytesInternal: 0, rejected: 0 },
};

async function control(argv: string[]) {
  return sendControlRequest(controlSocketPath(dataDir), dataPaths(dataDir).controlToken, {
    user: 'test',
    argv,
  });
}

beforeAll(async () => {
  // MX lookups go to a loopback port where nothing answers: outgoing mail stays queued, deferred.
  t = await startTestAppliance('delegato-stats-', { DELEGATO_DNS_SERVERS: '127.0.0.1:9' });
  dataDir = dirname(t.app.store.dir);
  browser = await launchChromium();
  const d = t.app.directory;
  await d.addDomain(OP, IAT);
  await d.addDomain(OP, IBP);
  for (const [domain, localPart] of [
    [IAT, 'rose'],
    [IAT, 'mario'],
    [IBP, 'anna'],
  ] as const)
    await d.addMailbox(OP, { domain, kind: 'role', localPart, password: PASSWORD });
  await d.addAdmin(OP, { username: ADMIN, role: 'domain-admin', domains: [IAT], password: ADMIN_PASSWORD });
}, 60_000);

afterAll(async () => {
  for (const u of users) await u.close();
  await browser?.close();
  await t?.stop();
});

describe('per-domain statistics', { timeout: 90_000 }, () => {
  it('a scripted day of traffic is counted per domain and rolled up by the job', async () => {
    const mx = listenerPort(t.app, 'smtp');
    const sub = listenerPort(t.app, 'submission');
    for (let i = 0; i < 5; i++) {
      const p = await mxSend(mx, 'friend@outside.example', ROSE, `hello ${'x'.repeat(1000 * (i + 1))}`);
      expected[IAT].in++;
      expected[IAT].bytesIn += bytes(p);
    }
    for (let i = 0; i < 3; i++) {
      const p = await mxSend(mx, 'friend@outside.example', ANNA, `ciao ${'y'.repeat(500 * (i + 1))}`);
      expected[IBP].in++;
      expected[IBP].bytesIn += bytes(p);
    }
    for (let i = 0; i < 2; i++) {
      const p = await submit(sub, ROSE, PASSWORD, [MARIO], `internal ${i} ${'z'.repeat(2000)}`);
      expected[IAT].internal++;
      expected[IAT].bytesInternal += bytes(p);
    }
    // To a hosted domain of another organisation: out of iat, into ibp.
    const toAnna = await submit(sub, ROSE, PASSWORD, [ANNA], `to ibp ${'w'.repeat(3000)}`);
    expected[IAT].out++;
    expected[IAT].bytesOut += bytes(toAnna);
    expected[IBP].in++;
    expected[IBP].bytesIn += bytes(toAnna);
    // Out to the world (stays queued: no DNS answers here).
    const toWorld = await submit(sub, MARIO, PASSWORD, ['someone@elsewhere.example'], 'out');
    expected[IAT].out++;
    expected[IAT].bytesOut += bytes(toWorld);
    for (const to of [`nobody@${IAT}`, `nobody2@${IAT}`, `nobody@${IBP}`]) {
      expect((await refusedRcpt(mx, to)).code).toBe(550);
      expected[to.endsWith(IAT) ? IAT : IBP].rejected++;
    }

    const run = await control(['jobs', 'run', 'stats-rollup']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^stats-rollup: ok in \d+ ms/);
    const list = await control(['jobs', '--json']);
    const jobs = JSON.parse(list.stdout) as Array<{ name: string; lastRun: { outcome: string } | null }>;
    expect(jobs.map((j) => j.name)).toEqual(
      expect.arrayContaining([
        'queue-runner',
        'mailbox-expiry',
        'purge-removed',
        'stats-rollup',
        'certificate-expiry',
      ]),
    );
    expect(jobs.find((j) => j.name === 'stats-rollup')?.lastRun?.outcome).toBe('ok');
    expect((await control(['jobs'])).stdout).toMatch(/^JOB\s+SCHEDULE\s+NEXT\s+LAST RUN/);
    // The other jobs run on demand too, each with its result.
    const result = async (name: string) => {
      const r = await control(['jobs', 'run', name, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { result: unknown }).result;
    };
    // The self-signed certificate is valid for years: checked, nothing expiring.
    expect(await result('certificate-expiry')).toEqual({ checked: 1, expiring: [] });
    // The message for elsewhere.example waits in the queue.
    expect(await result('queue-runner')).toEqual({ due: expect.any(Number) });
    expect(await result('purge-removed')).toEqual([]);
    const unknown = await control(['jobs', 'run', 'no-such-job']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no job no-such-job; the jobs: queue-runner, /);
  });

  it('the operator sees every domain in the charts, their tables and the CSV, with the numbers sent', async () => {
    const op = await BrowserUser.open(browser, t.origin, 'stats-operator');
    users.push(op);
    await op.signIn(OPERATOR, OPERATOR_PASSWORD);
    expect(await op.goto('/stats')).toBe(200);
    await op.screenshot('statistics-all-domains');
    const table = async (id: string) =>
      op.page
        .locator(`#${id}-table tbody tr`)
        .evaluateAll((rows) =>
          rows.map((r) => [
            r.querySelector('th')?.textContent ?? '',
            ...[...r.querySelectorAll('td')].map((td) => Number(td.getAttribute('data-value'))),
          ]),
        );
    expect(await table('chart-messages')).toEqual([
      [IAT, expected[IAT].in, expected[IAT].out, expected[IAT].internal],
      [IBP, expected[IBP].in, expected[IBP].out, expected[IBP].internal],
    ]);
    const mb = (n: number) => Math.round((n / 1_000_000) * 100) / 100;
    expect(await table('chart-traffic')).toEqual([
      [IAT, mb(expected[IAT].bytesIn), mb(expected[IAT].bytesOut), mb(expected[IAT].bytesInternal)],
      [IBP, mb(expected[IBP].bytesIn), mb(expected[IBP].bytesOut), mb(expected[IBP].bytesInternal)],
    ]);
    // Active mailboxes: rose, mario and postmaster@ in iat; anna and postmaster@ in ibp.
    const perMailbox = (d: typeof IAT | typeof IBP, n: number) =>
      Math.round(((expected[d].in + expected[d].internal) / n) * 100) / 100;
    expect(await table('chart-per-mailbox')).toEqual([
      [IAT, perMailbox(IAT, 3)],
      [IBP, perMailbox(IBP, 2)],
    ]);
    const days = await table('chart-days');
    const today = days[days.length - 1] as [string, number, number, number, number];
    expect(today.slice(1)).toEqual([
      expected[IAT].in + expected[IBP].in,
      expected[IAT].out + expected[IBP].out,
      expected[IAT].internal + expected[IBP].internal,
      expected[IAT].rejected + expected[IBP].rejected,
    ]);
    // Each chart is an image with a name and a description, and a data table behind it.
    for (const id of ['chart-messages', 'chart-traffic', 'chart-per-mailbox', 'chart-days']) {
      const svg = op.page.locator(`#${id} svg[role=img]`);
      expect(await svg.getAttribute('aria-labelledby')).toBe(`${id}-title ${id}-desc`);
      expect(await op.page.locator(`#${id}-table caption`).textContent()).toContain('the data');
    }

    const csv = await op.context.request.get(`${t.origin}/stats.csv`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toMatch(/^text\/csv/);
    const [head, ...lines] = (await csv.text()).trim().split('\r\n');
    const cols = (head ?? '').split(',');
    const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
    // One row per day and domain (yesterday's rows hold the mailbox counts and zeros): summed per domain.
    const sum = (d: string, col: string) =>
      rows.filter((x) => x.domain === d).reduce((n, x) => n + Number(x[col]), 0);
    for (const d of [IAT, IBP] as const) {
      expect(rows.filter((x) => x.domain === d).every((x) => x.region === t.region)).toBe(true);
      expect({
        in: sum(d, 'messages_in'),
        out: sum(d, 'messages_out'),
        internal: sum(d, 'messages_internal'),
        bytesIn: sum(d, 'bytes_in'),
        bytesOut: sum(d, 'bytes_out'),
        bytesInternal: sum(d, 'bytes_internal'),
        rejected: sum(d, 'rejected'),
      }).toEqual(expected[d]);
    }
  });

  it('a domain admin sees only their own domain; other domains and the all-domains view are refused', async () => {
    const admin = await BrowserUser.open(browser, t.origin, 'stats-domain-admin');
    users.push(admin);
    await admin.signIn(ADMIN, ADMIN_PASSWORD);
    expect(await admin.goto(`/d/${IAT}/stats`)).toBe(200);
    await admin.screenshot('statistics-own-domain');
    const domains = await admin.page
      .locator('#chart-messages-table tbody th')
      .evaluateAll((ths) => ths.map((th) => th.textContent));
    expect(domains).toEqual([IAT]);
    expect(await admin.goto(`/d/${IBP}/stats`)).toBe(403);
    expect(await admin.goto('/stats')).toBe(403);
    const own = await admin.context.request.get(`${t.origin}/d/${IAT}/stats.csv`);
    expect(own.status()).toBe(200);
    expect(await own.text()).not.toContain(IBP);
    const other = await admin.context.request.get(`${t.origin}/d/${IBP}/stats.csv`);
    expect(other.status()).toBe(403);
    expect(await other.text()).not.toContain('messages_in');
    const all = await admin.context.request.get(`${t.origin}/stats.csv`);
    expect(all.status()).toBe(403);
    // A bad period is a clear 400.
    const bad = await admin.context.request.get(`${t.origin}/d/${IAT}/stats?from=yesterday`);
    expect(bad.status()).toBe(400);
  });

  it('the JSON API answers with the same scope: a domain admin token cannot read another domain', async () => {
    const web = new WebClient(t.origin);
    const api = async (method: string, path: string, opts: { token?: string; json?: unknown } = {}) => {
      const res = await web.fetch(method, `/api/v1${path}`, {
        ...(opts.token ? { bearer: opts.token } : {}),
        ...(opts.json ? { json: opts.json } : {}),
        cookies: false,
      });
      return { status: res.status, json: JSON.parse(res.body) as Record<string, unknown> };
    };
    const token = async (username: string, password: string) =>
      String((await api('POST', '/tokens', { json: { username, password } })).json.token);
    const adminToken = await token(ADMIN, ADMIN_PASSWORD);
    const own = await api('GET', '/stats', { token: adminToken });
    expect(own.status).toBe(200);
    const domainsOf = (json: Record<string, unknown>) =>
      [...new Set((json.rows as Array<{ domain: string }>).map((r) => r.domain))].sort();
    expect(domainsOf(own.json)).toEqual([IAT]);
    expect((await api('GET', `/domains/${IAT}/stats`, { token: adminToken })).status).toBe(200);
    const attack = await api('GET', `/domains/${IBP}/stats`, { token: adminToken });
    expect(attack.status).toBe(403);
    expect(attack.json.rows).toBeUndefined();
    expect((await api('GET', '/stats')).status).toBe(401);
    const opToken = await token(OPERATOR, OPERATOR_PASSWORD);
    const all = await api('GET', '/stats', { token: opToken });
    expect(domainsOf(all.json)).toEqual([IAT, IBP]);
    expect((await api('GET', '/stats?from=2026-13-01', { token: opToken })).status).toBe(400);
  });

  it('the operator health page shows this region: listeners, queue, replication, disk, backup, certificates', async () => {
    const op = await BrowserUser.open(browser, t.origin, 'health-operator');
    users.push(op);
    await op.signIn(OPERATOR, OPERATOR_PASSWORD);
    // Reached from the main navigation.
    await op.page.getByRole('link', { name: 'Health', exact: true }).click();
    await op.page.waitForLoadState('load');
    expect(op.path).toBe('/health');
    await op.screenshot('health');
    const captions = await op.page.locator('.region-health caption').allTextContents();
    expect(captions).toEqual([
      'Listeners',
      'Queue',
      'Replication',
      'Disk',
      'Backup',
      'Certificates',
      'Scheduled jobs',
    ]);
    const row = async (name: string) =>
      op.page
        .locator('.region-health tr')
        .filter({ has: op.page.locator('th', { hasText: name }) })
        .first();
    for (const l of t.app.listeners) {
      const r = await row(l.name);
      expect(await r.textContent(), l.name).toContain(`${l.host}:${l.port} answers`);
    }
    // One message is still queued for elsewhere.example (no DNS here), and no backup was taken yet.
    expect(await (await row('outbound queue')).textContent()).toContain('1 message(s) waiting');
    expect(await (await row('directory')).textContent()).toContain('standalone');
    expect(await (await row('last backup')).getAttribute('class')).toBe('problem');
    expect(await (await row('TLS certificate (listeners)')).getAttribute('class')).toBe('ok');
    expect(await (await row('stats-rollup')).textContent()).toContain('ok in');
    expect(await op.page.locator('h2').first().textContent()).toMatch(new RegExp(`^Region ${t.region}: `));

    const admin = await BrowserUser.open(browser, t.origin, 'health-domain-admin');
    users.push(admin);
    await admin.signIn(ADMIN, ADMIN_PASSWORD);
    expect(await admin.goto('/health')).toBe(403);
    expect(await admin.page.getByRole('link', { name: 'Health', exact: true }).count()).toBe(0);
  });
});
