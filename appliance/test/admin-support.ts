/**
 * Shared by the admin UI acceptance tests: the appliance on ports 0, headless Chromium (Debian's, through
 * playwright-core), a cookie-keeping HTTPS client for the plain-HTTP tests, and a small parser for the
 * server-rendered forms (their action, fields and labels) so the tests post what the pages really offer.
 */
import { mkdirSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Actor, Directory } from '@delegato/directory';
import { LineClient, tempDir } from '@delegato/testkit';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { startApplianceWith, testConfig } from './appliance-support.js';

export const OPERATOR = 'operator';
export const OPERATOR_PASSWORD = 'Operator-Test-Pass-1';
/** The directory as an operator sees it: how the tests check what the UI really changed. */
export const OP: Actor = { kind: 'operator', name: 'acceptance-test', from: '127.0.0.1' };

/** Screenshots of every page the browser tests visit (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/admin/', import.meta.url));

export const listenerPort = (app: RunningAppliance, name: string): number => {
  const l = app.listeners.find((x) => x.name === name);
  if (!l) throw new Error(`no ${name} listener (have: ${app.listeners.map((x) => x.name).join(', ')})`);
  return l.port;
};

/** The real appliance in this process: ports 0, real databases in a temp dir, `operator` bootstrapped. */
export async function startTestAppliance(prefix: string, env: Record<string, string> = {}) {
  const dir = tempDir(prefix);
  const config = testConfig(dir.path, env);
  const app = await startApplianceWith(config, OPERATOR_PASSWORD);
  const origin = `https://127.0.0.1:${listenerPort(app, 'admin')}`;
  return {
    app,
    origin,
    region: config.region.id,
    stop: async () => {
      await app.stop();
      dir.remove();
    },
  };
}

// ------------------------------------------------------------------------------------------ directory

/** Everything a change through the UI or API could touch; equal before and after = nothing changed. */
export async function directoryState(d: Directory) {
  const domains = await d.listDomains(OP);
  const perDomain: Record<string, unknown> = {};
  for (const dom of domains) {
    perDomain[dom.name] = {
      mailboxes: (await d.listMailboxes(OP, dom.name)).mailboxes,
      aliases: await d.listAliases(OP, dom.name),
    };
  }
  return {
    domains,
    perDomain,
    admins: await d.listAdmins(OP),
    // Every change writes an audit row in its own transaction (passwords included); sign-ins and
    // sign-outs (`auth.*`) are recorded too, but they are not changes.
    audit: (await d.listAudit(OP, { limit: 10_000 }))
      .filter((r) => !r.action.startsWith('auth.'))
      .map((r) => r.id),
  };
}

// ------------------------------------------------------------------------------------------ SMTP, POP3

/** One message over SMTP to the MX listener; every reply is checked. */
export async function sendMail(port: number, to: string, subject: string): Promise<void> {
  const c = await LineClient.connect(port);
  try {
    expect((await c.smtpReply()).code).toBe(220);
    expect((await c.smtp('EHLO client.example')).code).toBe(250);
    expect((await c.smtp('MAIL FROM:<sender@outside.example>')).code).toBe(250);
    const rcpt = await c.smtp(`RCPT TO:<${to}>`);
    expect(rcpt.code, rcpt.text).toBe(250);
    expect((await c.smtp('DATA')).code).toBe(354);
    const sent = await c.smtp(
      `From: <sender@outside.example>\r\nTo: <${to}>\r\nSubject: ${subject}\r\n` +
        `Message-ID: <${subject}@outside.example>\r\n\r\nHello.\r\n.`,
    );
    expect(sent.code, sent.text).toBe(250);
    await c.smtp('QUIT');
  } finally {
    c.close();
  }
}

/** The RCPT TO reply for an address (the transaction is abandoned). */
export async function rcptReply(port: number, to: string): Promise<{ code: number; text: string }> {
  const c = await LineClient.connect(port);
  try {
    await c.smtpReply();
    await c.smtp('EHLO client.example');
    await c.smtp('MAIL FROM:<sender@outside.example>');
    const r = await c.smtp(`RCPT TO:<${to}>`);
    await c.smtp('QUIT');
    return r;
  } finally {
    c.close();
  }
}

