/**
 * Mail and users across regions in the lab (issue 14, item 6): `delegato lab up` starts the hub and three
 * appliances as separate processes on 127.0.1.1, 127.0.2.1 and 127.0.3.1; everything below goes through
 * their real listeners and control sockets.
 *
 * - south's user submits at south to north's user: relayed over the federation channel, in north's INBOX
 *   with a Received line naming the verified region south; `delegato trace` at south follows it to north;
 * - an IMAP login at the wrong region (north's user at central) reaches the mailbox in north (proxied);
 * - a client without a federation certificate gets no greeting on a federation port;
 * - south stopped: north's user's mail to south waits in north's queue (451 4.4.1), and arrives once
 *   south is back (the operator's `queue retry` instead of the retry schedule's next minute).
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { LineClient, tempDir, waitFor } from '@delegato/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { sendControlRequest } from '../src/control/client.js';
import { controlSocketPath } from '../src/control/paths.js';
import { dataPaths } from '../src/data-dir.js';
import type { LabFile } from '../src/lab/layout.js';
import { alive, runCli } from './federation-support.js';

type Region = 'north' | 'central' | 'south';
const work = tempDir('delegato-lab-mail-');
const labDir = join(work.path, 'lab');
const pids: number[] = [];
const ADA = 'ada@north.example';
const SAM = 'sam@south.example';
const PASSWORDS: Record<string, string> = { [ADA]: 'ada lab password 1', [SAM]: 'sam lab password 2' };
let lab: LabFile;

afterAll(async () => {
  await runCli(['lab', 'down', '--dir', labDir], { cwd: work.path, timeoutMs: 120_000 }).catch(
    () => undefined,
  );
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  work.remove();
}, 180_000);

const ctl = (region: Region, argv: string[], stdin?: string) => {
  const dataDir = lab.regions[region].dataDir;
  return sendControlRequest(controlSocketPath(dataDir), dataPaths(dataDir).controlToken, {
    user: userInfo().username,
    argv,
    ...(stdin !== undefined ? { stdin } : {}),
  });
};
async function ok(region: Region, argv: string[], stdin?: string): Promise<string> {
  const res = await ctl(region, argv, stdin);
  expect(res.code, `${region}: ${argv.join(' ')}: ${res.stderr}`).toBe(0);
  return res.stdout;
}

/** Submits one message at `region`'s submission port (STARTTLS, AUTH PLAIN) as `from`. */
async function submit(region: Region, from: string, to: string, subject: string): Promise<void> {
  const r = lab.regions[region];
  const c = await LineClient.connect(r.ports.submission, r.host);
  try {
    await c.smtpReply();
    await c.smtp('EHLO client.example');
    expect((await c.smtp('STARTTLS')).code).toBe(220);
    await c.startTls();
    await c.smtp('EHLO client.example');
    const token = Buffer.from(`\0${from}\0${PASSWORDS[from]}`).toString('base64');
    expect((await c.smtp(`AUTH PLAIN ${token}`)).code).toBe(235);
    expect((await c.smtp(`MAIL FROM:<${from}>`)).code).toBe(250);
    expect((await c.smtp(`RCPT TO:<${to}>`)).code).toBe(250);
    expect((await c.smtp('DATA')).code).toBe(354);
    const reply = await c.smtp(
      `From: <${from}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@lab.example>\r\n\r\nHello across regions\r\n.`,
    );
    expect(reply.code).toBe(250);
    await c.smtp('QUIT').catch(() => undefined);
  } finally {
    c.close();
  }
}

/** Logs in over IMAPS at `region`, selects INBOX, runs `command` (tag c); the lines up to c's answer. */
async function imap(region: Region, user: string, command: string): Promise<string[]> {
  const r = lab.regions[region];
  const c = await LineClient.connect(r.ports.imaps, r.host, { tls: true });
  const lines: string[] = [];
  const until = async (tag: string) => {
    for (;;) {
      const line = await c.line();
      lines.push(line);
      if (line.startsWith(`${tag} `)) return line;
    }
  };
  try {
    await c.line();
    c.write(`a LOGIN ${user} "${PASSWORDS[user]}"\r\n`);
    expect(await until('a')).toMatch(/^a OK/);
    c.write('b SELECT INBOX\r\n');
    expect(await until('b')).toMatch(/^b OK/);
    c.write(`c ${command}\r\n`);
    await until('c');
    c.write('d LOGOUT\r\n');
    await until('d').catch(() => undefined);
    return lines;
  } finally {
    c.close();
  }
}
const subjects = async (region: Region, user: string) =>
  (await imap(region, user, 'FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])').catch(() => [])).join('\n');

