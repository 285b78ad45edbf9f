/**
 * Issue 11, the administration side, as an attacker does it against the real appliance (ports 0, real
 * databases in a temp dir, real HTTPS, IMAPS, POP3S and SMTPS clients, the real `delegato` CLI):
 *
 * 1. TOTP brute force by someone who knows the password: "password, wrong codes" repeated;
 * 5. a password reset, change or removal must end sessions and API tokens at once, and mail sessions;
 * 6. the lockout must count accounts, not typed names (aliases of a locked mailbox stay locked);
 * 7. unknown admin names and unknown mailbox addresses must cost what a wrong password costs;
 * 10. a domain admin must not learn, through alias targets, which addresses exist in another domain.
 *
 * Each test starts its own appliance: failures from 127.0.0.1 must not spill into the next test's
 * budgets. Failures meant to exhaust an account come from many loopback source addresses, as a
 * distributed guesser's would.
 */

import { totpCode } from '@delegato/admin';
import type { Directory } from '@delegato/directory';
import { tempDir } from '@delegato/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import {
  imapInboxCount,
  listenerPort,
  OP,
  OPERATOR,
  OPERATOR_PASSWORD,
  sendMail,
  WebClient,
} from './admin-support.js';
import { addRose, startApplianceWith, testConfig } from './appliance-support.js';
import {
  httpsJson,
  imapCommand,
  imapConnect,
  imapLogin,
  median,
  pop3Login,
  runCli,
  smtpAuth,
  source,
} from './security-admin-support.js';

const SLOW = 180_000;
const ROSE = 'rose.pinkcheeks@iat.example';
const ROSE_ALIASES = ['r.pinkcheeks@iat.example', 'pinkcheeks@iat.example'];
const ROSE_PASSWORD = 'Rose-Mail-Pass-1';
const ADMIN_PASSWORD = 'Domain-Admin-Pass-1';

interface Running {
  app: RunningAppliance;
  d: Directory;
  origin: string;
  dataDir: string;
  port: (name: string) => number;
}

let running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of running) await stop();
  running = [];
});

async function start(prefix: string): Promise<Running> {
  const dir = tempDir(prefix);
  const config = testConfig(dir.path);
  const app = await startApplianceWith(config, OPERATOR_PASSWORD);
  running.push(async () => {
    await app.stop();
    dir.remove();
  });
  return {
    app,
    d: app.directory,
    origin: `https://127.0.0.1:${listenerPort(app, 'admin')}`,
    dataDir: config.data.dir,
    port: (name) => listenerPort(app, name),
  };
}

/** Adds `domain` and its administrator `username` (password ADMIN_PASSWORD). */
async function addDomainAdmin(t: Running, username: string, domain: string): Promise<void> {
  await t.d.addDomain(OP, domain);
  await t.d.addAdmin(OP, { username, role: 'domain-admin', domains: [domain], password: ADMIN_PASSWORD });
}