/** POP3 USER/PASS from loopback (allowed without TLS there); returns the STAT line. */
export async function pop3Stat(port: number, user: string, password: string): Promise<string> {
  const c = await LineClient.connect(port);
  try {
    expect(await c.line()).toMatch(/^\+OK/);
    c.write(`USER ${user}\r\n`);
    expect(await c.line()).toMatch(/^\+OK/);
    c.write(`PASS ${password}\r\n`);
    const pass = await c.line();
    expect(pass, 'POP3 PASS').toMatch(/^\+OK/);
    c.write('STAT\r\n');
    const stat = await c.line();
    c.write('QUIT\r\n');
    await c.line();
    return stat;
  } finally {
    c.close();
  }
}

/** IMAP LOGIN (after STARTTLS when the server wants it) and SELECT INBOX; returns the EXISTS count. */
export async function imapInboxCount(port: number, user: string, password: string): Promise<number> {
  const c = await LineClient.connect(port);
  let n = 0;
  const command = async (cmd: string): Promise<string[]> => {
    const tag = `a${++n}`;
    c.write(`${tag} ${cmd}\r\n`);
    const lines: string[] = [];
    for (;;) {
      const l = await c.line();
      lines.push(l);
      if (l.startsWith(`${tag} `)) break;
    }
    expect(lines.at(-1), cmd.startsWith('LOGIN') ? 'LOGIN' : cmd).toMatch(new RegExp(`^${tag} OK`));
    return lines;
  };
  const quote = (s: string) => `"${s.replace(/[\\"]/g, '\\$&')}"`;
  try {
    expect(await c.line()).toMatch(/^\* OK/);
    const caps = (await command('CAPABILITY')).join(' ');
    if (/LOGINDISABLED/i.test(caps)) {
      await command('STARTTLS');
      await c.startTls();
    }
    await command(`LOGIN ${quote(user)} ${quote(password)}`);
    const selected = await command('SELECT INBOX');
    const exists = selected.map((l) => /^\* (\d+) EXISTS/i.exec(l)).find((m) => m);
    await command('LOGOUT').catch(() => undefined);
    return Number(exists?.[1] ?? -1);
  } finally {
    c.close();
  }
}

// ------------------------------------------------------------------------------------------ Chromium

export const BROWSER_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium; every launch gets a fresh temporary profile (user data dir), removed on close. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: BROWSER_ARGS });
}

/**
 * One person at one browser: their own context (cookies), a page, numbered screenshots, and every
 * `alert()` recorded (a script that ran from data would show up here).
 */
