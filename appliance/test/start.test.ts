/**
 * `delegato start` as a real process: listeners on port 0, operator bootstrap, HTTPS /healthz, the CLI
 * through the control socket while it runs, no credentials in the log, clean shutdown on SIGTERM.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = new URL('../bin/delegato.mjs', import.meta.url).pathname;
const ROOT = mkdtempSync(join(tmpdir(), 'delegato-start-'));
const DATA = join(ROOT, 'var');
const PORT_ENV = Object.fromEntries(
  ['SMTP', 'SUBMISSION', 'SUBMISSIONS', 'IMAP', 'IMAPS', 'POP3', 'POP3S', 'ADMIN', 'WEB', 'FEDERATION'].map(
    (p) => [`DELEGATO_PORT_${p}`, '0'],
  ),
);

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startAppliance(env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: ROOT,
    env: { ...process.env, DELEGATO_DATA_DIR: DATA, ...PORT_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function cli(
  args: string[],
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, DELEGATO_DATA_DIR: DATA },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdin.end(stdin ?? '');
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function httpsGet(
  port: number,
  path: string,
  ca: string,
  opts: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        ca,
        servername: 'localhost',
        method: opts.method,
        headers: opts.headers,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('delegato start', () => {
  let app: Running;
  let adminPort = 0;
  const mailboxPassword = 'Rose-secret-pw-42';

  beforeAll(async () => {
    app = startAppliance();
    const line = await waitFor(
      'the admin listener line',
      () => /^admin 127\.0\.0\.1:(\d+)$/m.exec(app.stdout()) ?? undefined,
    );
    adminPort = Number(line[1]);
  }, 60_000);

  afterAll(async () => {
    if (app.child.exitCode === null) {
      app.child.kill('SIGKILL');
      await app.exited;
    }
    rmSync(ROOT, { recursive: true, force: true });
  });

  it('prints one line per listener and the operator credentials once, saved with mode 0600', () => {
    const out = app.stdout();
    const password = /password: (\S+)/.exec(out)?.[1];
    expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
    const file = join(DATA, 'operator-password');
    expect(readFileSync(file, 'utf8').trim()).toBe(password);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(DATA, 'federation.key')).mode & 0o777).toBe(0o600);
    // Only services that exist are opened (no federation listener without a federation certificate).
    const listenerLines = out.split('\n').filter((l) => /^\w+ \S+:\d+$/.test(l));
    expect(listenerLines.map((l) => l.split(' ')[0])).toEqual([
      'smtp',
      'submission',
      'submissions',
      'imap',
      'imaps',
      'pop3',
      'pop3s',
      'admin',
      'web',
    ]);
    expect(listenerLines).toContain(`admin 127.0.0.1:${adminPort}`);
  });

  it('answers GET /healthz with 200 over HTTPS with its self-signed certificate', async () => {
    const ca = readFileSync(join(DATA, 'tls', 'cert.pem'), 'utf8');
    const res = await httpsGet(adminPort, '/healthz', ca);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'ok', region: 'local' });
    expect((await httpsGet(adminPort, '/nowhere', ca)).status).toBe(404);
  });

  it('runs directory commands through the control socket while it owns the directory', async () => {
    expect((await cli(['domain', 'add', 'iat.example'])).code).toBe(0);
    const rose = await cli(
      ['mailbox', 'add', 'iat.example', '--first', 'Rose', '--last', 'Pinkcheeks', '--password-stdin'],
      `${mailboxPassword}\n`,
    );
    expect(rose.code).toBe(0);
    expect(rose.stdout).toContain('rose.pinkcheeks@iat.example');
    expect(rose.stdout).toContain('alias r.pinkcheeks@iat.example');
    expect(rose.stdout).toContain('alias pinkcheeks@iat.example');
    expect(rose.stdout).not.toContain(mailboxPassword);

    for (const first of ['Mario', 'Marco']) {
      expect((await cli(['mailbox', 'add', 'iat.example', '--first', first, '--last', 'Rossi'])).code).toBe(
        0,
      );
    }
    const aliases = await cli(['alias', 'list', 'iat.example', '--json']);
    expect(aliases.code).toBe(0);
    const list = JSON.parse(aliases.stdout) as Array<{
      address: string;
      ambiguous: boolean;
      targets: string[];
    }>;
    for (const a of ['rossi@iat.example', 'm.rossi@iat.example']) {
      expect(list.find((x) => x.address === a)).toMatchObject({
        ambiguous: true,
        targets: ['mario.rossi@iat.example', 'marco.rossi@iat.example'],
      });
    }
    // Errors keep their contract through the socket too.
    const dup = await cli(['domain', 'add', 'iat.example']);
    expect(dup.code).toBe(2);
    expect(dup.stderr.trim().split('\n')).toHaveLength(1);
    // The change is visible to the running appliance at once (live): the audit log lists it.
    const audit = JSON.parse((await cli(['audit', '--json'])).stdout) as Array<{
      action: string;
      actor: string;
    }>;
    expect(audit.some((r) => r.action === 'mailbox.add' && r.actor.startsWith('operator:cli:'))).toBe(true);
  }, 60_000);

  it('serves Thunderbird autoconfig and Outlook Autodiscover on the public web listener', async () => {
    const out = app.stdout();
    const port = (name: string) => Number(new RegExp(`^${name} 127\\.0\\.0\\.1:(\\d+)$`, 'm').exec(out)?.[1]);
    const web = port('web');
    const ca = readFileSync(join(DATA, 'tls', 'cert.pem'), 'utf8');
    expect((await httpsGet(web, '/healthz', ca)).status).toBe(200);

    // The domain was added through the CLI above; the ports are the listeners' real ones.
    const tb = await httpsGet(web, '/mail/config-v1.1.xml?emailaddress=rose.pinkcheeks%40iat.example', ca);
    expect(tb.status).toBe(200);
    expect(tb.headers['content-type']).toContain('application/xml');
    expect(tb.body).toMatch(
      new RegExp(
        `<hostname>imap\\.iat\\.example</hostname>\\s*<port>${port('imaps')}</port>\\s*<socketType>SSL`,
      ),
    );
    expect(tb.body).toContain(`<port>${port('submission')}</port>`);
    expect(
      (await httpsGet(web, '/mail/config-v1.1.xml?emailaddress=a%40not-hosted.example', ca)).status,
    ).toBe(404);

    const request = (address: string) =>
      `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${address}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;
    const post = (body: string) =>
      httpsGet(web, '/autodiscover/autodiscover.xml', ca, {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/xml' },
      });
    const ol = await post(request('nobody-in-particular@IAT.example'));
    expect(ol.status).toBe(200);
    expect(ol.body).toMatch(/<Type>IMAP<\/Type>\s*<Server>imap\.iat\.example<\/Server>/);
    expect(ol.body).toContain(`<Port>${port('imaps')}</Port>`);
    expect(ol.body).toContain(`<Port>${port('pop3s')}</Port>`);
    expect(ol.body).toContain(`<Port>${port('submissions')}</Port>`);
    expect(ol.body).toContain('<LoginName>nobody-in-particular@iat.example</LoginName>');
    expect((await post(request('x@not-hosted.example'))).status).toBe(404);
    expect((await post('<Autodiscover/>')).status).toBe(400);
    expect((await post(request(`x@iat.example${' '.repeat(20_000)}`))).status).toBe(413);
    expect((await post(request('<script>@iat.example'))).status).not.toBe(200);

    // Apple configuration profile: a real property list (Python's plistlib reads it), no password in it.
    const profile = await httpsGet(web, '/apple/mobileconfig?emailaddress=rose.pinkcheeks%40IAT.example', ca);
    expect(profile.status).toBe(200);
    expect(profile.headers['content-type']).toContain('application/x-apple-aspen-config');
    expect(profile.headers['content-disposition']).toBe('attachment; filename="iat.example.mobileconfig"');
    const plist = JSON.parse(
      execFileSync(
        'python3',
        ['-c', 'import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'],
        { input: profile.body },
      ).toString(),
    );
    expect(plist).toMatchObject({ PayloadType: 'Configuration', PayloadVersion: 1 });
    expect(plist.PayloadContent).toHaveLength(1);
    expect(plist.PayloadContent[0]).toMatchObject({
      PayloadType: 'com.apple.mail.managed',
      EmailAccountType: 'EmailTypeIMAP',
      EmailAddress: 'rose.pinkcheeks@iat.example',
      IncomingMailServerHostName: 'imap.iat.example',
      IncomingMailServerPortNumber: port('imaps'),
      IncomingMailServerUseSSL: true,
      IncomingMailServerUsername: 'rose.pinkcheeks@iat.example',
      OutgoingMailServerHostName: 'smtp.iat.example',
      OutgoingMailServerPortNumber: port('submissions'),
      OutgoingMailServerUseSSL: true,
    });
    expect(JSON.stringify(plist)).not.toMatch(/password"\s*:\s*"/i);
    // The same address gets the same identifiers (a new download replaces the account, not doubles it).
    const again = await httpsGet(web, '/apple/mobileconfig?emailaddress=rose.pinkcheeks%40iat.example', ca);
    expect(again.body).toBe(profile.body);
    expect((await httpsGet(web, '/apple/mobileconfig?emailaddress=x%40not-hosted.example', ca)).status).toBe(
      404,
    );
    expect((await httpsGet(web, '/apple/mobileconfig?emailaddress=%3Cx%3E%40iat.example', ca)).status).toBe(
      400,
    );

    // The home page links to the self-service sign-in of the admin listener; a forged Host is not echoed.
    const home = await httpsGet(web, '/', ca, { headers: { host: 'mail.iat.example:443' } });
    expect(home.status).toBe(200);
    expect(home.body).toContain(`href="https://mail.iat.example:${adminPort}/login"`);
    expect(home.body).toContain('<form method="get" action="/apple/mobileconfig">');
    const forged = await httpsGet(web, '/', ca, { headers: { host: '"><script>alert(1)</script>' } });
    expect(forged.body).not.toContain('<script>');
    const odd = await httpsGet(web, '/', ca, { headers: { host: 'odd_name.example' } });
    expect(odd.status).toBe(200);
    expect(odd.body).not.toContain('odd_name');
    expect(home.headers['content-security-policy']).toContain("default-src 'none'");
  }, 30_000);

  it('refuses a second appliance on the same data dir with a clear message', async () => {
    const second = startAppliance();
    const { code } = await second.exited;
    expect(code).toBe(1);
    expect(second.stderr()).toMatch(/locked/);
  }, 30_000);

  it('never writes credentials to its log', () => {
    const log = app.stderr();
    const operatorPassword = readFileSync(join(DATA, 'operator-password'), 'utf8').trim();
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain(operatorPassword);
    expect(log).not.toContain(mailboxPassword);
    expect(log).toContain('"event":"control.request"');
  });

  it('shuts down cleanly on SIGTERM within 10 s and keeps its data for the next start', async () => {
    const t0 = Date.now();
    app.child.kill('SIGTERM');
    const { code } = await app.exited;
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);

    const again = startAppliance();
    try {
      await waitFor('restart', () => (/^admin /m.test(again.stdout()) ? true : undefined));
      expect(again.stdout()).not.toContain('password:'); // the operator exists already
      const list = await cli(['mailbox', 'list', 'iat.example', '--json']);
      const boxes = JSON.parse(list.stdout) as { mailboxes: Array<{ address: string }> };
      expect(boxes.mailboxes.map((m) => m.address)).toContain('rose.pinkcheeks@iat.example');
    } finally {
      again.child.kill('SIGINT');
      expect((await again.exited).code).toBe(0);
    }
  }, 60_000);
});

describe('delegato start with DELEGATO_OPERATOR_PASSWORD', () => {
  it('takes the operator password from the environment and writes no password file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'delegato-start-env-'));
    const child = spawn(process.execPath, [BIN, 'start'], {
      cwd: dir,
      env: {
        ...process.env,
        ...PORT_ENV,
        DELEGATO_DATA_DIR: join(dir, 'var'),
        DELEGATO_OPERATOR_PASSWORD: 'Op-from-env-123',
      },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      await waitFor('listener', () => (/^admin /m.test(out) ? true : undefined));
      expect(out).toContain('DELEGATO_OPERATOR_PASSWORD');
      expect(out).not.toContain('Op-from-env-123');
      expect(err).not.toContain('Op-from-env-123');
      expect(() => statSync(join(dir, 'var', 'operator-password'))).toThrow();
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
