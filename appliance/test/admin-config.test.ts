/**
 * The appliance's `admin.*` settings reach the admin UI: a deployment-wide network allow-list
 * (DELEGATO_ADMIN_ALLOWED_NETWORKS) and mandatory two-step sign-in (DELEGATO_ADMIN_REQUIRE_TOTP).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { OPERATOR, OPERATOR_PASSWORD, startTestAppliance, WebClient } from './admin-support.js';

const running: Array<{ stop: () => Promise<void> }> = [];
afterAll(async () => {
  for (const r of running) await r.stop();
});

describe('admin.* settings', () => {
  it('refuses clients outside admin.allowedNetworks on every admin page and API call, not /healthz', async () => {
    const t = await startTestAppliance('delegato-admin-nets-', {
      DELEGATO_ADMIN_ALLOWED_NETWORKS: '10.0.0.0/8, 2001:db8::/32',
    });
    running.push(t);
    const web = new WebClient(t.origin);
    for (const path of ['/login', '/', '/api/v1/domains', '/api/v1/openapi.json', '/help']) {
      const r = await web.get(path);
      expect(r.status, path).toBe(403);
      expect(r.body).toContain('may not use the administration interface');
    }
    const post = await web.post('/login', [
      ['username', OPERATOR],
      ['password', OPERATOR_PASSWORD],
    ]);
    expect(post.status).toBe(403);
    expect(post.setCookies).toEqual([]);
    expect((await web.get('/healthz')).status).toBe(200);

    // Loopback in the list: the same appliance configuration lets the operator in.
    const open = await startTestAppliance('delegato-admin-nets-ok-', {
      DELEGATO_ADMIN_ALLOWED_NETWORKS: '10.0.0.0/8,127.0.0.0/8',
    });
    running.push(open);
    const ok = new WebClient(open.origin);
    const signIn = await ok.signIn(OPERATOR, OPERATOR_PASSWORD);
    expect(signIn.status).toBe(303);
    expect(signIn.locationPath).toBe('/');
  }, 60_000);

  it('sends every admin to TOTP enrolment when admin.requireTotp is on', async () => {
    const t = await startTestAppliance('delegato-admin-totp-', { DELEGATO_ADMIN_REQUIRE_TOTP: 'true' });
    running.push(t);
    const web = new WebClient(t.origin);
    const signIn = await web.signIn(OPERATOR, OPERATOR_PASSWORD);
    expect(signIn.status).toBe(303);
    expect(signIn.locationPath).toBe('/me/totp');
    // Until enrolled, the admin pages stay closed.
    const home = await web.get('/domains');
    expect(home.status).toBe(303);
    expect(home.locationPath).toBe('/me/totp');
  }, 60_000);
});
