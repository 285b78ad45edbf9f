/**
 * The admin web UI end to end, in headless Chromium against the real appliance (in this process, ports
 * 0, the HTTPS admin listener with its self-signed certificate): the operator creates a domain and its
 * administrator, who adds and manages mailboxes and aliases, and the new mailbox's owner changes her
 * password. What the pages did is checked in the directory, and the mailbox made in the browser then
 * receives mail over SMTP and is read over IMAP and POP3. Screenshots of every page: test-artifacts/admin/.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrowserUser,
  imapInboxCount,
  launchChromium,
  listenerPort,
  OP,
  OPERATOR,
  OPERATOR_PASSWORD,
  pop3Stat,
  rcptReply,
  sendMail,
  startTestAppliance,
} from './admin-support.js';

const DOMAIN = 'iat.example';
const ADMIN = 'iat-admin';
const ADMIN_PASSWORD = 'Iat-Admin-Pass-1';
const ROSE = `rose.pinkcheeks@${DOMAIN}`;
const ROSE_PASSWORD = 'Garden-First-Pass-1';
const ROSE_NEW_PASSWORD = 'Garden-Second-Pass-2';
const MARIO = `mario.rossi@${DOMAIN}`;

let t: Awaited<ReturnType<typeof startTestAppliance>>;
let browser: Browser;
const users: BrowserUser[] = [];

async function user(name: string): Promise<BrowserUser> {
  const u = await BrowserUser.open(browser, t.origin, name);
  users.push(u);
  return u;
}

const mailbox = async (address: string) =>
  (await t.app.directory.listMailboxes(OP, DOMAIN)).mailboxes.find((m) => m.address === address);

beforeAll(async () => {
  t = await startTestAppliance('delegato-admin-flows-');
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

describe('admin web UI in Chromium', { timeout: 60_000 }, () => {
  it('the operator signs in, creates a domain and its domain administrator', async () => {
    const op = await user('operator');
    await op.signIn(OPERATOR, OPERATOR_PASSWORD);
    await op.screenshot('signed-in');

    expect(await op.goto('/domains')).toBe(200);
    await op.set('Domain', DOMAIN);
    await op.set('Region', t.region);
    await op.screenshot('domains-form');
    const added = await op.submitButton('Add domain');
    expect(added.final).toBe(200);
    await op.screenshot('domain-added');
    expect(await op.text()).toContain(DOMAIN);
    expect((await t.app.directory.listDomains(OP)).map((d) => [d.name, d.region])).toContainEqual([
      DOMAIN,
      t.region,
    ]);

    expect(await op.goto('/admins')).toBe(200);
    await op.set('Username', ADMIN);
    await op.set('Password', ADMIN_PASSWORD);
    await op.set('Role', 'domain administrator');
    await op.set('Domains', DOMAIN);
    await op.screenshot('admins-form');
    const made = await op.submitButton('Add administrator');
    expect(made.final).toBe(200);
    await op.screenshot('admin-added');
    expect(await op.text()).toContain(ADMIN);
    expect(await t.app.directory.listAdmins(OP)).toContainEqual(
      expect.objectContaining({ username: ADMIN, role: 'domain-admin', domains: [DOMAIN] }),
    );
    expect(op.alerts).toEqual([]);
  });

  it('the domain administrator adds Rose Pinkcheeks and sees her addresses and set-up sheet', async () => {
    const da = await user('domain-admin');
    await da.signIn(ADMIN, ADMIN_PASSWORD);
    await da.screenshot('signed-in');

    expect(await da.goto(`/d/${DOMAIN}/mailboxes/new`)).toBe(200);
    await da.set('First name', 'Rose');
    await da.set('Last name', 'Pinkcheeks');
    await da.set('Personal');
    await da.set('Password', ROSE_PASSWORD);
    await da.screenshot('new-mailbox-form');
    const r = await da.submitButton('Add user');
    expect(r.post, 'POST of the new-mailbox form redirects').toBeGreaterThanOrEqual(300);
    expect(r.post).toBeLessThan(400);
    expect(r.final).toBe(200);
    // The set-up sheet comes right after "Add user" (issue 19), then the mailbox page.
    expect(da.path).toBe(`/d/${DOMAIN}/mailboxes/${ROSE}/setup`);
    await da.screenshot('setup-sheet-after-add');
    expect(await da.goto(`/d/${DOMAIN}/mailboxes/${ROSE}`)).toBe(200);
    await da.screenshot('mailbox-page');
    const page = await da.text();
    for (const a of [ROSE, `r.pinkcheeks@${DOMAIN}`, `pinkcheeks@${DOMAIN}`]) expect(page).toContain(a);
    expect(await mailbox(ROSE)).toMatchObject({
      kind: 'personal',
      firstName: 'Rose',
      lastName: 'Pinkcheeks',
    });
    expect(await t.app.directory.authenticateMailbox(ROSE, ROSE_PASSWORD)).not.toBeNull();

    const setup = da.page.locator(
      `a[href$="/d/${DOMAIN}/mailboxes/${ROSE}/setup"], a[href$="/d/${DOMAIN}/mailboxes/${encodeURIComponent(ROSE)}/setup"]`,
    );
    expect(await setup.count(), 'a link to the set-up sheet').toBeGreaterThan(0);
    await Promise.all([da.page.waitForEvent('load'), setup.first().click()]);
    expect(da.path).toBe(`/d/${DOMAIN}/mailboxes/${ROSE}/setup`);
    await da.screenshot('setup-sheet');
    const sheet = await da.text();
    for (const host of [`imap.${DOMAIN}`, `smtp.${DOMAIN}`, `pop.${DOMAIN}`]) expect(sheet).toContain(host);
    expect(sheet).toContain(ROSE);
    expect(da.alerts).toEqual([]);
  });

  it('the domain administrator searches, adds an alias, a forward and a list alias', async () => {
    const da = users.find((u) => u.name === 'domain-admin') as BrowserUser;
    expect(await da.goto(`/d/${DOMAIN}/mailboxes`)).toBe(200);
    await da.screenshot('mailbox-list');
    expect(await da.text()).toContain(ROSE);
    expect(await da.goto(`/d/${DOMAIN}/mailboxes?q=pinkch`)).toBe(200);
    await da.screenshot('mailbox-search-hit');
    expect(await da.text()).toContain(ROSE);
    expect(await da.goto(`/d/${DOMAIN}/mailboxes?q=nobody-by-that-name`)).toBe(200);
    await da.screenshot('mailbox-search-miss');
    expect(await da.text()).not.toContain(ROSE);

    expect(await da.goto(`/d/${DOMAIN}/aliases`)).toBe(200);
    await da.set('Alias', `team@${DOMAIN}`);
    await da.set('Targets', ROSE);
    await da.screenshot('alias-form');
    expect((await da.submitFormWith('Alias')).final).toBe(200);
    await da.screenshot('alias-added');
    expect(await da.text()).toContain(`team@${DOMAIN}`);

    expect(await da.goto(`/d/${DOMAIN}/forwards`)).toBe(200);
    await da.set('Address', `moved@${DOMAIN}`);
    await da.set('Remote address', 'moved.person@elsewhere.example');
    await da.screenshot('forward-form');
    expect((await da.submitFormWith('Remote address')).final).toBe(200);
    await da.screenshot('forward-added');
    expect(await da.text()).toContain(`moved@${DOMAIN}`);

    expect(await da.goto(`/d/${DOMAIN}/lists`)).toBe(200);
    await da.set('Address', `staff@${DOMAIN}`);
    await da.set('List server address', 'staff@lists.example');
    await da.screenshot('list-form');
    expect((await da.submitFormWith('List server address')).final).toBe(200);
    await da.screenshot('list-added');
    expect(await da.text()).toContain(`staff@${DOMAIN}`);

    const aliases = await t.app.directory.listAliases(OP, DOMAIN);
    expect(aliases).toContainEqual(
      expect.objectContaining({ address: `team@${DOMAIN}`, kind: 'manual', targets: [ROSE] }),
    );
    expect(aliases).toContainEqual(
      expect.objectContaining({
        address: `moved@${DOMAIN}`,
        kind: 'forward',
        targets: ['moved.person@elsewhere.example'],
      }),
    );
    expect(aliases).toContainEqual(
      expect.objectContaining({ address: `staff@${DOMAIN}`, kind: 'list', targets: ['staff@lists.example'] }),
    );

    // An alias removed through its own remove button.
    expect(await da.goto(`/d/${DOMAIN}/forwards`)).toBe(200);
    const remove = da.page.locator(
      `form[action$="/d/${DOMAIN}/forwards/moved@${DOMAIN}/remove"], form[action$="/d/${DOMAIN}/forwards/${encodeURIComponent(`moved@${DOMAIN}`)}/remove"]`,
    );
    expect(await remove.count(), 'a remove button for the forward').toBe(1);
    expect((await da.submit(remove.locator('button, input[type=submit]').first())).final).toBe(200);
    await da.screenshot('forward-removed');
    expect((await t.app.directory.listAliases(OP, DOMAIN)).map((a) => a.address)).not.toContain(
      `moved@${DOMAIN}`,
    );
    expect(da.alerts).toEqual([]);
  });

  it('the domain administrator sets a password and an expiration date, then removes a mailbox', async () => {
    const da = users.find((u) => u.name === 'domain-admin') as BrowserUser;
    expect(await da.goto(`/d/${DOMAIN}/mailboxes/new`)).toBe(200);
    await da.set('First name', 'Mario');
    await da.set('Last name', 'Rossi');
    await da.set('Personal');
    await da.set('Password', 'Harbor-First-Pass-1');
    await da.set('Group', 'Sales');
    await da.set('Contact person', 'Rose Pinkcheeks');
    await da.set('Flag', 'vip');
    expect((await da.submitButton('Add user')).final).toBe(200);
    expect(da.path).toBe(`/d/${DOMAIN}/mailboxes/${MARIO}/setup`);
    expect(await da.goto(`/d/${DOMAIN}/mailboxes/${MARIO}`)).toBe(200);
    await da.screenshot('second-mailbox');
    expect(await mailbox(MARIO)).toMatchObject({ group: 'Sales', contact: 'Rose Pinkcheeks', flag: 'vip' });

    await da.set('New password', 'Harbor-Second-Pass-2');
    expect((await da.submitFormWith('New password')).final).toBe(200);
    await da.screenshot('password-set');
    expect(await t.app.directory.authenticateMailbox(MARIO, 'Harbor-Second-Pass-2')).not.toBeNull();
    expect(await t.app.directory.authenticateMailbox(MARIO, 'Harbor-First-Pass-1')).toBeNull();

    expect(await da.goto(`/d/${DOMAIN}/mailboxes/${MARIO}`)).toBe(200);
    await da.set('Expiration date', '2099-12-31');
    expect((await da.submitFormWith('Expiration date')).final).toBe(200);
    await da.screenshot('expiry-set');
    expect((await mailbox(MARIO))?.expiresOn).toBe('2099-12-31');

    expect(await da.goto(`/d/${DOMAIN}/mailboxes/${MARIO}`)).toBe(200);
    const remove = da.page.locator('form[action$="/remove"]');
    expect(await remove.count(), 'one remove form on the mailbox page').toBe(1);
    // The confirmation step (issue 19) names what will be lost; its button removes.
    await Promise.all([da.page.waitForEvent('load'), remove.locator('button').first().click()]);
    expect(da.path).toBe(`/d/${DOMAIN}/mailboxes/${MARIO}/remove`);
    await da.screenshot('remove-confirmation');
    expect((await mailbox(MARIO))?.state).toBe('active');
    expect((await da.submitButton(`Yes, remove ${MARIO}`)).final).toBe(200);
    await da.screenshot('mailbox-removed');
    expect((await mailbox(MARIO))?.state).toBe('removed');
    expect(await t.app.directory.authenticateMailbox(MARIO, 'Harbor-Second-Pass-2')).toBeNull();
    expect(da.alerts).toEqual([]);
  });

  it('Rose signs in with her address and changes her own password', async () => {
    const rose = await user('rose');
    expect(await rose.signIn(ROSE, ROSE_PASSWORD)).toBe('/me');
    await rose.screenshot('me');
    expect(await rose.text()).toContain(ROSE);
    await rose.set('Current password', ROSE_PASSWORD);
    await rose.set('New password', ROSE_NEW_PASSWORD);
    const r = await rose.submitFormWith('New password');
    expect(r.final).toBe(200);
    await rose.screenshot('password-changed');
    expect(await t.app.directory.authenticateMailbox(ROSE, ROSE_NEW_PASSWORD)).not.toBeNull();
    expect(await t.app.directory.authenticateMailbox(ROSE, ROSE_PASSWORD)).toBeNull();

    // Signing out ends the session: /me sends her back to the login page.
    const signOut = rose.page.locator('form[action$="/logout"]');
    expect(await signOut.count(), 'a sign-out form').toBeGreaterThan(0);
    await rose.submit(signOut.first().locator('button, input[type=submit]').first());
    await rose.goto('/me');
    await rose.screenshot('signed-out');
    expect(rose.path).toMatch(/^\/login/);
    expect(rose.alerts).toEqual([]);
  });

  it('the mailbox made in the browser receives mail at once and is read over IMAP and POP3 with the new password', async () => {
    const smtp = listenerPort(t.app, 'smtp');
    await sendMail(smtp, ROSE, 'direct');
    await sendMail(smtp, `team@${DOMAIN}`, 'via-alias');
    await sendMail(smtp, `pinkcheeks@${DOMAIN}`, 'via-generated-alias');
    const removed = await rcptReply(smtp, MARIO);
    expect(removed.code, removed.text).toBe(550);
    expect(removed.text).toContain('5.2.1');
    expect(await imapInboxCount(listenerPort(t.app, 'imap'), ROSE, ROSE_NEW_PASSWORD)).toBe(3);
    expect(await pop3Stat(listenerPort(t.app, 'pop3'), ROSE, ROSE_NEW_PASSWORD)).toMatch(/^\+OK 3 \d+/);
  });
});
