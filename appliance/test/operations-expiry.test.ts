/**
 * Mailbox expiry (issue 16, the add-user form's expiration field): the job `mailbox-expiry` warns the
 * mailbox's contact person by mail before the date (once per date; postmaster@ of the domain when the
 * contact field holds no address); past the date the mailbox is refused at RCPT (550 5.2.1) and at
 * IMAP login.
 */
import { dirname } from 'node:path';
import { todayIn } from '@delegato/directory';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendControlRequest } from '../src/control/client.js';
import { controlSocketPath } from '../src/control/paths.js';
import { dataPaths } from '../src/data-dir.js';
import { addDays } from '../src/stats/rollup.js';
import { listenerPort, OP, startTestAppliance } from './admin-support.js';
import { imapInbox, refusedRcpt } from './operations-support.js';

const D = 'iat.example';
const PASSWORD = 'Mailbox-Pass-1';
let t: Awaited<ReturnType<typeof startTestAppliance>>;
let today: string;

async function control(argv: string[]) {
  const dataDir = dirname(t.app.store.dir);
  return sendControlRequest(controlSocketPath(dataDir), dataPaths(dataDir).controlToken, {
    user: 'test',
    argv,
  });
}

beforeAll(async () => {
  t = await startTestAppliance('delegato-expiry-');
  today = todayIn('UTC', new Date());
  const d = t.app.directory;
  await d.addDomain(OP, D);
  await d.addMailbox(OP, { domain: D, kind: 'role', localPart: 'boss', password: PASSWORD });
  await d.addMailbox(OP, {
    domain: D,
    kind: 'role',
    localPart: 'temp',
    password: PASSWORD,
    contact: 'Boss Person <boss@iat.example>, room 12',
    expiresOn: addDays(today, 3),
  });
  // No address in the contact field: the domain's postmaster@ is warned.
  await d.addMailbox(OP, {
    domain: D,
    kind: 'role',
    localPart: 'guest',
    password: PASSWORD,
    contact: 'the front desk',
    expiresOn: addDays(today, 10),
  });
  // Far away: not warned yet.
  await d.addMailbox(OP, {
    domain: D,
    kind: 'role',
    localPart: 'later',
    password: PASSWORD,
    contact: 'boss@iat.example',
    expiresOn: addDays(today, 60),
  });
  await d.setPassword(OP, `postmaster@${D}`, PASSWORD);
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe('mailbox expiry', { timeout: 60_000 }, () => {
  it('warns the contact person before the date, once', async () => {
    const run = await control(['jobs', 'run', 'mailbox-expiry', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).result).toEqual({ warned: 2, expired: 0 });
    const imap = listenerPort(t.app, 'imap');
    const boss = await imapInbox(imap, `boss@${D}`, PASSWORD);
    expect(boss.map((m) => m.subject)).toEqual([`Mailbox temp@${D} expires on ${addDays(today, 3)}`]);
    expect(boss[0]?.source).toMatch(/^Auto-Submitted: auto-generated\r$/m);
    expect(boss[0]?.source).toContain('3 days from now');
    const postmaster = await imapInbox(imap, `postmaster@${D}`, PASSWORD);
    expect(postmaster.map((m) => m.subject)).toEqual([`Mailbox guest@${D} expires on ${addDays(today, 10)}`]);
    // The same date is not warned about twice.
    const again = await control(['jobs', 'run', 'mailbox-expiry', '--json']);
    expect(JSON.parse(again.stdout).result).toEqual({ warned: 0, expired: 0 });
    expect(await imapInbox(imap, `boss@${D}`, PASSWORD)).toHaveLength(1);
    // Before its last day has passed the mailbox still works.
    expect((await refusedRcpt(listenerPort(t.app, 'smtp'), `temp@${D}`)).code).toBe(250);
    expect(await imapInbox(imap, `temp@${D}`, PASSWORD)).toEqual([]);
  });

  it('past the date: RCPT gets 550 5.2.1 and the login is refused', async () => {
    await t.app.directory.setExpiry(OP, `temp@${D}`, addDays(today, -1));
    const rcpt = await refusedRcpt(listenerPort(t.app, 'smtp'), `temp@${D}`);
    expect(rcpt.code).toBe(550);
    expect(rcpt.text).toMatch(/^550 5\.2\.1 /);
    await expect(imapInbox(listenerPort(t.app, 'imap'), `temp@${D}`, PASSWORD)).rejects.toThrow();
    const run = await control(['jobs', 'run', 'mailbox-expiry', '--json']);
    expect(JSON.parse(run.stdout).result).toEqual({ warned: 0, expired: 1 });
  });
});
