/**
 * The admin UI and API as an attacker sees them, over plain HTTPS (no browser; cookies kept by hand)
 * against the real appliance: a domain administrator of alpha.example aims every mutating form and API
 * call at bravo.example (403, and the directory is unchanged: checked as an operator); form POSTs
 * without their CSRF token are refused; names holding HTML come back escaped on every page that shows
 * them; the session cookie's flags and the security headers are there.
 *
 * The forms are not hard-coded: the tests crawl the pages each kind of user can reach and post what
 * those pages offer, so a form added later is covered too. The API's operations come from its OpenAPI
 * document.
 */
import type { Directory } from '@delegato/directory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Control,
  decodeEntities,
  directoryState,
  fill,
  type HtmlForm,
  type HttpResponse,
  isCsrfField,
  listenerPort,
  OP,
  OPERATOR,
  OPERATOR_PASSWORD,
  parseForms,
  sendMail,
  startTestAppliance,
  WebClient,
} from './admin-support.js';

const ALPHA = 'alpha.example';
const BRAVO = 'bravo.example';
/** Set up like alpha and bravo, with its own administrator: the control that the refused requests are valid ones. */
const CHARLIE = 'charlie.example';
const ADMIN_C = 'admin-charlie';
/** The same for the API. */
const DELTA = 'delta.example';
const ADMIN_D = 'admin-delta';
const ADMIN_A = 'admin-alpha';
const ADMIN_B = 'admin-bravo';
const ADMIN_PASSWORD = 'Domain-Admin-Pass-1';
const USER_PASSWORD = 'Alice-Mail-Pass-1';
const PROBE_PASSWORD = 'Intruder-Pass-1234';
const ALICE = (d: string) => `alice.anders@${d}`;

/** Payloads in the names of a mailbox; none may ever reach a page unescaped. */
const XSS_FIRST = '<script>alert(1)</script>';
const XSS_CONTACT = '<img src=x onerror=alert(2)>';
const XSS_FLAG = '"><svg onload=alert(3)>';
const XSS_RAW = ['<script>alert(', '<img src=x onerror', '<svg onload'];

let t: Awaited<ReturnType<typeof startTestAppliance>>;
let d: Directory;

const eqCi = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();
const has = (f: HtmlForm, label: string) => f.controls.some((c) => eqCi(c.label, label));
const csrfOf = (f: HtmlForm) => f.controls.filter(isCsrfField);
const describeForm = (f: HtmlForm) =>
  `${f.method} ${f.action} [${f.controls.map((c) => c.label || c.name).join(', ')}]`;

/**
 * Values that would make the form do its job (so a refusal is the check's doing, not bad input), with
 * every checkbox ticked (remove forms: purge the mail too, force a domain's removal).
 */
function valuesFor(f: HtmlForm, domain: string, tag: string): Array<[string, string]> {
  const boxes = f.controls
    .filter((c) => c.type === 'checkbox' && c.label)
    .map((c): [string, string] => [c.label, '']);
  return [...fieldValues(f, domain, tag), ...boxes];
}

function fieldValues(f: HtmlForm, domain: string, tag: string): Array<[string, string]> {
  // The mailbox page's details form (issue 19): a new flag is a change; the names stay.
  if (has(f, 'First name') && has(f, 'Flag') && !has(f, 'Password')) return [['Flag', `${tag}-flag`]];
  if (has(f, 'Quota') && !has(f, 'First name')) return [['Quota', '50M']];
  if (has(f, 'First name'))
    return [
      ['First name', 'Mallory'],
      ['Last name', `${tag[0]?.toUpperCase()}${tag.slice(1)}probe`],
      ['Personal', ''],
      ['Password', PROBE_PASSWORD],
    ];
  if (has(f, 'Targets'))
    return [
      ['Alias', `${tag}-alias@${domain}`],
      ['Targets', ALICE(domain)],
    ];
  if (has(f, 'Remote address'))
    return [
      ['Address', `${tag}-forward@${domain}`],
      ['Remote address', 'probe@elsewhere.example'],
    ];
  if (has(f, 'List server address'))
    return [
      ['Address', `${tag}-list@${domain}`],
      ['List server address', 'probe@lists.example'],
    ];
  if (has(f, 'List address'))
    return [
      ['List address', `${tag}-mlist@${domain}`],
      ['Owner', ALICE(domain)],
      ['Members', ALICE(domain)],
    ];
  // A member may be any address: one outside every hosted domain, so that only the list is aimed.
  if (has(f, 'Add members')) return [['Add members', 'probe@elsewhere.example']];
  if (has(f, 'Current password'))
    return [
      ['Current password', USER_PASSWORD],
      ['New password', PROBE_PASSWORD],
    ];
  if (has(f, 'New password')) return [['New password', PROBE_PASSWORD]];
  if (has(f, 'Expiration date')) return [['Expiration date', '2098-01-01']];
  if (has(f, 'Domain')) return [['Domain', `${tag}.example`]];
  if (has(f, 'Username') && has(f, 'Password') && !has(f, 'Role'))
    return [
      ['Username', ADMIN_A],
      ['Password', ADMIN_PASSWORD],
    ];
  if (has(f, 'Role'))
    return [
      ['Username', `${tag}-admin`],
      ['Password', PROBE_PASSWORD],
      ['Role', 'operator'],
    ];
  return [];
}

/**
 * Every page a client can reach by following links from `start` (GET only, never /logout), and the
 * forms on them.
 */
async function crawl(c: WebClient, start: string[], limit = 80) {
  const seen = new Set<string>();
  const queue = [...start];
  const pages: Array<{ path: string; status: number; html: string; forms: HtmlForm[] }> = [];
  while (queue.length > 0 && seen.size < limit) {
    const path = queue.shift() as string;
    if (seen.has(path)) continue;
    seen.add(path);
    const r = await c.get(path);
    if (r.status !== 200 || !/text\/html/.test(String(r.headers['content-type']))) continue;
    pages.push({
      path,
      status: r.status,
      html: r.body,
      forms: parseForms(r.body, path.split('?')[0] ?? path),
    });
    for (const m of r.body.matchAll(/<a\b[^>]*\bhref\s*=\s*("([^"]*)"|'([^']*)')/gi)) {
      const href = decodeEntities(m[2] ?? m[3] ?? '');
      const u = new URL(href, new URL(path, t.origin));
      if (u.origin !== t.origin || /logout/.test(u.pathname) || u.pathname.startsWith('/api/')) continue;
      const p = decodeURIComponent(u.pathname) + u.search;
      if (!seen.has(p)) queue.push(p);
    }
  }
  return pages;
}

