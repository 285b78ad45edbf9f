/**
 * Built-in lists in headless Chromium against the real appliance (issue 19): the domain administrator
 * creates a moderated list in the browser; an outside sender is refused in the SMTP transaction; a
 * member's message is held, and its owner (a mailbox user) reads it on their own page, shown as text
 * only (its HTML, script and image are not rendered), and approves it; the members then have their copy.
 * Screenshots of every step: test-artifacts/admin/lists-*.png.
 */
import { LineClient } from '@delegato/testkit';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrowserUser,
  imapInboxCount,
  launchChromium,
  listenerPort,
  OP,
  rcptReply,
  startTestAppliance,
} from './admin-support.js';

const DOMAIN = 'iat.example';
const ADMIN = 'iat-admin';
const ADMIN_PASSWORD = 'Iat-Admin-Pass-1';
const ROSE = `rose.pinkcheeks@${DOMAIN}`;
const MARIO = `mario.rossi@${DOMAIN}`;
const ANNA = `anna.verdi@${DOMAIN}`;
const PASSWORD = 'Member-Mail-Pass-1';
const LIST = `staff@${DOMAIN}`;

let t: Awaited<ReturnType<typeof startTestAppliance>>;
let browser: Browser;
const users: BrowserUser[] = [];

async function user(name: string): Promise<BrowserUser> {
  const u = await BrowserUser.open(browser, t.origin, `lists-${name}`);
  users.push(u);
  return u;
}