export class BrowserUser {
  readonly alerts: string[] = [];
  #shot = 0;

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly origin: string,
    readonly name: string,
  ) {
    page.on('dialog', (d) => {
      if (d.type() === 'alert') this.alerts.push(d.message());
      // Confirmation prompts ("remove this mailbox?") are answered yes; alerts are dismissed.
      void (d.type() === 'confirm' ? d.accept() : d.dismiss());
    });
  }

  static async open(browser: Browser, origin: string, name: string): Promise<BrowserUser> {
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 900 },
    });
    // Nothing but the appliance: every other request is aborted (the tests never leave 127.0.0.1).
    await context.route(
      (url) => url.origin !== origin,
      (route) => route.abort(),
    );
    return new BrowserUser(context, await context.newPage(), origin, name);
  }

  async goto(path: string): Promise<number> {
    const res = await this.page.goto(`${this.origin}${path}`);
    return res?.status() ?? 0;
  }

  async screenshot(what: string): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    this.#shot++;
    const file = `${this.name}-${String(this.#shot).padStart(2, '0')}-${what.replace(/[^a-z0-9]+/gi, '-')}.png`;
    await this.page.screenshot({ path: join(ARTIFACTS, file), fullPage: true });
  }

  get path(): string {
    const u = new URL(this.page.url());
    return decodeURIComponent(u.pathname) + u.search;
  }

  async text(): Promise<string> {
    return (await this.page.locator('body').textContent()) ?? '';
  }

  /** The form holding the field labelled `label`. */
  formWith(label: string): Locator {
    return this.page.locator('form').filter({ has: this.page.getByLabel(label, { exact: true }) });
  }

  /**
   * Submits a form by its button and waits for the page that follows (after redirects). Returns the
   * status of the POST and of the page finally shown.
   */
  async submit(button: Locator): Promise<{ post: number; final: number }> {
    let final = 0;
    const onResponse = (r: import('playwright-core').Response) => {
      if (r.request().isNavigationRequest() && r.frame() === this.page.mainFrame()) final = r.status();
    };
    this.page.on('response', onResponse);
    try {
      const loaded = this.page.waitForEvent('load');
      const posted = this.page.waitForResponse(
        (r) => r.request().method() === 'POST' && r.request().isNavigationRequest(),
      );
      await button.click();
      const post = (await posted).status();
      await loaded;
      return { post, final };
    } finally {
      this.page.off('response', onResponse);
    }
  }

  /** Clicks the button named exactly `name` and waits for the resulting page. */
  submitButton(name: string) {
    return this.submit(this.page.getByRole('button', { name, exact: true }));
  }

  /** Submits the form containing the field labelled `label` (by its own submit button). */
  submitFormWith(label: string) {
    return this.submit(
      this.formWith(label).locator('button:not([type]), button[type=submit], input[type=submit]'),
    );
  }

  /**
   * Sets a field by its label: a text box is filled, a select gets the option whose text or value is
   * `value`, a checkbox or radio labelled `label` is checked. With no control labelled `label`, the
   * group (fieldset/legend) named `label` gets its radio or checkbox labelled `value` checked.
   */
  async set(label: string, value = ''): Promise<void> {
    const page = this.page;
    const field = page.getByLabel(label, { exact: true });
    const n = await field.count();
    if (n > 1) throw new Error(`${n} fields labelled "${label}" on ${this.path}`);
    if (n === 1) {
      const info = await field.evaluate((el) => {
        // No DOM lib in this project's types: the element's shape, structurally.
        const e = el as unknown as {
          tagName: string;
          type?: string;
          options?: ArrayLike<{ value: string; text: string }>;
        };
        return {
          tag: e.tagName.toLowerCase(),
          type: e.type ?? '',
          options: e.options ? Array.from(e.options, (o) => [o.value, o.text.trim()] as const) : [],
        };
      });
      if (info.tag === 'select') {
        const wanted = value.split(',').map((v) => v.trim().toLowerCase());
        const chosen = info.options.filter(
          ([v, t]) => wanted.includes(v.toLowerCase()) || wanted.includes(t.toLowerCase()),
        );
        if (chosen.length !== wanted.length) {
          throw new Error(`"${label}" has no option ${value} (options: ${JSON.stringify(info.options)})`);
        }
        await field.selectOption(chosen.map(([v]) => ({ value: v })));
      } else if (info.type === 'checkbox' || info.type === 'radio') {
        await field.check();
      } else {
        await field.fill(value);
      }
      return;
    }
    const group = page
      .getByRole('group', { name: label, exact: true })
      .or(page.getByRole('radiogroup', { name: label, exact: true }));
    if ((await group.count()) === 0) throw new Error(`no field labelled "${label}" on ${this.path}`);
    for (const v of value.split(',')) {
      await group.getByLabel(new RegExp(`^\\s*${escapeRegExp(v.trim())}\\s*$`, 'i')).check();
    }
  }

  /** Signs in at /login; returns where the browser ended up. */
  async signIn(username: string, password: string): Promise<string> {
    await this.goto('/login');
    await this.set('Username', username);
    await this.set('Password', password);
    await this.screenshot('login');
    const r = await this.submitButton('Sign in');
    expect(r.final, `sign-in of ${username} ends on a page that loads`).toBeLessThan(400);
    expect(this.path, `sign-in of ${username} leaves the login page`).not.toMatch(/^\/login/);
    return this.path;
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ------------------------------------------------------------------------------------------ plain HTTPS

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  setCookies: string[];
  body: string;
  location: string | undefined;
  /** The location as a path on this origin (redirects), or undefined. */
  locationPath: string | undefined;
}

const agent = new Agent({ rejectUnauthorized: false, keepAlive: false });

/**
 * A browser-shaped HTTPS client without the browser: it keeps cookies by hand, sends the `Origin` a
 * browser sends with a POST, and does not follow redirects (the tests look at them).
 */
export class WebClient {
  readonly cookies = new Map<string, string>();
  readonly #agent: Agent;

