/** The app mounted the way the appliance's HTTPS listener does: a parent serving /healthz. */
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, location, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
beforeAll(async () => {
  w = await world();
});
afterAll(async () => w?.cleanup());

describe('mounted under a parent app', () => {
  it('keeps /healthz of the parent and serves the UI with its own error pages', async () => {
    const parent = new Hono();
    parent.get('/healthz', (c) => c.json({ status: 'ok' }));
    parent.route('/', w.app);
    const health = await parent.request('https://admin.test/healthz');
    expect(await health.json()).toEqual({ status: 'ok' });
    const b = new Browser(parent);
    expect((await b.get('/login')).status).toBe(200);
    expect(location(await b.signIn('alice'))).toBe('/');
    expect((await b.get('/d/a.example/mailboxes')).status).toBe(200);
    const forbidden = await b.get('/d/b.example/mailboxes');
    expect(forbidden.status).toBe(403);
    expect(forbidden.text).toContain('Not allowed');
    expect(forbidden.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});