/** The POST forms of some pages, one per action and field set. */
function postForms(pages: Array<{ forms: HtmlForm[] }>): HtmlForm[] {
  const out = new Map<string, HtmlForm>();
  for (const p of pages) for (const f of p.forms) if (f.method === 'POST') out.set(describeForm(f), f);
  return [...out.values()];
}

async function signedIn(username: string, password: string): Promise<WebClient> {
  const c = new WebClient(t.origin);
  const r = await c.signIn(username, password);
  expect(r.status, `sign-in of ${username}: ${r.body.slice(0, 200)}`).toBeGreaterThanOrEqual(300);
  expect(r.status).toBeLessThan(400);
  expect(r.locationPath).not.toMatch(/^\/login/);
  return c;
}

/** The session's CSRF token, read from any form on a page it can open. */
async function tokenOf(c: WebClient, path: string): Promise<string> {
  const { forms } = await c.page(path);
  const field = forms.flatMap((f) => f.controls).find(isCsrfField);
  if (!field) throw new Error(`no CSRF field on ${path}`);
  return field.value;
}

/** Follows a redirect (once) and returns the page shown after a POST. */
async function shown(c: WebClient, r: HttpResponse): Promise<string> {
  if (r.status >= 300 && r.status < 400 && r.locationPath?.startsWith('/')) {
    return (await c.get(r.locationPath)).body;
  }
  return r.body;
}