  /** `clientCert`: presented on every connection (TLS client authentication); each request then opens its own. */
  constructor(
    readonly origin: string,
    clientCert?: { cert: string; key: string },
  ) {
    this.#agent = clientCert
      ? new Agent({ rejectUnauthorized: false, keepAlive: false, cert: clientCert.cert, key: clientCert.key })
      : agent;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async fetch(
    method: string,
    path: string,
    opts: {
      form?: Array<[string, string]>;
      json?: unknown;
      bearer?: string;
      headers?: Record<string, string>;
      cookies?: boolean;
    } = {},
  ): Promise<HttpResponse> {
    const url = new URL(path, this.origin);
    if (url.hostname !== '127.0.0.1') throw new Error(`refusing to leave loopback: ${url.href}`);
    const headers: Record<string, string> = { accept: 'text/html,application/json', ...opts.headers };
    let body: string | undefined;
    if (opts.form) {
      body = new URLSearchParams(opts.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] = 'application/json';
    }
    if (method !== 'GET' && method !== 'HEAD' && !('origin' in headers)) headers.origin = this.origin;
    if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
    if (opts.cookies !== false && this.cookies.size > 0) headers.cookie = this.cookieHeader();
    const res = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>(
      (resolve, reject) => {
        const req = request(url, { method, headers, agent: this.#agent }, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () =>
            resolve({
              status: r.statusCode ?? 0,
              headers: r.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          r.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      },
    );
    const setCookies = res.headers['set-cookie'] ?? [];
    if (opts.cookies !== false) {
      for (const sc of setCookies) {
        const [pair = '', ...attrs] = sc.split(';');
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        const expired = attrs.some((a) => {
          const [k = '', v = ''] = a.split('=').map((s) => s.trim());
          return (
            (k.toLowerCase() === 'max-age' && Number(v) <= 0) ||
            (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now())
          );
        });
        if (expired || value === '') this.cookies.delete(name);
        else this.cookies.set(name, value);
      }
    }
    const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
    let locationPath: string | undefined;
    if (location) {
      const u = new URL(location, url);
      locationPath = u.origin === this.origin ? decodeURIComponent(u.pathname) + u.search : u.href;
    }
    return { ...res, setCookies, location, locationPath };
  }

  get(path: string, opts: { bearer?: string } = {}) {
    return this.fetch('GET', path, opts);
  }

  /** GETs a page and parses its forms (the page must load: 200). */
  async page(path: string): Promise<{ html: string; forms: HtmlForm[] }> {
    const r = await this.get(path);
    expect(r.status, `GET ${path}: ${r.body.slice(0, 300)}`).toBe(200);
    return { html: r.body, forms: parseForms(r.body, new URL(path, this.origin).pathname) };
  }

  post(path: string, form: Array<[string, string]>) {
    return this.fetch('POST', path, { form });
  }

  /** Signs in through the login form; returns the login POST's response (a redirect when it worked). */
  async signIn(username: string, password: string): Promise<HttpResponse> {
    const { forms } = await this.page('/login');
    const form = forms.find((f) => f.controls.some((c) => c.label === 'Username'));
    if (!form) throw new Error('no sign-in form on /login');
    return this.post(
      form.action,
      fill(form, [
        ['Username', username],
        ['Password', password],
      ]),
    );
  }
}

// ------------------------------------------------------------------------------------------ forms

export interface Control {
  tag: 'input' | 'select' | 'textarea' | 'button';
  type: string;
  name: string;
  value: string;
  checked: boolean;
  multiple: boolean;
  label: string;
  options: Array<{ value: string; label: string; selected: boolean }>;
}

export interface HtmlForm {
  /** A path on the appliance (decoded), resolved against the page. */
  action: string;
  method: string;
  controls: Control[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const cp =
        e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
      return String.fromCodePoint(cp);
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

function attributes(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of s.matchAll(/([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    const name = (m[1] ?? '').toLowerCase();
    if (!out.has(name)) out.set(name, decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return out;
}

const textOf = (html: string) =>
  decodeEntities(
    html
      .replace(/<(select|textarea)\b[\s\S]*?<\/\1>/gi, ' ')
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );

const CONTROL = /<input\b([^>]*)>|<(select|textarea|button)\b([^>]*)>([\s\S]*?)<\/\2\s*>/gi;

/** The forms of a server-rendered page, with each control's label (`<label for>`, wrapping `<label>`, aria-label). */
export function parseForms(html: string, pagePath: string): HtmlForm[] {
  const byId = new Map<string, string>();
  const byTag = new Map<string, string>();
  for (const m of html.matchAll(/<label\b([^>]*)>([\s\S]*?)<\/label\s*>/gi)) {
    const attrs = attributes(m[1] ?? '');
    const inner = m[2] ?? '';
    const text = textOf(inner);
    const target = attrs.get('for');
    if (target) byId.set(target, text);
    const first = /<(?:input|select|textarea)\b([^>]*)>/i.exec(inner);
    if (first) byTag.set((first[1] ?? '').trim(), text);
  }
  const forms: HtmlForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form\s*>/gi)) {
    const attrs = attributes(m[1] ?? '');
    const action = new URL(attrs.get('action') || pagePath, 'https://x.invalid');
    const controls: Control[] = [];
    for (const c of (m[2] ?? '').matchAll(CONTROL)) {
      const raw = (c[1] ?? c[3] ?? '').trim();
      const a = attributes(raw);
      const tag = (c[2]?.toLowerCase() ?? 'input') as Control['tag'];
      const id = a.get('id');
      const label = (id && byId.get(id)) || byTag.get(raw) || a.get('aria-label') || '';
      const options = [
        ...(c[4] ?? '').matchAll(/<option\b([^>]*)>([\s\S]*?)(?=<option\b|<\/option|<\/optgroup|$)/gi),
      ].map((o) => {
        const oa = attributes(o[1] ?? '');
        const text = textOf(o[2] ?? '');
        return { value: oa.get('value') ?? text, label: text, selected: oa.has('selected') };
      });
      controls.push({
        tag,
        type: (a.get('type') ?? (tag === 'button' ? 'submit' : tag === 'input' ? 'text' : tag)).toLowerCase(),
        name: a.get('name') ?? '',
        value: tag === 'textarea' ? decodeEntities(c[4] ?? '') : (a.get('value') ?? ''),
        checked: a.has('checked'),
        multiple: a.has('multiple'),
        label,
        options,
      });
    }
    forms.push({
      action: decodeURIComponent(action.pathname) + action.search,
      method: (attrs.get('method') ?? 'get').toUpperCase(),
      controls,
    });
  }
  return forms;
}

/** The hidden anti-CSRF field of a form (there must be one). */
export const isCsrfField = (c: Control) => c.type === 'hidden' && /csrf|xsrf|token/i.test(c.name);

const eqCi = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * The fields a browser would post for `form` after the user set `values` (by label, as in
 * `BrowserUser.set`), optionally leaving some out. The first submit button is the submitter.
 */
export function fill(
  form: HtmlForm,
  values: Array<[label: string, value: string]> = [],
  opts: { omit?: (c: Control) => boolean; replace?: (c: Control, value: string) => string } = {},
): Array<[string, string]> {
  const controls = form.controls.map((c) => ({ ...c, options: c.options.map((o) => ({ ...o })) }));
  for (const [label, value] of values) {
    const labelled = controls.filter((c) => eqCi(c.label, label));
    if (labelled.length > 1 && !labelled.every((c) => c.type === 'radio'))
      throw new Error(`several fields labelled ${label} in ${form.action}`);
    const c = labelled[0];
    if (c && c.tag === 'select') {
      const wanted = value.split(',').map((v) => v.trim());
      for (const o of c.options) o.selected = wanted.some((w) => eqCi(w, o.value) || eqCi(w, o.label));
      if (!c.options.some((o) => o.selected)) throw new Error(`${label} has no option ${value}`);
    } else if (c && (c.type === 'checkbox' || c.type === 'radio')) {
      check(controls, c);
    } else if (c) {
      c.value = value;
    } else {
      // A group: the radios or checkboxes labelled by the values.
      for (const v of value.split(',')) {
        const choice = controls.find(
          (x) => (x.type === 'radio' || x.type === 'checkbox') && eqCi(x.label, v),
        );
        if (!choice) throw new Error(`no field labelled ${label} (or choice ${v}) in ${form.action}`);
        check(controls, choice);
      }
    }
  }
  const out: Array<[string, string]> = [];
  let submitter = false;
  for (const c of controls) {
    if (!c.name || opts.omit?.(c)) continue;
    const push = (v: string) => out.push([c.name, opts.replace ? opts.replace(c, v) : v]);
    if (c.type === 'submit' || c.type === 'image') {
      if (!submitter) push(c.value);
      submitter = true;
    } else if (['button', 'reset', 'file'].includes(c.type)) {
    } else if (c.type === 'checkbox' || c.type === 'radio') {
      if (c.checked) push(c.value || 'on');
    } else if (c.tag === 'select') {
      const selected = c.options.filter((o) => o.selected);
      const chosen = selected.length > 0 ? selected : c.multiple ? [] : c.options.slice(0, 1);
      for (const o of chosen) push(o.value);
    } else push(c.value);
  }
  return out;
}

function check(controls: Control[], c: Control): void {
  if (c.type === 'radio')
    for (const x of controls) if (x.type === 'radio' && x.name === c.name) x.checked = false;
  c.checked = true;
}
