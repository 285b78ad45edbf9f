/**
 * The DNS records page of the admin UI (issue 18): a domain admin sees the records of their domain (DKIM
 * keys included) and the "check" button looks them up through the appliance's resolver (dnsmasq here) and
 * says which are missing; the page of another domain is refused, by the page and by the directory.
 */
import { type RunningDnsmasq, startDnsmasq } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEntities, OP, startTestAppliance, WebClient } from './admin-support.js';

const ALPHA = 'alpha.example';
const BRAVO = 'bravo.example';
const ADMIN = 'alpha-dns-admin';
const PASSWORD = 'Alpha-Dns-Pass-1';
let t: Awaited<ReturnType<typeof startTestAppliance>>;
let dns: RunningDnsmasq;

beforeAll(async () => {
  dns = await startDnsmasq({ local: ['example', 'test'] });
  t = await startTestAppliance('dns-admin-', {
    DELEGATO_DNS_SERVERS: dns.server,
    DELEGATO_SMTP_HOSTNAME: 'mx1.delegato.test',
  });
  for (const domain of [ALPHA, BRAVO]) await t.app.directory.addDomain(OP, domain);
  await t.app.directory.addAdmin(OP, {
    username: ADMIN,
    role: 'domain-admin',
    domains: [ALPHA],
    password: PASSWORD,
  });
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await dns?.close();
});

/** The rows of the page's table: [name, type, value, status]. */
function rows(html: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) =>
    [...(m[1] ?? '').matchAll(/<td>([\s\S]*?)<\/td>/g)].map((c) =>
      decodeEntities((c[1] ?? '').replace(/<[^>]+>/g, '')).trim(),
    ),
  );
}

describe('DNS records page', () => {
  it('lists the records, and check says what is missing until it is published', async () => {
    const web = new WebClient(t.origin);
    expect((await web.signIn(ADMIN, PASSWORD)).status).toBe(303);
    const { html, forms } = await web.page(`/d/${ALPHA}/dns`);
    expect(html).toContain('href="/d/alpha.example/dns" aria-current="page"');
    const listed = rows(html);
    const keys = await t.app.directory.listDkimKeys(OP, ALPHA);
    for (const k of keys)
      expect(listed).toContainEqual([k.dnsName, 'TXT', k.txt, expect.stringMatching(/DKIM/)]);
    expect(listed).toContainEqual([ALPHA, 'MX', '10 mx1.delegato.test', expect.any(String)]);

    const check = forms.find((f) => f.action === `/d/${ALPHA}/dns/check`);
    expect(check).toBeDefined();
    const csrf = check?.controls.find((c) => c.type === 'hidden');
    const first = await web.post(`/d/${ALPHA}/dns/check`, [[csrf?.name ?? '', csrf?.value ?? '']]);
    expect(first.status).toBe(200);
    const missing = rows(first.body);
    expect(missing.every((r) => r[4]?.startsWith('missing or different.'))).toBe(true);
    expect(first.body).toMatch(/\d+ record\(s\) missing or different\./);

    // Publish the TXT records (SPF, DKIM, DMARC, MTA-STS, TLS-RPT) and the MX; check again.
    const txt: Record<string, string[]> = {};
    for (const r of listed.filter((x) => x[1] === 'TXT'))
      txt[r[0] ?? ''] = [...(txt[r[0] ?? ''] ?? []), r[2] ?? ''];
    await dns.restart({
      local: ['example', 'test'],
      MX: { [ALPHA]: [{ priority: 10, exchange: 'mx1.delegato.test' }] },
      TXT: txt,
    });
    const second = await web.post(`/d/${ALPHA}/dns/check`, [[csrf?.name ?? '', csrf?.value ?? '']]);
    const after = rows(second.body);
    for (const r of after.filter((x) => x[1] === 'TXT' || x[1] === 'MX'))
      expect(r[4], r[0]).toBe('published');
    // Names dnsmasq does not serve here (CNAME, SRV) are still reported missing, with what DNS said.
    expect(
      after
        .filter((x) => x[1] === 'CNAME')
        .every((r) => /missing or different\. DNS answers: \(none\)/.test(r[4] ?? '')),
    ).toBe(true);
  }, 60_000);

  it("another domain's records are refused to a domain admin (page and check)", async () => {
    const web = new WebClient(t.origin);
    await web.signIn(ADMIN, PASSWORD);
    const { forms } = await web.page(`/d/${ALPHA}/dns`);
    const csrf = forms
      .find((f) => f.action === `/d/${ALPHA}/dns/check`)
      ?.controls.find((c) => c.type === 'hidden');
    expect((await web.get(`/d/${BRAVO}/dns`)).status).toBe(403);
    const post = await web.post(`/d/${BRAVO}/dns/check`, [[csrf?.name ?? '', csrf?.value ?? '']]);
    expect(post.status).toBe(403);
    expect(post.body).not.toContain('_domainkey.bravo.example');
    // The directory refuses too, whatever the page does.
    await expect(
      t.app.directory.listDkimKeys(
        { kind: 'domain-admin', name: ADMIN, domains: [ALPHA], from: '127.0.0.1' },
        BRAVO,
      ),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });
});