/** An API token for an admin (from 127.0.0.1 unless told). */
async function token(t: Running, username: string, password: string, code?: string): Promise<string> {
  const r = await httpsJson(t.origin, 'POST', '/api/v1/tokens', {
    json: { username, password, ...(code ? { code } : {}) },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return (r.body as { token: string }).token;
}

/** Posts the TOTP form of the session's /login/totp page with `code`; returns the status. */
async function postCode(web: WebClient, code: string): Promise<number> {
  const page = await web.get('/login/totp');
  if (page.status !== 200) return page.status;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  return (
    await web.post('/login/totp', [
      ['_csrf', csrf],
      ['code', code],
    ])
  ).status;
}

describe('item 1: TOTP brute force by someone who knows the password', () => {
  it(
    'counts wrong codes on their own budget: "password, four wrong codes" repeated is locked out, the right code too',
    async () => {
      const t = await start('delegato-sec-totp-');
      await addDomainAdmin(t, 'victim', 'iat.example');
      const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
      await t.d.setAdminTotpSecret(OP, 'victim', secret);
      const now = Date.now();
      const valid = new Set([-1, 0, 1].map((k) => totpCode(secret, new Date(now + k * 30_000))));
      let n = 100_000;
      const wrongCode = () => {
        while (valid.has(String(n))) n++;
        return String(n++);
      };

      const checked: number[] = [];
      const refused: number[] = [];
      for (let round = 0; round < 4; round++) {
        const web = new WebClient(t.origin);
        const signIn = await web.signIn('victim', ADMIN_PASSWORD);
        if (signIn.status === 429) {
          refused.push(429);
          continue;
        }
        expect(signIn.locationPath).toBe('/login/totp');
        for (let i = 0; i < 4; i++) {
          const status = await postCode(web, wrongCode());
          if (status === 401) checked.push(status);
          else refused.push(status);
        }
      }
      // The account's budget is 5 failures a window: no more than 5 codes were ever checked.
      expect(checked.length).toBeLessThanOrEqual(5);
      expect(refused.length).toBeGreaterThan(0);

      // Locked: the password and the right code do not get in now (from this address or another).
      const web = new WebClient(t.origin);
      const signIn = await web.signIn('victim', ADMIN_PASSWORD);
      const right = totpCode(secret, new Date());
      const final = signIn.status === 303 ? await postCode(web, right) : signIn.status;
      expect(final).toBe(429);
      const api = await httpsJson(t.origin, 'POST', '/api/v1/tokens', {
        json: { username: 'victim', password: ADMIN_PASSWORD, code: right },
        localAddress: source(77),
      });
      expect(api.status).toBe(429);
    },
    SLOW,
  );
});

describe('item 5: a password reset or a removal ends sessions and tokens at once', () => {
  it(
    "`delegato admin passwd` ends the admin's web session and API token; a new sign-in works",
    async () => {
      const t = await start('delegato-sec-passwd-');
      await addDomainAdmin(t, 'alice', 'iat.example');
      const web = new WebClient(t.origin);
      expect((await web.signIn('alice', ADMIN_PASSWORD)).status).toBe(303);
      expect((await web.get('/d/iat.example/mailboxes')).status).toBe(200);
      const bearer = await token(t, 'alice', ADMIN_PASSWORD);
      expect((await httpsJson(t.origin, 'GET', '/api/v1/domains', { bearer })).status).toBe(200);

      const cli = await runCli(
        t.dataDir,
        ['admin', 'passwd', 'alice', '--password-stdin'],
        'New-Admin-Pass-2\n',
      );
      expect(cli.code, cli.stderr).toBe(0);

      const after = await web.get('/d/iat.example/mailboxes');
      expect(after.status).toBe(303);
      expect(after.locationPath).toBe('/login');
      expect((await httpsJson(t.origin, 'GET', '/api/v1/domains', { bearer })).status).toBe(401);

      const again = new WebClient(t.origin);
      expect((await again.signIn('alice', 'New-Admin-Pass-2')).status).toBe(303);
      expect((await again.get('/d/iat.example/mailboxes')).status).toBe(200);
      const fresh = await token(t, 'alice', 'New-Admin-Pass-2');
      expect((await httpsJson(t.origin, 'GET', '/api/v1/domains', { bearer: fresh })).status).toBe(200);
    },
    SLOW,
  );

  it(
    "an admin's own password change in the UI ends their other sessions and tokens, not the one that changed it",
    async () => {
      const t = await start('delegato-sec-self-');
      await addDomainAdmin(t, 'alice', 'iat.example');
      const thief = new WebClient(t.origin);
      expect((await thief.signIn('alice', ADMIN_PASSWORD)).status).toBe(303);
      const stolenToken = await token(t, 'alice', ADMIN_PASSWORD);
      const owner = new WebClient(t.origin);
      expect((await owner.signIn('alice', ADMIN_PASSWORD)).status).toBe(303);
      const me = await owner.get('/me');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(me.body)?.[1] ?? '';
      const changed = await owner.post('/me/password', [
        ['_csrf', csrf],
        ['currentPassword', ADMIN_PASSWORD],
        ['newPassword', 'New-Admin-Pass-2'],
        ['confirmPassword', 'New-Admin-Pass-2'],
      ]);
      expect(changed.status, changed.body.slice(0, 300)).toBe(303);
      expect((await owner.get('/d/iat.example/mailboxes')).status).toBe(200);
      expect((await thief.get('/d/iat.example/mailboxes')).locationPath).toBe('/login');
      expect((await httpsJson(t.origin, 'GET', '/api/v1/domains', { bearer: stolenToken })).status).toBe(401);
    },
    SLOW,
  );

  it(
    "a mailbox password reset (JSON API) ends the user's IMAP, POP3 and web sessions; a removal (admin UI) ends IMAP",
    async () => {
      const t = await start('delegato-sec-mailsess-');
      await addRose(t.app, ROSE_PASSWORD);
      const bob = await t.d.addMailbox(OP, {
        domain: 'iat.example',
        kind: 'personal',
        firstName: 'Bob',
        lastName: 'Blue',
        password: 'Bob-Mail-Pass-1',
      });

      // Rose: IMAP in IDLE, POP3 in TRANSACTION, the web UI.
      const imap = await imapConnect(t.port('imaps'), '127.0.0.1');
      expect((await imapCommand(imap, 'a1', `LOGIN "${ROSE}" "${ROSE_PASSWORD}"`)).tagged).toMatch(/^a1 OK/);
      expect((await imapCommand(imap, 'a2', 'SELECT INBOX')).tagged).toMatch(/^a2 OK/);
      imap.write('a3 IDLE\r\n');
      expect(await imap.line()).toMatch(/^\+ /);
      const { LineClient } = await import('@delegato/testkit');
      const pop = await LineClient.connect(t.port('pop3s'), '127.0.0.1', { tls: true });
      await pop.line();
      pop.write(`USER ${ROSE}\r\n`);
      await pop.line();
      pop.write(`PASS ${ROSE_PASSWORD}\r\n`);
      expect(await pop.line()).toMatch(/^\+OK/);
      const web = new WebClient(t.origin);
      expect((await web.signIn(ROSE, ROSE_PASSWORD)).locationPath).toBe('/me');

      const opToken = await token(t, OPERATOR, OPERATOR_PASSWORD);
      const reset = await httpsJson(
        t.origin,
        'PUT',
        `/api/v1/domains/iat.example/mailboxes/${ROSE}/password`,
        { bearer: opToken, json: { password: 'Rose-New-Pass-2' } },
      );
      expect(reset.status).toBe(200);

      expect(await imap.line()).toMatch(/^\* BYE/);
      await imap.waitClosed();
      await pop.waitClosed();
      expect((await web.get('/me')).locationPath).toBe('/login');
      // The new password works at once, on a new connection.
      expect((await imapLogin(t.port('imaps'), '127.0.0.1', ROSE, 'Rose-New-Pass-2')).tagged).toMatch(
        /^a1 OK/,
      );

      // Bob's IMAP session, and his removal through the admin UI (the operator's form).
      const bobImap = await imapConnect(t.port('imaps'), '127.0.0.1');
      expect((await imapCommand(bobImap, 'b1', `LOGIN "${bob.address}" "Bob-Mail-Pass-1"`)).tagged).toMatch(
        /^b1 OK/,
      );
      const op = new WebClient(t.origin);
      expect((await op.signIn(OPERATOR, OPERATOR_PASSWORD)).status).toBe(303);
      const page = await op.get(`/d/iat.example/mailboxes/${bob.address}`);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
      const removed = await op.post(`/d/iat.example/mailboxes/${bob.address}/remove`, [['_csrf', csrf]]);
      expect(removed.status, removed.body.slice(0, 300)).toBe(303);
      await bobImap.waitClosed();
      imap.close();
      pop.close();
      bobImap.close();
    },
    SLOW,
  );
});

describe('item 6: one failed-login budget per mailbox, whatever name and protocol', () => {
  it(
    'after five failures on the official address, the aliases with the right password are refused on IMAP, POP3, SMTP AUTH and the web',
    async () => {
      const t = await start('delegato-sec-alias-');
      await addRose(t.app, ROSE_PASSWORD);
      for (let i = 0; i < 5; i++) {
        const r = await imapLogin(t.port('imaps'), source(i), ROSE, `wrong-${i}-password`);
        expect(r.tagged).toMatch(/AUTHENTICATIONFAILED/);
      }
      const [first = '', second = ''] = ROSE_ALIASES;
      expect((await imapLogin(t.port('imaps'), source(20), first, ROSE_PASSWORD)).tagged).not.toMatch(
        /^a1 OK/,
      );
      expect(await pop3Login(t.port('pop3s'), source(21), second, ROSE_PASSWORD)).toMatch(/^-ERR/);
      expect(await smtpAuth(t.port('submissions'), source(22), first, ROSE_PASSWORD)).not.toBe(235);
      const web = new WebClient(t.origin);
      const signIn = await web.signIn(second, ROSE_PASSWORD);
      expect(signIn.status).toBe(429);
      expect(signIn.locationPath).toBeUndefined();
    },
    SLOW,
  );

  it(
    'still limits unknown names by the name typed: the sixth attempt gets the same refusal as a locked mailbox',
    async () => {
      const t = await start('delegato-sec-unknown-');
      await addRose(t.app, ROSE_PASSWORD);
      const replies = async (name: string, from: number) => {
        const out: string[] = [];
        for (let i = 0; i < 6; i++) {
          out.push((await imapLogin(t.port('imaps'), source(from + i), name, `wrong-${i}-password`)).tagged);
        }
        return out.map((l) => l.replace(/^a1 /, ''));
      };
      const real = await replies(ROSE, 0);
      const ghost = await replies('ghost.nobody@iat.example', 10);
      expect(ghost).toEqual(real);
      expect(ghost.at(-1)).toMatch(/UNAVAILABLE/);
    },
    SLOW,
  );
});

describe('item 7: no user enumeration through timing', () => {
  it(
    'an unknown admin name costs what a wrong password costs (POST /api/v1/tokens)',
    async () => {
      const t = await start('delegato-sec-timing-admin-');
      const admins = ['ann', 'ben', 'cat', 'dan', 'eve'];
      for (const username of admins) {
        await t.d.addAdmin(OP, { username, role: 'operator', password: ADMIN_PASSWORD });
      }
      const known: number[] = [];
      const unknown: number[] = [];
      // Four tries per existing admin (below the lockout), each from its own address; interleaved.
      for (let i = 0; i < 20; i++) {
        const k = await httpsJson(t.origin, 'POST', '/api/v1/tokens', {
          json: { username: admins[i % admins.length], password: `wrong-${i}-password` },
          localAddress: source(i),
        });
        const u = await httpsJson(t.origin, 'POST', '/api/v1/tokens', {
          json: { username: `ghost-${i}`, password: `wrong-${i}-password` },
          localAddress: source(100 + i),
        });
        expect([k.status, u.status]).toEqual([401, 401]);
        known.push(k.ms);
        unknown.push(u.ms);
      }
      const [mk, mu] = [median(known), median(unknown)];
      console.info(
        `admin sign-in, wrong password: existing ${mk.toFixed(1)} ms, unknown ${mu.toFixed(1)} ms`,
      );
      expect(mu / mk).toBeGreaterThan(0.6);
    },
    SLOW,
  );

  it(
    'an unknown mailbox address costs what a wrong password costs (IMAP LOGIN)',
    async () => {
      const t = await start('delegato-sec-timing-mail-');
      await addRose(t.app, ROSE_PASSWORD);
      const users = [ROSE];
      for (const [first, last] of [
        ['Ann', 'Amber'],
        ['Ben', 'Brown'],
        ['Cat', 'Cyan'],
        ['Dan', 'Dune'],
      ]) {
        users.push(
          (
            await t.d.addMailbox(OP, {
              domain: 'iat.example',
              kind: 'personal',
              firstName: first,
              lastName: last,
              password: ROSE_PASSWORD,
            })
          ).address,
        );
      }
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 20; i++) {
        const k = await imapLogin(t.port('imaps'), source(i), users[i % users.length] ?? '', `wrong-${i}-pw`);
        const u = await imapLogin(
          t.port('imaps'),
          source(100 + i),
          `ghost-${i}@iat.example`,
          `wrong-${i}-pw`,
        );
        expect(k.tagged).toMatch(/AUTHENTICATIONFAILED/);
        expect(u.tagged).toMatch(/AUTHENTICATIONFAILED/);
        known.push(k.ms);
        unknown.push(u.ms);
      }
      const [mk, mu] = [median(known), median(unknown)];
      console.info(`IMAP LOGIN, wrong password: existing ${mk.toFixed(1)} ms, unknown ${mu.toFixed(1)} ms`);
      expect(mu / mk).toBeGreaterThan(0.6);
    },
    SLOW,
  );
});

describe('item 10: alias targets in another hosted domain reveal nothing', () => {
  it(
    'a domain admin gets the same answer for existing and unknown addresses of another domain, never the official address behind an alias; mail still arrives',
    async () => {
      const t = await start('delegato-sec-probe-');
      await addRose(t.app, ROSE_PASSWORD);
      await addDomainAdmin(t, 'admin-alpha', 'alpha.example');
      const bearer = await token(t, 'admin-alpha', ADMIN_PASSWORD);
      const add = (alias: string, target: string) =>
        httpsJson(t.origin, 'POST', '/api/v1/domains/alpha.example/aliases', {
          bearer,
          json: { alias, targets: [target] },
        });
      const existing = await add('probe1@alpha.example', ROSE);
      const unknown = await add('probe2@alpha.example', 'nobody.here@iat.example');
      const generated = await add('probe3@alpha.example', 'r.pinkcheeks@iat.example');
      expect([existing.status, unknown.status, generated.status]).toEqual([201, 201, 201]);
      expect(JSON.stringify(generated.body)).not.toContain(ROSE);
      const listed = await httpsJson(t.origin, 'GET', '/api/v1/domains/alpha.example/aliases', { bearer });
      expect(listed.status).toBe(200);
      const probe3 = (listed.body as Array<{ address: string; targets: string[] }>).find(
        (a) => a.address === 'probe3@alpha.example',
      );
      expect(probe3?.targets).toEqual(['r.pinkcheeks@iat.example']);

      // Mail to the alias still reaches Rose (resolved at delivery, like any address).
      await sendMail(t.port('smtp'), 'probe3@alpha.example', 'via-alias');
      expect(await imapInboxCount(t.port('imap'), ROSE, ROSE_PASSWORD)).toBe(1);
    },
    SLOW,
  );
});