beforeAll(async () => {
  t = await startTestAppliance('delegato-admin-authz-');
  d = t.app.directory;
  for (const dom of [ALPHA, BRAVO, CHARLIE, DELTA]) {
    await d.addDomain(OP, dom);
    await d.addMailbox(OP, {
      domain: dom,
      kind: 'personal',
      firstName: 'Alice',
      lastName: 'Anders',
      password: USER_PASSWORD,
    });
    await d.addAlias(OP, `team@${dom}`, [ALICE(dom)]);
    await d.addForward(OP, `moved@${dom}`, 'moved@elsewhere.example');
    await d.addListAlias(OP, `staff@${dom}`, 'staff@lists.example');
    await d.createList(OP, {
      address: `news@${dom}`,
      owner: ALICE(dom),
      senders: 'anyone',
      moderated: true,
      members: [ALICE(dom)],
    });
  }
  for (const [username, domain] of [
    [ADMIN_A, ALPHA],
    [ADMIN_B, BRAVO],
    [ADMIN_C, CHARLIE],
    [ADMIN_D, DELTA],
  ] as const) {
    await d.addAdmin(OP, { username, role: 'domain-admin', domains: [domain], password: ADMIN_PASSWORD });
  }
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe('session cookie and security headers', { timeout: 60_000 }, () => {
  it('every cookie is HttpOnly, Secure and SameSite; signing in gives a new session; signing out ends it', async () => {
    const c = new WebClient(t.origin);
    const login = await c.get('/login');
    expect(login.status).toBe(200);
    const anonymous = new Map(c.cookies);
    const r = await c.signIn(ADMIN_A, ADMIN_PASSWORD);
    expect(r.setCookies.length, 'signing in sets the session cookie').toBeGreaterThan(0);
    for (const sc of [...login.setCookies, ...r.setCookies]) {
      const attrs = sc.split(';').map((a) => a.trim().toLowerCase());
      expect(attrs, sc).toContain('httponly');
      expect(attrs, sc).toContain('secure');
      expect(
        attrs.some((a) => /^samesite=(lax|strict)$/.test(a)),
        sc,
      ).toBe(true);
    }
    // Session fixation: no cookie keeps the value it had before the password was given.
    for (const [name, value] of anonymous) expect(c.cookies.get(name), name).not.toBe(value);
    expect((await c.get(`/d/${ALPHA}/mailboxes`)).status).toBe(200);

    const stolen = new WebClient(t.origin);
    for (const [k, v] of c.cookies) stolen.cookies.set(k, v);
    const { forms } = await c.page(`/d/${ALPHA}/mailboxes`);
    const logout = forms.find((f) => f.method === 'POST' && /\/logout$/.test(f.action));
    expect(logout, 'a sign-out form on the mailbox list').toBeDefined();
    const out = await c.post(logout?.action ?? '/logout', fill(logout as HtmlForm));
    expect(out.status).toBeGreaterThanOrEqual(300);
    expect(out.status).toBeLessThan(400);
    // The old cookie, replayed after sign-out, opens nothing.
    const after = await stolen.get(`/d/${ALPHA}/mailboxes`);
    expect(after.status === 200, `GET after sign-out with the old cookie: ${after.status}`).toBe(false);
    if (after.status >= 300 && after.status < 400) expect(after.locationPath).toMatch(/^\/login/);
  });

  it('pages and the API carry the security headers', async () => {
    const admin = await signedIn(ADMIN_A, ADMIN_PASSWORD);
    const anon = new WebClient(t.origin);
    const responses: Array<[string, HttpResponse, boolean]> = [
      ['GET /login', await anon.get('/login'), true],
      [`GET /d/${ALPHA}/mailboxes`, await admin.get(`/d/${ALPHA}/mailboxes`), true],
      [
        `GET /d/${ALPHA}/mailboxes/${ALICE(ALPHA)}`,
        await admin.get(`/d/${ALPHA}/mailboxes/${ALICE(ALPHA)}`),
        true,
      ],
      ['GET /api/v1/openapi.json', await anon.get('/api/v1/openapi.json'), false],
    ];
    for (const [what, r, html] of responses) {
      expect(r.status, what).toBe(200);
      const h = r.headers;
      const csp = String(h['content-security-policy'] ?? '');
      expect(h['x-content-type-options'], `${what}: X-Content-Type-Options`).toBe('nosniff');
      expect(String(h['strict-transport-security']), `${what}: Strict-Transport-Security`).toMatch(
        /max-age=[1-9]/,
      );
      expect(h['referrer-policy'], `${what}: Referrer-Policy`).toBeDefined();
      const framing =
        /^(deny|sameorigin)$/i.test(String(h['x-frame-options'])) ||
        /frame-ancestors\s+('none'|'self')/.test(csp);
      expect(framing, `${what}: X-Frame-Options or CSP frame-ancestors`).toBe(true);
      if (html) {
        expect(String(h['content-type']), what).toMatch(/^text\/html/);
        expect(csp, `${what}: Content-Security-Policy with default-src or script-src`).toMatch(
          /(default|script)-src/,
        );
      } else {
        expect(String(h['content-type']), what).toMatch(/^application\/json/);
      }
    }
  });
});

describe('CSRF', { timeout: 60_000 }, () => {
  it('every POST form carries a hidden CSRF token; without it, with a wrong one or another session’s, the POST is refused and nothing changes', async () => {
    const anon = new WebClient(t.origin);
    const admin = await signedIn(ADMIN_A, ADMIN_PASSWORD);
    const operator = await signedIn(OPERATOR, OPERATOR_PASSWORD);
    const user = await signedIn(ALICE(ALPHA), USER_PASSWORD);
    const collections: Array<[WebClient, HtmlForm[]]> = [
      [anon, postForms(await crawl(anon, ['/login']))],
      [
        admin,
        postForms(
          await crawl(admin, [
            '/',
            `/d/${ALPHA}/mailboxes`,
            `/d/${ALPHA}/mailboxes/new`,
            `/d/${ALPHA}/mailboxes/${ALICE(ALPHA)}`,
            `/d/${ALPHA}/forwards`,
            `/d/${ALPHA}/aliases`,
            `/d/${ALPHA}/lists`,
          ]),
        ),
      ],
      [operator, postForms(await crawl(operator, ['/', '/domains', '/admins']))],
      [user, postForms(await crawl(user, ['/me']))],
    ];
    const all = collections.flatMap(([, fs]) => fs);
    const must = (pred: (f: HtmlForm) => boolean, what: string) =>
      expect(all.some(pred), `${what} among ${all.map(describeForm).join('\n')}`).toBe(true);
    must((f) => has(f, 'Username') && has(f, 'Password') && /\/login/.test(f.action), 'the sign-in form');
    must((f) => has(f, 'First name'), 'the new-mailbox form');
    must((f) => /\/remove$/.test(f.action), 'a remove form');
    must((f) => has(f, 'New password') && !has(f, 'Current password'), 'the password form');
    must((f) => has(f, 'Expiration date') && !has(f, 'First name'), 'the expiry form');
    must((f) => has(f, 'Targets'), 'the alias form');
    must((f) => has(f, 'Remote address'), 'the forward form');
    must((f) => has(f, 'List server address'), 'the list form');
    must((f) => has(f, 'Domain') && has(f, 'Region'), 'the domain form');
    must((f) => has(f, 'Role') && has(f, 'Username'), 'the administrator form');
    must((f) => has(f, 'Current password'), 'the self-service password form');
    must((f) => /\/logout$/.test(f.action), 'the sign-out form');

    for (const f of all) expect(csrfOf(f).length, `one hidden CSRF field in ${describeForm(f)}`).toBe(1);

    const otherToken = await tokenOf(operator, '/domains');
    const before = await directoryState(d);
    const failures: string[] = [];
    for (const [client, forms] of collections) {
      for (const f of forms) {
        const values = valuesFor(f, ALPHA, 'csrf');
        const attempts: Array<[string, Array<[string, string]>]> = [
          ['no token', fill(f, values, { omit: isCsrfField })],
          [
            'wrong token',
            fill(f, values, { replace: (c: Control, v) => (isCsrfField(c) ? `${v.slice(0, -2)}xx` : v) }),
          ],
          ['empty token', fill(f, values, { replace: (c: Control, v) => (isCsrfField(c) ? '' : v) })],
        ];
        if (client !== anon && client !== operator)
          attempts.push([
            'another session’s token',
            fill(f, values, { replace: (c: Control, v) => (isCsrfField(c) ? otherToken : v) }),
          ]);
        for (const [what, fields] of attempts) {
          const cookiesBefore = new Map(client.cookies);
          const r = await client.post(f.action, fields);
          if (r.status !== 403)
            failures.push(
              `${describeForm(f)} with ${what}: expected 403, got ${r.status} ${r.locationPath ?? ''}`,
            );
          // A refused sign-in or sign-out leaves the session as it was.
          for (const [k, v] of cookiesBefore) client.cookies.set(k, v);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await directoryState(d)).toEqual(before);
    // Nobody got signed in or out by a refused form.
    expect((await anon.get(`/d/${ALPHA}/mailboxes`)).status).not.toBe(200);
    expect((await admin.get(`/d/${ALPHA}/mailboxes`)).status).toBe(200);
    expect((await user.get('/me')).status).toBe(200);
    expect(await d.authenticateMailbox(ALICE(ALPHA), USER_PASSWORD)).not.toBeNull();
  });

  it('the API ignores the session cookie: a cookie-only POST is refused (401/403)', async () => {
    const admin = await signedIn(ADMIN_A, ADMIN_PASSWORD);
    const ops = await apiOperations();
    const before = await directoryState(d);
    const failures: string[] = [];
    for (const op of ops.filter((o) => o.method !== 'GET' && !/\/tokens/.test(o.path))) {
      const req = apiRequest(op, ALPHA, ALPHA, 'cookie');
      const r = await admin.fetch(op.method, req.path, req.json === undefined ? {} : { json: req.json });
      if (r.status !== 401 && r.status !== 403)
        failures.push(`${op.method} ${req.path} with only the cookie: ${r.status}`);
    }
    expect(failures).toEqual([]);
    expect(await directoryState(d)).toEqual(before);
  });
});

// ------------------------------------------------------------------------------------------ API helpers

interface ApiOperation {
  method: string;
  path: string;
  parameters: Array<{ name: string; in: string; required?: boolean; schema?: Schema }>;
  body: Schema | undefined;
}
type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
};

let spec: {
  paths: Record<string, Record<string, unknown>>;
  servers?: Array<{ url: string }>;
  components?: unknown;
};

async function apiOperations(): Promise<ApiOperation[]> {
  if (!spec) {
    const r = await new WebClient(t.origin).get('/api/v1/openapi.json');
    expect(r.status).toBe(200);
    spec = JSON.parse(r.body);
  }
  const base = new URL(spec.servers?.[0]?.url ?? '/', t.origin).pathname.replace(/\/$/, '');
  const out: ApiOperation[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const op = raw as {
        parameters?: ApiOperation['parameters'];
        requestBody?: { content?: Record<string, { schema?: Schema }> };
      };
      const full = path.startsWith('/api/') ? path : `${base}${path}`;
      out.push({
        method: method.toUpperCase(),
        path: full,
        parameters: [...((item.parameters as ApiOperation['parameters']) ?? []), ...(op.parameters ?? [])],
        body: op.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return out;
}

function deref(s: Schema | undefined): Schema {
  let cur = s ?? {};
  for (let i = 0; cur.$ref && i < 10; i++) {
    const parts = cur.$ref.replace(/^#\//, '').split('/');
    let node: unknown = spec;
    for (const p of parts) node = (node as Record<string, unknown>)[p];
    cur = (node as Schema) ?? {};
  }
  if (cur.allOf) {
    const merged: Schema = { type: 'object', properties: {}, required: [] };
    for (const part of cur.allOf.map(deref)) {
      Object.assign(merged.properties as object, part.properties);
      merged.required?.push(...(part.required ?? []));
    }
    return merged;
  }
  const alt = cur.oneOf ?? cur.anyOf;
  return alt?.[0] ? deref(alt[0]) : cur;
}

/** An example value for a field, by its name and schema, aimed at `domain`. */
function example(schema: Schema | undefined, name: string, domain: string, tag: string): unknown {
  const s = deref(schema);
  const n = name.toLowerCase();
  const type = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  if (s.enum) {
    const prefer = ['personal', 'operator', 'domain-admin'];
    return s.enum.find((e) => prefer.includes(String(e))) ?? s.enum[0];
  }
  if (type === 'object' || s.properties) {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s.properties ?? {})) {
      if (s.required?.includes(k) || /domain|password|name|kind|^add$/i.test(k))
        o[k] = example(v, k, domain, tag);
    }
    return o;
  }
  if (type === 'array') {
    if (/domain/.test(n)) return [domain];
    if (/target/.test(n)) return [ALICE(domain)];
    if (n === 'add') return ['probe@elsewhere.example']; // a list's new members
    return [example(s.items, n.replace(/s$/, ''), domain, tag)];
  }
  if (n === 'csv') return `first,last\r\nMallory,${tag[0]?.toUpperCase()}${tag.slice(1)}csv\r\n`;
  if (type === 'integer' || type === 'number') return 1;
  if (type === 'boolean') return true;
  if (/password/.test(n)) return PROBE_PASSWORD;
  if (/domain/.test(n)) return domain;
  if (/region/.test(n)) return t.region;
  if (/first/.test(n)) return 'Mallory';
  if (/last/.test(n)) return `${tag[0]?.toUpperCase()}${tag.slice(1)}probe`;
  if (/user/.test(n)) return `${tag}-user`;
  if (/owner/.test(n)) return ALICE(domain);
  if (/remote|list|server|target/.test(n)) return 'probe@elsewhere.example';
  if (/expir|date/.test(n) || s.format === 'date') return '2098-01-01';
  if (/role/.test(n)) return 'operator';
  if (/kind|type/.test(n)) return 'personal';
  if (/address|alias|email|mail/.test(n) || s.format === 'email') return `${tag}-address@${domain}`;
  return tag;
}

/** A path parameter's value: what exists in `domain` under that kind of path. */
function pathValue(param: string, path: string, domain: string): string {
  if (/domain/i.test(param)) return domain;
  if (/admins?\//.test(path) || /user|admin/i.test(param)) return domain === BRAVO ? ADMIN_B : ADMIN_A;
  if (/forwards/.test(path)) return `moved@${domain}`;
  if (/mailing-lists/.test(path)) return `news@${domain}`;
  if (/lists/.test(path)) return `staff@${domain}`;
  if (/aliases/.test(path)) return `team@${domain}`;
  return ALICE(domain);
}

/**
 * The request for an operation: path parameters from `pathDomain`, the body and query aimed at
 * `bodyDomain` (the same domain, or another one for mixed-scope attempts).
 */
function apiRequest(op: ApiOperation, pathDomain: string, bodyDomain: string, prefix: string) {
  // One new address per kind of thing (an alias and a forward cannot share one).
  const tag = `${prefix}${/\/(aliases|forwards|lists|mailboxes)/.exec(op.path)?.[1] ?? ''}`;
  const query = new URLSearchParams();
  let path = op.path;
  const addressPath = pathDomain !== bodyDomain ? bodyDomain : pathDomain;
  for (const p of op.parameters) {
    if (p.in === 'path') {
      const v = /domain/i.test(p.name) ? pathDomain : pathValue(p.name, op.path, addressPath);
      path = path.replace(`{${p.name}}`, encodeURIComponent(v));
    } else if (p.in === 'query' && p.required)
      query.set(p.name, String(example(p.schema, p.name, bodyDomain, tag)));
  }
  const q = query.toString();
  return {
    path: q ? `${path}?${q}` : path,
    json: op.body ? example(op.body, 'body', bodyDomain, tag) : undefined,
  };
}

async function apiToken(username: string, password: string): Promise<string> {
  const r = await new WebClient(t.origin).fetch('POST', '/api/v1/tokens', { json: { username, password } });
  expect(r.status, `POST /api/v1/tokens: ${r.body}`).toBeLessThan(300);
  const body = JSON.parse(r.body) as Record<string, unknown>;
  const token = Object.entries(body).find(([k, v]) => /token/i.test(k) && typeof v === 'string')?.[1];
  expect(typeof token, `a token in ${r.body}`).toBe('string');
  return token as string;
}

// ------------------------------------------------------------------------------------------ scope

describe('a domain administrator of alpha.example cannot touch bravo.example', { timeout: 60_000 }, () => {
  it('every mutating form of alpha, aimed at bravo, is refused with 403 and changes nothing', async () => {
    const admin = await signedIn(ADMIN_A, ADMIN_PASSWORD);
    const forms = postForms(
      await crawl(admin, [
        `/d/${ALPHA}/mailboxes`,
        `/d/${ALPHA}/mailboxes/new`,
        `/d/${ALPHA}/mailboxes/${ALICE(ALPHA)}`,
        // The removal's confirmation step holds the form that removes (issue 19).
        `/d/${ALPHA}/mailboxes/${ALICE(ALPHA)}/remove`,
        `/d/${ALPHA}/forwards`,
        `/d/${ALPHA}/aliases`,
        `/d/${ALPHA}/lists`,
      ]),
    ).filter((f) => f.action.startsWith(`/d/${ALPHA}/`));
    const kinds = [
      'First name',
      'Targets',
      'Remote address',
      'List server address',
      'New password',
      'Expiration date',
    ];
    for (const k of kinds)
      expect(
        forms.some((f) => has(f, k)),
        `a form with ${k} on alpha's pages`,
      ).toBe(true);
    for (const kind of ['mailboxes', 'forwards', 'aliases', 'lists'])
      expect(
        forms.some((f) => new RegExp(`/${kind}/[^/]+/remove$`).test(f.action)),
        `a ${kind} remove form`,
      ).toBe(true);

    const before = await directoryState(d);
    const failures: string[] = [];
    const toBravo = (s: string) => s.replaceAll(ALPHA, BRAVO);
    for (const f of forms) {
      // 1. The same route and fields in bravo.
      const bravo = await admin.post(
        toBravo(f.action),
        fill(f, valuesFor(f, BRAVO, 'bravo'), { replace: (c, v) => (isCsrfField(c) ? v : toBravo(v)) }),
      );
      if (bravo.status !== 403) failures.push(`POST ${toBravo(f.action)}: expected 403, got ${bravo.status}`);
      // 2. Alpha's route with bravo's addresses (in the path or the fields), where it has any.
      const mixedAction = f.action.replaceAll(`@${ALPHA}`, `@${BRAVO}`);
      const mixedFields = fill(f, valuesFor(f, BRAVO, 'mixed'), {
        replace: (c, v) => (isCsrfField(c) ? v : v.replaceAll(`@${ALPHA}`, `@${BRAVO}`)),
      });
      if (mixedAction !== f.action || mixedFields.some(([, v]) => v.includes(`@${BRAVO}`))) {
        const mixed = await admin.post(mixedAction, mixedFields);
        if (mixed.status >= 500)
          failures.push(`POST ${mixedAction} (alpha route, bravo addresses): ${mixed.status}`);
      }
      const now = await directoryState(d);
      if (JSON.stringify(now) !== JSON.stringify(before)) {
        failures.push(`after ${describeForm(f)}: the directory changed`);
        expect(now, describeForm(f)).toEqual(before);
      }
    }
    expect(failures).toEqual([]);
    expect(await d.authenticateMailbox(ALICE(BRAVO), USER_PASSWORD)).not.toBeNull();

    // The control: the very same requests, aimed at charlie by charlie's administrator, do change
    // charlie (so the 403s above are the scope check's doing, not malformed requests).
    const charlie = await signedIn(ADMIN_C, ADMIN_PASSWORD);
    const token = await tokenOf(charlie, `/d/${CHARLIE}/mailboxes/new`);
    const toCharlie = (s: string) => s.replaceAll(ALPHA, CHARLIE);
    // postmaster@ stays (409); an import's check only shows its rows, the file is the point (issue 19);
    // the DNS records' check only looks them up (issue 18): neither changes anything to count.
    const valid = forms.filter(
      (f) =>
        !f.action.includes('/postmaster@') && !/\/import$/.test(f.action) && !/\/dns\/check$/.test(f.action),
    );
    for (const f of valid.sort((a, b) => removalOrder(a.action) - removalOrder(b.action))) {
      const audit = (await d.listAudit(OP, { domain: CHARLIE, limit: 10_000 })).length;
      const r = await charlie.post(
        toCharlie(f.action),
        fill(f, valuesFor(f, CHARLIE, 'control'), {
          replace: (c, v) => (isCsrfField(c) ? token : toCharlie(v)),
        }),
      );
      expect(
        r.status,
        `control: ${describeForm(f)} in charlie: ${r.body
          .replace(/<[^>]*>/g, ' ')
          .replace(/\s+/g, ' ')
          .slice(0, 1500)}`,
      ).toBeLessThan(400);
      expect(
        (await d.listAudit(OP, { domain: CHARLIE, limit: 10_000 })).length,
        `control: ${describeForm(f)} changed charlie`,
      ).toBe(audit + 1);
    }
  });

  it('bravo’s pages are 403 for alpha’s administrator and show nothing of bravo', async () => {
    const admin = await signedIn(ADMIN_A, ADMIN_PASSWORD);
    for (const path of [
      `/d/${BRAVO}/mailboxes`,
      `/d/${BRAVO}/mailboxes?q=alice`,
      `/d/${BRAVO}/mailboxes/new`,
      `/d/${BRAVO}/mailboxes/${ALICE(BRAVO)}`,
      `/d/${BRAVO}/mailboxes/${ALICE(BRAVO)}/setup`,
      `/d/${BRAVO}/forwards`,
      `/d/${BRAVO}/aliases`,
      `/d/${BRAVO}/lists`,
      `/d/${ALPHA}/mailboxes/${ALICE(BRAVO)}`,
      `/d/${ALPHA}/mailboxes/${ALICE(BRAVO)}/setup`,
    ]) {
      const r = await admin.get(path);
      expect(
        r.status === 403 || (path.startsWith(`/d/${ALPHA}/`) && r.status === 404),
        `GET ${path}: ${r.status}`,
      ).toBe(true);
      expect(r.body, `GET ${path}`).not.toContain(`alice.anders@${BRAVO}`);
    }
    // The operator's pages show nothing of other domains either (or are refused).
    for (const path of ['/', '/domains', '/admins']) {
      const r = await admin.get(path);
      expect(r.body, `GET ${path}`).not.toContain(BRAVO);
      expect(r.body, `GET ${path}`).not.toContain(ADMIN_B);
    }
  });

  it('the operator’s forms (domains, administrators) are refused to a domain administrator', async () => {
    const operator = await signedIn(OPERATOR, OPERATOR_PASSWORD);
    // Everything the operator's pages post, but the domains' own pages, one's own account, sign-out and
    // the language menu (everyone's own preference).
    const forms = postForms(await crawl(operator, ['/', '/domains', '/admins', '/regions'])).filter(
      (f) => !/^\/(d|me|login|logout|language)(\/|$)/.test(f.action),
    );
    for (const what of ['/domains', '/admins', `/domains/${ALPHA}/remove`, `/admins/${ADMIN_A}/remove`])
      expect(
        forms.map((f) => f.action),
        what,
      ).toContain(what);
    const admin = await signedIn(ADMIN_A, ADMIN_PASSWORD);
    const token = await tokenOf(admin, `/d/${ALPHA}/mailboxes/new`);
    const before = await directoryState(d);
    for (const f of forms) {
      const r = await admin.post(
        f.action,
        fill(f, valuesFor(f, ALPHA, 'escalate'), { replace: (c, v) => (isCsrfField(c) ? token : v) }),
      );
      expect(r.status, `${describeForm(f)} by a domain administrator`).toBe(403);
    }
    expect(await directoryState(d)).toEqual(before);
  });

  it('a mailbox user’s session opens no administration page and posts no administration form', async () => {
    const admin = await signedIn(ADMIN_A, ADMIN_PASSWORD);
    const forms = postForms(
      await crawl(admin, [
        `/d/${ALPHA}/mailboxes/new`,
        `/d/${ALPHA}/mailboxes/${ALICE(ALPHA)}`,
        `/d/${ALPHA}/aliases`,
      ]),
    ).filter((f) => f.action.startsWith(`/d/${ALPHA}/`));
    const user = await signedIn(ALICE(ALPHA), USER_PASSWORD);
    const token = await tokenOf(user, '/me');
    const before = await directoryState(d);
    for (const path of [
      `/d/${ALPHA}/mailboxes`,
      `/d/${ALPHA}/mailboxes/${ALICE(ALPHA)}`,
      '/domains',
      '/admins',
    ]) {
      const r = await user.get(path);
      const refused =
        r.status === 401 ||
        r.status === 403 ||
        (r.status >= 300 && r.status < 400 && /^\/(login|me)/.test(r.locationPath ?? ''));
      expect(refused, `GET ${path} as a mailbox user: ${r.status} ${r.locationPath ?? ''}`).toBe(true);
    }
    for (const f of forms) {
      const r = await user.post(
        f.action,
        fill(f, valuesFor(f, ALPHA, 'user'), { replace: (c, v) => (isCsrfField(c) ? token : v) }),
      );
      const refused =
        r.status === 401 ||
        r.status === 403 ||
        (r.status >= 300 && r.status < 400 && /^\/(login|me)/.test(r.locationPath ?? ''));
      expect(refused, `${describeForm(f)} as a mailbox user: ${r.status} ${r.locationPath ?? ''}`).toBe(true);
    }
    expect(await directoryState(d)).toEqual(before);
  });

  it('every API operation aimed at bravo (or at the operator’s business) is 403 and changes nothing', async () => {
    const ops = await apiOperations();
    expect(ops.length).toBeGreaterThan(3);
    const token = await apiToken(ADMIN_A, ADMIN_PASSWORD);
    const anon = new WebClient(t.origin);
    const before = await directoryState(d);
    const failures: string[] = [];
    const scoped = ops.filter((o) => !/\/(tokens|openapi\.json)/.test(o.path));
    for (const op of scoped) {
      // Without a token: 401.
      const req = apiRequest(op, BRAVO, BRAVO, 'anon');
      const none = await anon.fetch(op.method, req.path, req.json === undefined ? {} : { json: req.json });
      if (none.status !== 401)
        failures.push(`${op.method} ${req.path} without a token: expected 401, got ${none.status}`);

      const aimed =
        op.parameters.some((p) => p.in === 'path') || JSON.stringify(req.json ?? '').includes(BRAVO);
      const r = await anon.fetch(op.method, req.path, {
        bearer: token,
        ...(req.json === undefined ? {} : { json: req.json }),
      });
      if (aimed || op.method !== 'GET') {
        if (r.status !== 403)
          failures.push(
            `${op.method} ${req.path} ${JSON.stringify(req.json ?? '')}: expected 403, got ${r.status} ${r.body.slice(0, 200)}`,
          );
      } else if (r.body.includes(BRAVO) || r.body.includes(ADMIN_B)) {
        failures.push(`${op.method} ${req.path}: shows bravo's data to alpha's administrator`);
      }
      if (op.parameters.some((p) => p.in === 'path' && /domain/i.test(p.name)) && op.method !== 'GET') {
        // Alpha's route with bravo's objects in the path or body: refused (4xx).
        const mixed = apiRequest(op, ALPHA, BRAVO, 'mixed');
        if (!`${mixed.path} ${JSON.stringify(mixed.json ?? '')}`.includes(BRAVO)) continue;
        const m = await anon.fetch(op.method, mixed.path, {
          bearer: token,
          ...(mixed.json === undefined ? {} : { json: mixed.json }),
        });
        if (m.status < 400 || m.status >= 500)
          failures.push(
            `${op.method} ${mixed.path} ${JSON.stringify(mixed.json)}: expected 4xx, got ${m.status}`,
          );
      }
    }
    expect(failures).toEqual([]);
    expect(await directoryState(d)).toEqual(before);

    // The control: delta's administrator, with the same requests aimed at delta, changes delta.
    const deltaToken = await apiToken(ADMIN_D, ADMIN_PASSWORD);
    const own = scoped
      // Decisions on held list posts are no directory changes (no audit row): the lists block below.
      .filter(
        // Domain limits are the operators' (issue 19): 403 for delta's administrator too.
        (o) =>
          o.method !== 'GET' &&
          o.path.includes('/domains/{domain}/') &&
          !o.path.includes('/pending/') &&
          !o.path.endsWith('/limits'),
      )
      .sort((a, b) => removalOrder(`${a.method} ${a.path}`) - removalOrder(`${b.method} ${b.path}`));
    expect(own.length).toBeGreaterThan(5);
    for (const op of own) {
      const req = apiRequest(op, DELTA, DELTA, 'control');
      const audit = (await d.listAudit(OP, { domain: DELTA, limit: 10_000 })).length;
      const r = await anon.fetch(op.method, req.path, {
        bearer: deltaToken,
        ...(req.json === undefined ? {} : { json: req.json }),
      });
      expect(
        r.status,
        `control: ${op.method} ${req.path} ${JSON.stringify(req.json ?? '')}: ${r.body}`,
      ).toBeLessThan(300);
      expect(
        (await d.listAudit(OP, { domain: DELTA, limit: 10_000 })).length,
        `control: ${op.method} ${req.path}`,
      ).toBe(audit + 1);
    }
  });
});

/** Changes first, then removals of aliases, then of mailboxes (removing a mailbox drops its aliases). */
function removalOrder(what: string): number {
  // A mailbox is restored once it was removed (issue 19).
  if (/\/restore$/.test(what)) return 3;
  if (/mailboxes\/[^/]+(\/remove)?$/.test(what) && /remove$|^DELETE/.test(what)) return 2;
  return /remove$|^DELETE/.test(what) ? 1 : 0;
}

// ------------------------------------------------------------------------------------------ escaping

describe('HTML in names', { timeout: 60_000 }, () => {
  it('is escaped on every page that shows it, and input echoed back in errors is escaped too', async () => {
    const admin = await signedIn(ADMIN_A, ADMIN_PASSWORD);
    const { forms } = await admin.page(`/d/${ALPHA}/mailboxes/new`);
    const add = forms.find((f) => has(f, 'First name')) as HtmlForm;
    const created = await admin.post(
      add.action,
      fill(add, [
        ['First name', XSS_FIRST],
        ['Last name', 'Xss'],
        ['Personal', ''],
        ['Password', USER_PASSWORD],
        ['Contact person', XSS_CONTACT],
        ['Flag', XSS_FLAG],
      ]),
    );
    expect(created.status, created.body.slice(0, 300)).toBeGreaterThanOrEqual(300);
    expect(created.status).toBeLessThan(400);
    const [xss] = (await d.listMailboxes(OP, ALPHA, { search: 'xss' })).mailboxes;
    expect(xss).toMatchObject({ firstName: XSS_FIRST, contact: XSS_CONTACT, flag: XSS_FLAG });
    const address = xss?.address as string;
    // Issue 19: the set-up sheet comes right after "Add user".
    expect(created.locationPath).toBe(`/d/${ALPHA}/mailboxes/${address}/setup`);

    const user = await signedIn(address, USER_PASSWORD);
    const operator = await signedIn(OPERATOR, OPERATOR_PASSWORD);
    const mine = [`/d/${ALPHA}/mailboxes/${address}`, `/d/${ALPHA}/mailboxes/${address}/setup`];
    // Every page each of them can reach (the audit log too), the mailbox's own ones by name.
    const pages = [
      ...(await crawl(admin, [`/d/${ALPHA}/mailboxes`, `/d/${ALPHA}/mailboxes?q=xss`, ...mine])),
      ...(await crawl(operator, ['/', '/domains', '/admins', '/audit', ...mine])),
      ...(await crawl(user, ['/me'])),
    ];
    for (const p of ['/me', `/d/${ALPHA}/mailboxes?q=xss`, ...mine])
      expect(
        pages.map((x) => x.path),
        p,
      ).toContain(p);
    let shownEscaped = 0;
    for (const { path, html } of pages) {
      for (const raw of XSS_RAW) expect(html, `${path} contains ${raw} unescaped`).not.toContain(raw);
      if (decodeEntities(html).includes(XSS_FIRST)) shownEscaped++;
    }
    expect(shownEscaped, 'the name is shown (escaped) somewhere').toBeGreaterThan(0);

    // Reflected input: the search box, error messages quoting what was typed, the sign-in page.
    const q = await admin.get(`/d/${ALPHA}/mailboxes?q=${encodeURIComponent('<script>alert(4)</script>')}`);
    expect(q.status).toBe(200);
    expect(q.body).not.toContain('<script>alert(4)');
    const reflected: Array<[string, HtmlForm, Array<[string, string]>]> = [];
    for (const [path, label, values] of [
      [
        `/d/${ALPHA}/aliases`,
        'Targets',
        [
          ['Alias', '<img src=x onerror=alert(5)>@alpha.example'],
          ['Targets', ALICE(ALPHA)],
        ],
      ],
      [
        `/d/${ALPHA}/mailboxes/new`,
        'First name',
        [
          ['First name', 'Eve'],
          ['Last name', 'Html'],
          ['Personal', ''],
          ['Username', '<img src=x onerror=alert(6)>'],
          ['Password', USER_PASSWORD],
        ],
      ],
      [
        `/d/${ALPHA}/forwards`,
        'Remote address',
        [
          ['Address', `fw@${ALPHA}`],
          ['Remote address', '<img src=x onerror=alert(7)>'],
        ],
      ],
    ] as Array<[string, string, Array<[string, string]>]>) {
      const f = (await admin.page(path)).forms.find((x) => has(x, label)) as HtmlForm;
      reflected.push([path, f, values]);
    }
    for (const [path, f, values] of reflected) {
      const r = await admin.post(f.action, fill(f, values));
      expect(r.status, `${path}: invalid input is refused`).not.toBe(500);
      expect(await shown(admin, r), `${path} after invalid input`).not.toContain('<img src=x onerror');
    }
    const anon = new WebClient(t.origin);
    const login = await anon.signIn('<img src=x onerror=alert(8)>', 'wrong-password-123');
    expect(await shown(anon, login)).not.toContain('<img src=x onerror');
  });
});

// ------------------------------------------------------------------------------------------ lists

describe('built-in lists and their held messages', { timeout: 60_000 }, () => {
  /** Bravo's held post (news@bravo is moderated and takes anyone's mail). */
  let heldId = '';
  const NEWS = (dom: string) => `news@${dom}`;
  const stillHeld = async () =>
    (await t.app.lists.moderation.pending(NEWS(BRAVO))).map((p) => p.id).includes(heldId);

  beforeAll(async () => {
    await sendMail(listenerPort(t.app, 'smtp'), NEWS(BRAVO), 'bravo-secret-subject');
    heldId = (await t.app.lists.moderation.pending(NEWS(BRAVO)))[0]?.id ?? '';
    expect(heldId).toMatch(/^[0-9A-Z]{26}$/);
  });

  it("alpha's administrator reaches none of bravo's lists or held messages, in the UI", async () => {
    const admin = await signedIn(ADMIN_A, ADMIN_PASSWORD);
    const token = await tokenOf(admin, `/d/${ALPHA}/mailing-lists`);
    const before = await directoryState(d);
    for (const path of [
      `/d/${BRAVO}/mailing-lists`,
      `/d/${BRAVO}/mailing-lists/${NEWS(BRAVO)}`,
      `/d/${BRAVO}/mailing-lists/${NEWS(BRAVO)}/held/${heldId}`,
      `/d/${ALPHA}/mailing-lists/${NEWS(BRAVO)}`,
      `/d/${ALPHA}/mailing-lists/${NEWS(BRAVO)}/held/${heldId}`,
      `/d/${ALPHA}/mailing-lists/${NEWS(ALPHA)}/held/${heldId}`,
    ]) {
      const r = await admin.get(path);
      expect([403, 404], `GET ${path}: ${r.status}`).toContain(r.status);
      expect(r.body, `GET ${path}`).not.toContain('bravo-secret-subject');
    }
    const posts: Array<[string, Array<[string, string]>]> = [
      [`/d/${BRAVO}/mailing-lists/${NEWS(BRAVO)}/held/${heldId}/approve`, []],
      [`/d/${BRAVO}/mailing-lists/${NEWS(BRAVO)}/held/${heldId}/reject`, []],
      [`/d/${ALPHA}/mailing-lists/${NEWS(BRAVO)}/held/${heldId}/approve`, []],
      [`/d/${ALPHA}/mailing-lists/${NEWS(ALPHA)}/held/${heldId}/approve`, []],
      [`/d/${ALPHA}/mailing-lists/${NEWS(ALPHA)}/held/${heldId}/reject`, []],
      [`/d/${BRAVO}/mailing-lists/${NEWS(BRAVO)}/members/add`, [['members', 'probe@elsewhere.example']]],
      [`/d/${BRAVO}/mailing-lists/${NEWS(BRAVO)}/members/remove`, [['members', ALICE(BRAVO)]]],
      [`/d/${BRAVO}/mailing-lists/${NEWS(BRAVO)}/remove`, []],
      [`/d/${ALPHA}/mailing-lists/${NEWS(BRAVO)}/remove`, []],
      [
        `/d/${BRAVO}/mailing-lists`,
        [
          ['address', `probe@${BRAVO}`],
          ['owner', ALICE(BRAVO)],
          ['senders', 'anyone'],
        ],
      ],
      [
        `/d/${ALPHA}/mailing-lists`,
        [
          ['address', `probe@${BRAVO}`],
          ['owner', ALICE(ALPHA)],
          ['senders', 'anyone'],
        ],
      ],
    ];
    for (const [path, fields] of posts) {
      const r = await admin.post(path, [['_csrf', token], ...fields]);
      expect([400, 403, 404], `POST ${path}: ${r.status}`).toContain(r.status);
    }
    expect(await directoryState(d)).toEqual(before);
    expect(await stillHeld()).toBe(true);
  });

  it("alpha's administrator reaches none of bravo's lists or held messages, in the API", async () => {
    const token = await apiToken(ADMIN_A, ADMIN_PASSWORD);
    const api = new WebClient(t.origin);
    const before = await directoryState(d);
    const base = (dom: string) => `/api/v1/domains/${dom}/mailing-lists`;
    const calls: Array<[string, string, unknown?]> = [
      ['GET', base(BRAVO)],
      ['POST', base(BRAVO), { address: `probe@${BRAVO}`, owner: ALICE(BRAVO) }],
      ['POST', base(ALPHA), { address: `probe@${BRAVO}`, owner: ALICE(ALPHA) }],
      ['GET', `${base(BRAVO)}/${NEWS(BRAVO)}`],
      ['DELETE', `${base(BRAVO)}/${NEWS(BRAVO)}`],
      ['DELETE', `${base(ALPHA)}/${NEWS(BRAVO)}`],
      ['POST', `${base(BRAVO)}/${NEWS(BRAVO)}/members`, { add: ['probe@elsewhere.example'] }],
      ['POST', `${base(ALPHA)}/${NEWS(BRAVO)}/members`, { remove: [ALICE(BRAVO)] }],
      ['GET', `${base(BRAVO)}/${NEWS(BRAVO)}/pending`],
      ['GET', `${base(ALPHA)}/${NEWS(BRAVO)}/pending`],
      ['GET', `${base(BRAVO)}/${NEWS(BRAVO)}/pending/${heldId}`],
      ['GET', `${base(ALPHA)}/${NEWS(ALPHA)}/pending/${heldId}`],
      ['POST', `${base(BRAVO)}/${NEWS(BRAVO)}/pending/${heldId}/approve`],
      ['POST', `${base(BRAVO)}/${NEWS(BRAVO)}/pending/${heldId}/reject`],
      ['POST', `${base(ALPHA)}/${NEWS(ALPHA)}/pending/${heldId}/approve`],
      ['POST', `${base(ALPHA)}/${NEWS(ALPHA)}/pending/${heldId}/reject`],
    ];
    const failures: string[] = [];
    for (const [method, path, json] of calls) {
      const none = await api.fetch(method, path, json === undefined ? {} : { json });
      if (none.status !== 401) failures.push(`${method} ${path} without a token: ${none.status}`);
      const r = await api.fetch(method, path, { bearer: token, ...(json === undefined ? {} : { json }) });
      // Bravo's objects: 403; alpha's own list with bravo's post id: 404 (no such held message there).
      const expected = path.includes(`/${NEWS(ALPHA)}/`) ? 404 : 403;
      if (r.status !== expected) failures.push(`${method} ${path}: expected ${expected}, got ${r.status}`);
      if (r.body.includes('bravo-secret-subject')) failures.push(`${method} ${path}: shows bravo's message`);
    }
    expect(failures).toEqual([]);
    expect(await directoryState(d)).toEqual(before);
    expect(await stillHeld()).toBe(true);
  });

  it('the owner of a list sees its held messages on their own page, another mailbox user does not', async () => {
    const alpha = await signedIn(ALICE(ALPHA), USER_PASSWORD);
    const token = await tokenOf(alpha, '/me');
    for (const path of [
      `/me/lists/${NEWS(BRAVO)}/held/${heldId}`,
      `/me/lists/${NEWS(ALPHA)}/held/${heldId}`,
    ]) {
      const r = await alpha.get(path);
      expect(r.status, `GET ${path} as alpha's owner`).toBe(404);
      expect(r.body).not.toContain('bravo-secret-subject');
      for (const verb of ['approve', 'reject']) {
        const p = await alpha.post(`${path}/${verb}`, [['_csrf', token]]);
        expect(p.status, `POST ${path}/${verb} as alpha's owner`).toBe(404);
      }
    }
    expect((await alpha.get('/me')).body).not.toContain('bravo-secret-subject');
    expect(await stillHeld()).toBe(true);

    // The control: bravo's owner sees it on /me and can open it; bravo's administrator can approve it.
    const owner = await signedIn(ALICE(BRAVO), USER_PASSWORD);
    expect((await owner.get('/me')).body).toContain('bravo-secret-subject');
    expect((await owner.get(`/me/lists/${NEWS(BRAVO)}/held/${heldId}`)).status).toBe(200);
    const bravoAdmin = await signedIn(ADMIN_B, ADMIN_PASSWORD);
    const r = await bravoAdmin.post(`/d/${BRAVO}/mailing-lists/${NEWS(BRAVO)}/held/${heldId}/approve`, [
      ['_csrf', await tokenOf(bravoAdmin, `/d/${BRAVO}/mailing-lists`)],
    ]);
    expect(r.status).toBe(303);
    expect(await stillHeld()).toBe(false);
  });
});
