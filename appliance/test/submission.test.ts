/**
 * Submission (RFC 6409 / RFC 8314) end to end: swaks with STARTTLS and AUTH PLAIN, LOGIN, CRAM-MD5; AUTH
 * never before TLS; the anti-relay table; sender ownership; rate limits; no secrets in the log.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import type { Actor } from '@delegato/directory';
import { createLogger } from '@delegato/observability';
import { ALL_PORTS_ZERO, LineClient, tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningAppliance, startAppliance } from '../src/appliance.js';
import { loadConfig } from '../src/config/load.js';

const run = promisify(execFile);
const OP: Actor = { kind: 'operator', name: 'test', from: 'local' };
const PASSWORD = 'Rose-Secret-Pass-1';
const dir = tempDir('delegato-sub-');
const logStream = new PassThrough();
let logText = '';
logStream.on('data', (d) => {
  logText += d;
});
let app: RunningAppliance;
let submission = 0;
let submissions = 0;

function port(name: string): number {
  return app.listeners.find((l) => l.name === name)?.port ?? 0;
}

/** swaks through STARTTLS on the submission port; resolves with its exit code and transcript. */
async function swaks(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run('swaks', [
      '--server',
      `127.0.0.1:${submission}`,
      '--helo',
      'client.example',
      ...args,
    ]);
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

async function authed(localAddress?: string): Promise<LineClient> {
  const c = await LineClient.connect(submission, '127.0.0.1', localAddress ? { localAddress } : {});
  await c.smtpReply();
  await c.smtp('EHLO client.example');
  expect((await c.smtp('STARTTLS')).code).toBe(220);
  await c.startTls();
  await c.smtp('EHLO client.example');
  const token = Buffer.from(`\0rose.pinkcheeks@iat.example\0${PASSWORD}`).toString('base64');
  expect((await c.smtp(`AUTH PLAIN ${token}`)).code).toBe(235);
  return c;
}

beforeAll(async () => {
  const config = loadConfig({
    env: {
      ...ALL_PORTS_ZERO,
      // Message authentication at the MX is tested in message-auth-inbound.test.ts.
      DELEGATO_AUTH_INBOUND: 'false',
      DELEGATO_DATA_DIR: join(dir.path, 'var'),
      DELEGATO_INTERNAL_NETWORKS: '127.0.0.2/32',
    },
    cwd: dir.path,
  });
  app = await startAppliance(config, {
    out: new PassThrough(),
    env: { DELEGATO_OPERATOR_PASSWORD: 'operator-test-pw' },
    logger: createLogger({ level: 'info', destination: logStream }),
  });
  submission = port('submission');
  submissions = port('submissions');
  await app.directory.addDomain(OP, 'iat.example');
  await app.directory.addMailbox(OP, {
    domain: 'iat.example',
    kind: 'personal',
    firstName: 'Rose',
    lastName: 'Pinkcheeks',
    password: PASSWORD,
  });
  await app.directory.addMailbox(OP, {
    domain: 'iat.example',
    kind: 'personal',
    firstName: 'Old',
    lastName: 'Timer',
    password: PASSWORD,
    expiresOn: '2020-01-01',
  });
}, 60_000);

afterAll(async () => {
  await app?.stop();
  dir.remove();
});

describe('submission', () => {
  it.each(['PLAIN', 'LOGIN', 'CRAM-MD5'])(
    'swaks --tls --auth %s succeeds and the message is delivered',
    async (mech) => {
      const r = await swaks([
        '--tls',
        '--auth',
        mech,
        '--auth-user',
        'rose.pinkcheeks@iat.example',
        '--auth-password',
        PASSWORD,
        '--from',
        'rose.pinkcheeks@iat.example',
        '--to',
        'pinkcheeks@iat.example',
        '--header',
        'From: rose.pinkcheeks@iat.example',
      ]);
      expect(r.out).toMatch(/<~ {2}235 /);
      expect(r.out).toMatch(/<~ {2}250 2\.6\.0 Message accepted/);
      expect(r.code).toBe(0);
    },
  );

  it.each(['PLAIN', 'LOGIN', 'CRAM-MD5'])(
    'swaks --tls --auth %s with a wrong password gets 535',
    async (mech) => {
      const r = await swaks([
        '--tls',
        '--auth',
        mech,
        '--auth-user',
        'r.pinkcheeks@iat.example',
        '--auth-password',
        'wrong-password-x',
        '--to',
        'pinkcheeks@iat.example',
        '--from',
        'rose.pinkcheeks@iat.example',
      ]);
      expect(r.out).toMatch(/<~\* {1}535 5\.7\.8 /);
      expect(r.code).not.toBe(0);
    },
  );

  it('neither offers nor accepts AUTH before STARTTLS, and offers it after', async () => {
    const c = await LineClient.connect(submission);
    await c.smtpReply();
    const ehlo = await c.smtp('EHLO client.example');
    expect(ehlo.text).not.toMatch(/AUTH/);
    expect(
      (
        await c.smtp(
          `AUTH PLAIN ${Buffer.from(`\0rose.pinkcheeks@iat.example\0${PASSWORD}`).toString('base64')}`,
        )
      ).code,
    ).toBeGreaterThanOrEqual(500);
    await c.smtp('STARTTLS');
    await c.startTls();
    expect((await c.smtp('EHLO client.example')).text).toMatch(/AUTH PLAIN LOGIN CRAM-MD5/);
    c.close();
  });

  it('implicit TLS listener (submissions) authenticates too', async () => {
    const c = await LineClient.connect(submissions, '127.0.0.1', { tls: true });
    await c.smtpReply();
    expect((await c.smtp('EHLO client.example')).text).toMatch(/AUTH PLAIN/);
    const token = Buffer.from(`\0rose.pinkcheeks@iat.example\0${PASSWORD}`).toString('base64');
    expect((await c.smtp(`AUTH PLAIN ${token}`)).code).toBe(235);
    c.close();
  });

  it('an expired mailbox cannot authenticate', async () => {
    const r = await swaks([
      '--tls',
      '--auth',
      'PLAIN',
      '--auth-user',
      'old.timer@iat.example',
      '--auth-password',
      PASSWORD,
      '--to',
      'x@iat.example',
    ]);
    expect(r.out).toMatch(/535 5\.7\.8/);
  });

  it('anti-relay: external unauthenticated → MAIL refused (530, RFC 6409 §4.3); internal → queued', async () => {
    const c = await LineClient.connect(submission);
    await c.smtpReply();
    await c.smtp('EHLO client.example');
    expect((await c.smtp('MAIL FROM:<someone@outside.example>')).text).toMatch(/^530 5\.7\.0 /);
    expect((await c.smtp('RCPT TO:<rose.pinkcheeks@iat.example>')).code).toBe(503);
    c.close();

    const before = (await app.queue.list()).length;
    const internal = await LineClient.connect(submission, '127.0.0.1', { localAddress: '127.0.0.2' });
    await internal.smtpReply();
    await internal.smtp('EHLO printer.example');
    await internal.smtp('MAIL FROM:<scanner@iat.example>');
    expect((await internal.smtp('RCPT TO:<friend@elsewhere.example>')).code).toBe(250);
    await internal.smtp('DATA');
    expect((await internal.smtp('Subject: scan\r\n\r\nscan\r\n.')).code).toBe(250);
    internal.close();
    expect((await app.queue.list()).length).toBe(before + 1);
  });

  it('an authenticated user relays, only as themselves (envelope and From)', async () => {
    const c = await authed();
    expect((await c.smtp('MAIL FROM:<someone.else@iat.example>')).text).toMatch(/^550 5\.7\.1 /);
    expect((await c.smtp('MAIL FROM:<r.pinkcheeks@iat.example>')).code).toBe(250);
    expect((await c.smtp('RCPT TO:<friend@elsewhere.example>')).code).toBe(250);
    await c.smtp('DATA');
    const forged = await c.smtp('From: The Boss <boss@iat.example>\r\nSubject: x\r\n\r\nbody\r\n.');
    expect(forged.text).toMatch(/^550 5\.7\.1 .*boss@iat\.example/);
    await c.smtp('RSET');
    await c.smtp('MAIL FROM:<rose.pinkcheeks@iat.example>');
    await c.smtp('RCPT TO:<friend@elsewhere.example>');
    await c.smtp('DATA');
    const ok = await c.smtp('From: Rose <pinkcheeks@iat.example>\r\nSubject: x\r\n\r\nbody\r\n.');
    expect(ok.code).toBe(250);
    c.close();
    const queued = await app.queue.list();
    expect(queued.some((m) => m.sender === 'rose.pinkcheeks@iat.example')).toBe(true);
  });

  it('rate limits failed logins per client address, and logs them without the secret', async () => {
    const c = await LineClient.connect(submission, '127.0.0.1', { localAddress: '127.0.0.9' });
    await c.smtpReply();
    await c.smtp('EHLO client.example');
    await c.smtp('STARTTLS');
    await c.startTls();
    await c.smtp('EHLO client.example');
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) {
      const token = Buffer.from(`\0guess${i}@iat.example\0Secret-Guess-${i}`).toString('base64');
      codes.push((await c.smtp(`AUTH PLAIN ${token}`)).code);
    }
    c.close();
    expect(codes.slice(0, 10).every((code) => code === 535)).toBe(true);
    expect(codes.slice(10)).toEqual([454, 454]);
    expect(logText).toContain('"event":"smtp.auth_failed"');
    expect(logText).not.toContain('Secret-Guess-');
    expect(logText).not.toContain(PASSWORD);
  });
});
