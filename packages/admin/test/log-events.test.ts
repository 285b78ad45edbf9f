/**
 * What the admin UI and JSON API log (docs/log-events.md): sign-ins, failed sign-ins, lockouts, sign-outs
 * and actions, each with its event; never a password (the wrong one typed, or the right one), nor a token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimpleLoginLimiter } from '../src/index.js';
import { apiRequest, location, PASSWORD, world } from './helpers.js';

/** Recognisable, and never to be found in the log. */
const SECRET = 'Tr0ub4dor-admin-never-logged';

const entries: Array<Record<string, unknown>> = [];
const record = (level: string) => (obj: object, msg?: string) =>
  entries.push({ level, ...obj, ...(msg ? { msg } : {}) });
const logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
const events = (name: string) => entries.filter((e) => e.event === name);

let w: Awaited<ReturnType<typeof world>>;

beforeAll(async () => {
  w = await world({ logger, limiter: new SimpleLoginLimiter({ maxPerAccount: 3 }) });
});
afterAll(async () => w?.cleanup());

const api = (method: string, path: string, opts: { token?: string; body?: unknown } = {}) =>
  apiRequest(w.app, method, path, opts);

describe('admin log events', () => {
  it('form: failed sign-ins, the lockout, a sign-in, an action and the sign-out', async () => {
    const b = w.browser('198.51.100.7');
    for (let i = 0; i < 3; i++) expect((await b.signIn('alice', SECRET)).status).toBe(401);
    expect(events('admin.signin_failed')).toHaveLength(3);
    expect(events('admin.signin_failed')[0]).toMatchObject({
      level: 'info',
      target: 'alice',
      client: '198.51.100.7',
      reason: 'password',
      via: 'form',
    });
    expect(events('admin.lockout')).toEqual([
      expect.objectContaining({ level: 'warn', target: 'alice', client: '198.51.100.7' }),
    ]);
    // Locked out: the next attempt is refused before any check, and logged as such.
    expect((await b.signIn('alice', SECRET)).status).toBe(429);
    expect(events('admin.signin_failed').at(-1)).toMatchObject({
      target: 'alice',
      client: '198.51.100.7',
      reason: 'rate-limited',
      via: 'form',
    });

    const root = w.browser('198.51.100.8');
    expect(location(await root.signIn('root'))).toBe('/');
    expect(events('admin.signin')).toEqual([
      expect.objectContaining({
        actor: 'operator:root',
        target: 'root',
        client: '198.51.100.8',
        via: 'form',
      }),
    ]);
    await root.get('/domains');
    expect((await root.post('/domains', { domain: 'logged.example' })).status).toBe(303);
    expect(events('admin.action')).toEqual([
      expect.objectContaining({ actor: 'operator:root', method: 'POST', path: '/domains', status: 303 }),
    ]);
    await root.post('/logout');
    expect(events('admin.signout')).toEqual([
      expect.objectContaining({ actor: 'operator:root', target: 'root' }),
    ]);
  });

  it('API: a failed token request, a token, an action and its revocation', async () => {
    expect((await api('POST', '/tokens', { body: { username: 'bob', password: SECRET } })).status).toBe(401);
    expect(events('admin.signin_failed').at(-1)).toMatchObject({
      target: 'bob',
      reason: 'password',
      via: 'api',
    });

    const issued = await api('POST', '/tokens', { body: { username: 'root', password: PASSWORD } });
    expect(issued.status).toBe(201);
    const token = issued.json.token as string;
    expect(events('admin.signin').at(-1)).toMatchObject({ actor: 'operator:root', via: 'api' });
    expect((await api('POST', '/domains', { token, body: { name: 'api-logged.example' } })).status).toBe(201);
    expect(events('admin.action').at(-1)).toMatchObject({
      actor: 'operator:root',
      method: 'POST',
      path: '/api/v1/domains',
      status: 201,
    });
    expect((await api('DELETE', '/tokens/current', { token })).status).toBe(204);
    expect(events('admin.signout').at(-1)).toMatchObject({ actor: 'operator:root', via: 'api' });

    // Nothing secret anywhere in what was logged, and every entry names its event.
    const all = JSON.stringify(entries);
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(token);
    for (const e of entries) expect(typeof e.event, JSON.stringify(e)).toBe('string');
  });
});
