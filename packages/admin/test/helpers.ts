import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Actor, Directory, FederationKey } from '@delegato/directory';
import { type AdminOptions, adminApp } from '../src/index.js';

export const ORIGIN = 'https://admin.test';
export const operator: Actor = { kind: 'operator', name: 'root', from: '127.0.0.1' };
export const PASSWORD = 'correct horse battery';

/** A settable clock. */
export class Clock {
  constructor(public t = new Date('2026-03-02T09:00:00Z').getTime()) {}
  now = () => new Date(this.t);
  advance(ms: number) {
    this.t += ms;
  }
}

/**
 * A real directory in a temp dir with: operator `root`; domains a.example and b.example; admins `alice`
 * (a.example) and `bob` (b.example); mailbox rose.pinkcheeks@a.example.
 */
export async function world(overrides: Partial<AdminOptions> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'delegato-admin-'));
  const clock = new Clock();
  const directory = await Directory.open({
    path: join(root, 'directory.db'),
    regionId: 'local',
    timezone: 'UTC',
    retentionDays: 30,
    cramMd5: false,
    key: FederationKey.fromBytes(randomBytes(32)),
    now: clock.now,
  });
  await directory.addDomain(operator, 'a.example');
  await directory.addDomain(operator, 'b.example');
  await directory.addAdmin(operator, { username: 'root', role: 'operator', password: PASSWORD });
  await directory.addAdmin(operator, {
    username: 'alice',
    role: 'domain-admin',
    domains: ['a.example'],
    password: PASSWORD,
  });
  await directory.addAdmin(operator, {
    username: 'bob',
    role: 'domain-admin',
    domains: ['b.example'],
    password: PASSWORD,
  });
  await directory.addMailbox(operator, {
    domain: 'a.example',
    kind: 'personal',
    firstName: 'Rose',
    lastName: 'Pinkcheeks',
    password: PASSWORD,
  });
  await directory.addMailbox(operator, {
    domain: 'b.example',
    kind: 'personal',
    firstName: 'Mario',
    lastName: 'Rossi',
    password: PASSWORD,
  });
  const app = adminApp({
    directory,
    region: 'local',
    sessionSecret: randomBytes(32),
    now: clock.now,
    clientAddress: (c) => c.req.header('x-test-client') ?? '192.0.2.10',
    logError: (err) => {
      throw err;
    },
    ...overrides,
  });
  return {
    app,
    directory,
    clock,
    browser: (ip?: string) => new Browser(app, ip),
    cleanup: async () => {
      await app.close().catch(() => undefined);
      await directory.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A JSON API call (`/api/v1<path>`), with a bearer token and a JSON body when given. */
export async function apiRequest(
  app: FetchApp,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown } = {},
) {
  const res = await app.request(`https://admin.test/api/v1${path}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
}

type FetchApp = { request: (input: string, init?: RequestInit) => Response | Promise<Response> };

/** A cookie jar and the CSRF token of the last page seen: what a browser does, in-process. */
export class Browser {
  cookie: string | null = null;
  csrf: string | null = null;
  last: { status: number; text: string; headers: Headers } | null = null;

  constructor(
    private readonly app: FetchApp,
    private readonly ip?: string,
  ) {}

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...(this.cookie ? { cookie: this.cookie } : {}),
      ...(this.ip ? { 'x-test-client': this.ip } : {}),
      ...extra,
    };
  }

  async #take(res: Response) {
    const set = res.headers.get('set-cookie');
    if (set) {
      const m = /delegato_session=([^;]*)/.exec(set);
      if (m) this.cookie = m[1] ? `delegato_session=${m[1]}` : null;
    }
    const text = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(text);
    if (token?.[1]) this.csrf = token[1];
    this.last = { status: res.status, text, headers: res.headers };
    return this.last;
  }

  /** The same browser (cookie, CSRF token, address) talking to another app: a restarted appliance. */
  reattach(app: FetchApp): Browser {
    const b = new Browser(app, this.ip);
    b.cookie = this.cookie;
    b.csrf = this.csrf;
    return b;
  }

  async get(path: string) {
    return this.#take(await this.app.request(`${ORIGIN}${path}`, { headers: this.#headers() }));
  }

  /** A form POST with the CSRF token and same-origin headers (override with `opts`). */
  async post(
    path: string,
    fields: Record<string, string | string[]> = {},
    opts: { csrf?: string | null; origin?: string | null } = {},
  ) {
    const body = new URLSearchParams();
    const token = opts.csrf === undefined ? this.csrf : opts.csrf;
    if (token) body.append('_csrf', token);
    for (const [k, v] of Object.entries(fields)) {
      for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    }
    const origin = opts.origin === undefined ? ORIGIN : opts.origin;
    const res = await this.app.request(`${ORIGIN}${path}`, {
      method: 'POST',
      body,
      headers: this.#headers({
        'content-type': 'application/x-www-form-urlencoded',
        ...(origin ? { origin } : {}),
      }),
    });
    return this.#take(res);
  }

  /** Signs in through the login form; returns the final response after following redirects. */
  async signIn(username: string, password = PASSWORD) {
    await this.get('/login');
    const res = await this.post('/login', { username, password });
    return res;
  }
}

export function location(res: { headers: Headers }): string | null {
  return res.headers.get('location');
}
