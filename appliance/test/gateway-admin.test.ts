/**
 * The attachment gateway section of the admin UI (issue 15) in Debian's Chromium, with screenshots under
 * test-artifacts/admin/ (gateway-*.png): a domain admin registers a mailbox and a sender, sets the domain's
 * rules, sees the disk usage and removes a registration; then the attacks: the same admin aimed at another
 * domain through the section's forms and through the JSON API, refused and changing nothing.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrowserUser,
  isCsrfField,
  launchChromium,
  listenerPort,
  OP,
  startTestAppliance,
  WebClient,
} from './admin-support.js';
import { MiB, randomPdf, scanMessage, smtpSend } from './gateway-support.js';

const ALPHA = 'alpha.example';
const BRAVO = 'bravo.example';
const ADMIN = 'alpha-admin';
const PASSWORD = 'Alpha-Admin-Pass-1';

let t: Awaited<ReturnType<typeof startTestAppliance>>;
let browser: Browser;

const gatewayState = async () => ({
  alpha: await t.app.directory.listGateway(OP, ALPHA),
  bravo: await t.app.directory.listGateway(OP, BRAVO),
});

beforeAll(async () => {
  t = await startTestAppliance('gateway-admin-');
  const d = t.app.directory;
  for (const domain of [ALPHA, BRAVO]) {
    await d.addDomain(OP, domain);
    await d.addMailbox(OP, { domain, kind: 'role', localPart: 'reader', password: 'Reader-Pass-1' });
  }
  await d.addAdmin(OP, { username: ADMIN, role: 'domain-admin', domains: [ALPHA], password: PASSWORD });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

describe('attachment gateway section', () => {
  it('lets a domain admin register, set the rules and see the disk usage in Chromium', async () => {
    const user = await BrowserUser.open(browser, t.origin, 'gateway');
    try {
      await user.signIn(ADMIN, PASSWORD);
      expect(await user.goto(`/d/${ALPHA}/gateway`)).toBe(200);
      await user.screenshot('empty');
      const nav = user.page.getByRole('navigation', { name: `Domain ${ALPHA}` });
      await expect(
        nav.getByRole('link', { name: 'Attachment gateway' }).getAttribute('aria-current'),
      ).resolves.toBe('page');
      expect(await user.text()).toContain('Nobody yet: mail is delivered with its attachments.');

      await user.set('What', 'A mailbox of this domain');
      await user.set('Address or domain', 'reader');
      expect((await user.submitButton('Register')).final).toBe(200);
      expect(await user.text()).toContain(`reader@${ALPHA} is registered for the attachment gateway.`);
      await user.set('What', 'Mail from a sender to this domain');
      await user.set('Address or domain', 'library.example');
      await user.submitButton('Register');
      // A mailbox of another domain: refused on the page, nothing registered.
      await user.set('What', 'A mailbox of this domain');
      await user.set('Address or domain', `reader@${BRAVO}`);
      const foreign = await user.submitButton('Register');
      expect(foreign.post).toBe(403);
      await user.screenshot('foreign-refused');
      await user.goto(`/d/${ALPHA}/gateway`);
      await user.screenshot('registered');

      await user.set('Size threshold (MiB)', 'lots');
      expect((await user.submitButton('Save the rules')).post).toBe(400);
      expect(await user.text()).toContain('A size in MiB, such as 2 or 0.5.');
      await user.screenshot('rules-error');
      await user.set('Size threshold (MiB)', '1.5');
      await user.set('Media types', 'application/pdf, image/*');
      await user.set('Days a link works', '10');
      await user.set('Downloads need the recipient’s mailbox password');
      expect((await user.submitButton('Save the rules')).final).toBe(200);
      const [alpha] = await t.app.directory.listGateway(OP, ALPHA);
      expect(alpha?.rules).toEqual({
        thresholdBytes: 1.5 * MiB,
        mediaTypes: ['application/pdf', 'image/*'],
        expiryDays: 10,
        loginRequired: true,
      });
      expect(alpha?.registrations.map((r) => `${r.kind}:${r.target}:${r.createdBy}`)).toEqual([
        `mailbox:reader@${ALPHA}:${ADMIN}`,
        'sender:library.example:alpha-admin',
      ]);

      // Mail to the registered mailbox: the page shows the disk space it takes.
      const pdf = randomPdf(2 * MiB);
      await smtpSend(
        listenerPort(t.app, 'smtp'),
        'scans@library.example',
        [`reader@${ALPHA}`],
        scanMessage(`reader@${ALPHA}`, pdf),
      );
      await user.goto(`/d/${ALPHA}/gateway`);
      expect(await user.text()).toContain('2.0 MiB in 1 file(s), for 1 link(s) that still work.');
      await user.screenshot('usage');

      // Removing the sender registration.
      const row = user.page.getByRole('row').filter({ hasText: 'library.example' });
      await user.submit(row.getByRole('button', { name: 'Remove' }));
      expect(await user.text()).toContain(
        'library.example is no longer registered for the attachment gateway.',
      );
      await user.screenshot('removed');

      expect(await user.goto('/help/gateway')).toBe(200);
      expect(await user.text()).toContain('cannot download a message with a large scan');
      await user.screenshot('help');
      expect(user.alerts).toEqual([]);
    } finally {
      await user.close();
    }
  });

  it('refuses the domain admin another domain’s recipients through the forms, and changes nothing', async () => {
    const client = new WebClient(t.origin);
    expect((await client.signIn(ADMIN, PASSWORD)).status).toBe(303);
    const { forms } = await client.page(`/d/${ALPHA}/gateway`);
    const token = forms[0]?.controls.find(isCsrfField)?.value ?? '';
    expect(token).not.toBe('');
    const csrf: [string, string] = [forms[0]?.controls.find(isCsrfField)?.name ?? '', token];
    await t.app.directory.registerGateway(OP, { target: `reader@${BRAVO}` });
    const before = await gatewayState();
    const attempts: Array<[string, Array<[string, string]>]> = [
      [`/d/${BRAVO}/gateway/register`, [['kind', 'domain']]],
      [
        `/d/${BRAVO}/gateway/register`,
        [
          ['kind', 'mailbox'],
          ['target', 'reader'],
        ],
      ],
      [
        `/d/${BRAVO}/gateway/unregister`,
        [
          ['kind', 'mailbox'],
          ['target', `reader@${BRAVO}`],
        ],
      ],
      [
        `/d/${BRAVO}/gateway/settings`,
        [
          ['threshold', '1'],
          ['expiryDays', '1'],
        ],
      ],
      [
        `/d/${ALPHA}/gateway/register`,
        [
          ['kind', 'mailbox'],
          ['target', `reader@${BRAVO}`],
        ],
      ],
      [
        `/d/${ALPHA}/gateway/unregister`,
        [
          ['kind', 'mailbox'],
          ['target', `reader@${BRAVO}`],
        ],
      ],
    ];
    for (const [path, form] of attempts) {
      const r = await client.post(path, [csrf, ...form]);
      expect(r.status, `POST ${path} ${JSON.stringify(form)}`).toBe(403);
    }
    expect((await client.get(`/d/${BRAVO}/gateway`)).status).toBe(403);
    expect(await gatewayState()).toEqual(before);
  });

  it('refuses it through the JSON API too, and the API works for its own domain', async () => {
    const api = new WebClient(t.origin);
    const issued = await api.fetch('POST', '/api/v1/tokens', {
      json: { username: ADMIN, password: PASSWORD },
    });
    const bearer = (JSON.parse(issued.body) as { token: string }).token;
    const before = await gatewayState();
    const attempts: Array<[string, string, unknown]> = [
      ['GET', `/api/v1/domains/${BRAVO}/gateway`, undefined],
      ['PUT', `/api/v1/domains/${BRAVO}/gateway/settings`, { expiryDays: 1 }],
      ['POST', `/api/v1/domains/${BRAVO}/gateway/registrations`, { kind: 'domain' }],
      ['POST', `/api/v1/domains/${BRAVO}/gateway/registrations`, { kind: 'mailbox', target: 'reader' }],
      [
        'POST',
        `/api/v1/domains/${ALPHA}/gateway/registrations`,
        { kind: 'mailbox', target: `reader@${BRAVO}` },
      ],
      ['DELETE', `/api/v1/domains/${BRAVO}/gateway/registrations?kind=mailbox&target=reader`, undefined],
      [
        'DELETE',
        `/api/v1/domains/${ALPHA}/gateway/registrations?kind=mailbox&target=reader@${BRAVO}`,
        undefined,
      ],
    ];
    for (const [method, path, json] of attempts) {
      const r = await api.fetch(method, path, { bearer, ...(json === undefined ? {} : { json }) });
      expect(r.status, `${method} ${path}: ${r.body}`).toBe(403);
    }
    // A sender registration is for the path's domain, whatever else the body says.
    const sender = await api.fetch('POST', `/api/v1/domains/${ALPHA}/gateway/registrations`, {
      bearer,
      json: { kind: 'sender', target: 'x@y.example', domain: BRAVO },
    });
    expect(sender.status, sender.body).toBe(201);
    expect(JSON.parse(sender.body)).toMatchObject({ domain: ALPHA, kind: 'sender', target: 'x@y.example' });
    const after = await gatewayState();
    expect(after.bravo).toEqual(before.bravo);
    expect(after.alpha[0]?.registrations.map((r) => r.target)).toContain('x@y.example');

    const own = await api.fetch('PUT', `/api/v1/domains/${ALPHA}/gateway/settings`, {
      bearer,
      json: { thresholdBytes: 3 * MiB },
    });
    expect(own.status, own.body).toBe(200);
    expect(JSON.parse(own.body)).toMatchObject({ thresholdBytes: 3 * MiB, expiryDays: 10 });
    const bad = await api.fetch('PUT', `/api/v1/domains/${ALPHA}/gateway/settings`, {
      bearer,
      json: { mediaTypes: ['pdf'] },
    });
    expect(bad.status).toBe(400);
    const view = await api.fetch('GET', `/api/v1/domains/${ALPHA}/gateway`, { bearer });
    expect(JSON.parse(view.body)).toMatchObject({
      domain: ALPHA,
      rules: { thresholdBytes: 3 * MiB },
      usage: { links: 1, files: 1, bytes: 2 * MiB },
    });
    const removed = await api.fetch(
      'DELETE',
      `/api/v1/domains/${ALPHA}/gateway/registrations?kind=sender&target=x@y.example`,
      {
        bearer,
      },
    );
    expect(removed.status, removed.body).toBe(200);
    const doc = JSON.parse((await api.get('/api/v1/openapi.json')).body) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/domains/{domain}/gateway', '/domains/{domain}/gateway/registrations']),
    );
  });
});