/** A message from Mario with a text part and an HTML part carrying a script and a remote image. */
async function marioPosts(subject: string): Promise<{ code: number; text: string }> {
  const c = await LineClient.connect(listenerPort(t.app, 'smtp'));
  try {
    await c.smtpReply();
    await c.smtp('EHLO client.example');
    expect((await c.smtp(`MAIL FROM:<${MARIO}>`)).code).toBe(250);
    expect((await c.smtp(`RCPT TO:<${LIST}>`)).code).toBe(250);
    expect((await c.smtp('DATA')).code).toBe(354);
    const reply = await c.smtp(
      [
        `From: Mario Rossi <${MARIO}>`,
        `To: <${LIST}>`,
        `Subject: ${subject}`,
        'MIME-Version: 1.0',
        'Content-Type: multipart/alternative; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'The meeting moves to Thursday at 10.',
        '--b1',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<p>The meeting moves to <b>Thursday</b> at 10.</p><script>alert("held-xss")</script>',
        '<img src="http://tracker.example/pixel.png">',
        '--b1--',
        '.',
      ].join('\r\n'),
    );
    await c.smtp('QUIT');
    return reply;
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  t = await startTestAppliance('delegato-admin-lists-');
  browser = await launchChromium();
  const d = t.app.directory;
  await d.addDomain(OP, DOMAIN);
  await d.addAdmin(OP, {
    username: ADMIN,
    role: 'domain-admin',
    domains: [DOMAIN],
    password: ADMIN_PASSWORD,
  });
  for (const [firstName, lastName] of [
    ['Rose', 'Pinkcheeks'],
    ['Mario', 'Rossi'],
    ['Anna', 'Verdi'],
  ] as const) {
    await d.addMailbox(OP, { domain: DOMAIN, kind: 'personal', firstName, lastName, password: PASSWORD });
  }
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

describe('built-in lists in Chromium', { timeout: 60_000 }, () => {
  it('the domain administrator creates a moderated list', async () => {
    const da = await user('admin');
    await da.signIn(ADMIN, ADMIN_PASSWORD);
    expect(await da.goto(`/d/${DOMAIN}/lists`)).toBe(200);
    await da.page.getByRole('link', { name: 'mailing lists', exact: true }).click();
    await da.page.waitForLoadState('load');
    expect(da.path).toBe(`/d/${DOMAIN}/mailing-lists`);
    await da.set('List address', 'staff');
    await da.set('Owner', 'rose.pinkcheeks');
    await da.set('Who may post', 'Members only');
    await da.set("Moderated: messages wait for the owner's approval");
    await da.set('Members', `${MARIO}\n${ANNA}`);
    await da.screenshot('create-form');
    const made = await da.submitButton('Create list');
    expect(made.final).toBe(200);
    expect(da.path).toBe(`/d/${DOMAIN}/mailing-lists/${LIST}`);
    await da.screenshot('list-created');
    const text = await da.text();
    expect(text).toContain(`${LIST} created with 2 member(s).`);
    expect(text).toContain(ROSE);
    expect(await t.app.directory.getList(OP, LIST)).toMatchObject({
      owner: ROSE,
      senders: 'members',
      moderated: true,
      members: [ANNA, MARIO],
    });
  });

  it('an outside sender is refused in the SMTP transaction, and nothing is held', async () => {
    const r = await rcptReply(listenerPort(t.app, 'smtp'), LIST);
    expect(r.code).toBe(550);
    expect(r.text).toContain('5.7.1');
    expect(r.text).toContain(`only members may post to ${LIST}`);
    const da = await user('admin-after-refusal');
    await da.signIn(ADMIN, ADMIN_PASSWORD);
    expect(await da.goto(`/d/${DOMAIN}/mailing-lists/${LIST}`)).toBe(200);
    expect(await da.text()).toContain('No messages are waiting.');
    await da.screenshot('outside-sender-refused-nothing-held');
  });

  it("a member's message is held; the owner reads it as text only and approves it; the members get it", async () => {
    const posted = await marioPosts('Meeting moved');
    expect(posted.code).toBe(250);
    expect(posted.text).toContain('held');
    const imap = listenerPort(t.app, 'imap');
    expect(await imapInboxCount(imap, ANNA, PASSWORD)).toBe(0);

    const rose = await user('owner');
    await rose.signIn(ROSE, PASSWORD);
    expect(await rose.goto('/me')).toBe(200);
    expect(await rose.text()).toContain(`List ${LIST}`);
    expect(await rose.text()).toContain('Meeting moved');
    await rose.screenshot('owner-sees-held');
    const images: string[] = [];
    rose.page.on('request', (r) => {
      if (r.resourceType() === 'image') images.push(r.url());
    });
    await rose.page.getByRole('link', { name: 'Meeting moved', exact: true }).click();
    await rose.page.waitForLoadState('load');
    expect(rose.path).toMatch(new RegExp(`^/me/lists/${LIST}/held/[0-9A-Z]{26}$`));
    const shown = await rose.page.locator('pre.message-text').textContent();
    expect(shown).toContain('The meeting moves to Thursday at 10.');
    // Text only: the HTML part is not rendered, its script did not run, its image was not fetched.
    expect(await rose.page.locator('main b, main img, main script').count()).toBe(0);
    expect(rose.alerts).toEqual([]);
    expect(images).toEqual([]);
    await rose.screenshot('owner-reads-held');
    const approved = await rose.submitButton('Approve');
    expect(approved.final).toBe(200);
    expect(await rose.text()).toContain('Approved: “Meeting moved” goes to the members');
    await rose.screenshot('owner-approved');
    expect(await t.app.lists.moderation.pending(LIST)).toEqual([]);

    const until = Date.now() + 10_000;
    while ((await imapInboxCount(imap, ANNA, PASSWORD)) === 0 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    expect(await imapInboxCount(imap, ANNA, PASSWORD)).toBe(1);
    expect(await imapInboxCount(imap, MARIO, PASSWORD)).toBe(1);
    for (const u of users) expect(u.alerts).toEqual([]);
  });

  it('the list pages in Italian', async () => {
    const da = await user('admin-italian');
    await da.signIn(ADMIN, ADMIN_PASSWORD);
    expect(await da.goto(`/d/${DOMAIN}/mailing-lists/${LIST}`)).toBe(200);
    await da.set('Language', 'Italiano');
    await da.submitButton('Change');
    expect(await da.goto(`/d/${DOMAIN}/mailing-lists/${LIST}`)).toBe(200);
    const text = await da.text();
    expect(text).toContain('Iscritti (2)');
    expect(text).toContain('Messaggi in attesa');
    expect(text).toContain('Chi può scrivere');
    await da.screenshot('list-in-italian');
  });
});