/** What a client without a certificate receives on a federation port before it is closed. */
function noCertificateProbe(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    const socket = tlsConnect({ host, port, rejectUnauthorized: false });
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      received += d;
    });
    const done = () => resolve(received);
    socket.on('error', done);
    socket.on('close', done);
    socket.setTimeout(5000, () => socket.destroy());
  });
}

describe('mail and users across the lab regions', () => {
  it('relays between regions, proxies logins, refuses strangers, queues for a stopped region', {
    timeout: 600_000,
  }, async () => {
    const up = await runCli(['lab', 'up', '--dir', labDir], { cwd: work.path, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    lab = JSON.parse(readFileSync(join(labDir, 'lab.json'), 'utf8')) as LabFile;
    for (const pid of [lab.hub.pid, ...Object.values(lab.regions).map((r) => r.pid)])
      pids.push(pid as number);

    // north.example homed in north, south.example in south (added where each is homed).
    await ok('north', ['domain', 'add', 'north.example']);
    await waitFor(async () => (await ctl('south', ['domain', 'add', 'south.example'])).code === 0, 30_000);
    await ok(
      'north',
      ['mailbox', 'add', 'north.example', '--role', 'ada', '--password-stdin'],
      `${PASSWORDS[ADA]}\n`,
    );
    await ok(
      'south',
      ['mailbox', 'add', 'south.example', '--role', 'sam', '--password-stdin'],
      `${PASSWORDS[SAM]}\n`,
    );
    await waitFor(async () => {
      for (const r of ['north', 'central', 'south'] as const) {
        const known = (await ctl(r, ['mailbox', 'list', 'north.example'])).stdout;
        const knownSouth = (await ctl(r, ['mailbox', 'list', 'south.example'])).stdout;
        if (!known.includes(ADA) || !knownSouth.includes(SAM)) return false;
      }
      return true;
    }, 30_000);

    // South's user mails north's user: over the federation channel, into north's INBOX.
    await submit('south', SAM, ADA, 'south-to-north');
    await waitFor(async () => (await subjects('north', ADA)).includes('south-to-north'), 30_000);
    const header = (await imap('north', ADA, 'FETCH 1 (BODY.PEEK[HEADER.FIELDS (RECEIVED)])')).join('\n');
    expect(header).toMatch(/from south \(region south, federation certificate verified/);

    // delegato trace at south follows the message to north.
    const trace = await ok('south', ['trace', ADA]);
    expect(trace).toContain('-- region south (here):');
    expect(trace).toMatch(/-- region north \(<south-to-north@lab\.example>\):[\s\S]*delivered/);

    // An IMAP login at the wrong region (central) reaches ada's mailbox in north.
    const atCentral = (await imap('central', ADA, 'FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])')).join('\n');
    expect(atCentral).toContain('south-to-north');

    // A client without a federation certificate gets no greeting on north's federation port.
    expect(await noCertificateProbe(lab.regions.north.host, lab.regions.north.ports.federation)).toBe('');

    // South stopped: north's mail to south waits in north's queue, then arrives after south's restart.
    const stop = await runCli(['lab', 'stop', 'south', '--dir', labDir], {
      cwd: work.path,
      timeoutMs: 60_000,
    });
    expect(stop.code, stop.stderr).toBe(0);
    await submit('north', ADA, SAM, 'north-to-stopped-south');
    let queued: Array<{ id: string; recipients: Array<{ address: string; lastReply?: string | null }> }> = [];
    await waitFor(async () => {
      queued = JSON.parse(await ok('north', ['queue', 'list', '--json']));
      return queued.some((m) =>
        m.recipients.some((r) => r.address === SAM && /4\.4\.1/.test(r.lastReply ?? '')),
      );
    }, 30_000);
    const start = await runCli(['lab', 'start', 'south', '--dir', labDir], {
      cwd: work.path,
      timeoutMs: 120_000,
    });
    expect(start.code, start.stderr).toBe(0);
    const restarted = (JSON.parse(readFileSync(join(labDir, 'lab.json'), 'utf8')) as LabFile).regions.south
      .pid;
    if (restarted) pids.push(restarted);
    for (const m of queued) await ok('north', ['queue', 'retry', m.id]);
    await waitFor(async () => (await subjects('south', SAM)).includes('north-to-stopped-south'), 60_000);
    await waitFor(
      async () => (JSON.parse(await ok('north', ['queue', 'list', '--json'])) as unknown[]).length === 0,
      30_000,
    );

    const down = await runCli(['lab', 'down', '--dir', labDir], { cwd: work.path, timeoutMs: 120_000 });
    expect(down.code, down.stderr).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});
