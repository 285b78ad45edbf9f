/**
 * The directory's side of issue 11: the `sessions_valid_after` stamp a password change or removal sets
 * (admins and mailboxes), the account-change events the mail servers listen to, and alias targets in a
 * domain the admin does not manage (kept as typed, never looked up).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Actor, Directory } from '../src/index.js';
import { operator, tempDirectory } from './helpers.js';

let now = new Date('2026-05-04T10:00:00.000Z');
const clock = () => now;
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups) await c();
  cleanups = [];
});

async function open(): Promise<Directory> {
  const t = await tempDirectory({ now: clock });
  cleanups.push(t.cleanup);
  return t.dir;
}

describe('sessions_valid_after', () => {
  it("an admin's password change voids sessions issued before it, not those issued after", async () => {
    const d = await open();
    await d.addAdmin(operator, { username: 'alice', role: 'operator', password: 'Alice-Pass-123' });
    const before = now.getTime();
    now = new Date(now.getTime() + 60_000);
    await d.setAdminPassword(operator, 'alice', 'Alice-Pass-456');
    expect(await d.actorForAdmin('alice', '192.0.2.1', { issuedAt: before })).toBeNull();
    expect(await d.actorForAdmin('alice', '192.0.2.1', { issuedAt: now.getTime() })).not.toBeNull();
    // A fresh sign-in is not held against the stamp.
    expect(await d.authenticateAdmin('alice', 'Alice-Pass-456', '192.0.2.1')).not.toBeNull();
  });

  it("a mailbox's password change and removal void its sessions, and are announced", async () => {
    const d = await open();
    await d.addDomain(operator, 'iat.example');
    const m = await d.addMailbox(operator, {
      domain: 'iat.example',
      kind: 'personal',
      firstName: 'Rose',
      lastName: 'Pinkcheeks',
      password: 'Rose-Pass-1234',
    });
    const changes: string[][] = [];
    d.onAccountChange((c) => changes.push(c.mailboxIds));
    const mb = await d.resolveLogin(m.address);
    if (!mb) throw new Error('no mailbox');
    const issued = now.getTime();
    expect(d.mailboxSessionValid(mb, issued)).toBe(true);
    now = new Date(now.getTime() + 60_000);
    await d.setPassword(operator, m.address, 'Rose-Pass-5678');
    const changed = await d.mailboxById(mb.id);
    expect(changed && d.mailboxSessionValid(changed, issued)).toBe(false);
    expect(changed && d.mailboxSessionValid(changed, now.getTime())).toBe(true);
    await d.removeMailbox(operator, m.address);
    const removed = await d.mailboxById(mb.id);
    expect(removed && d.mailboxSessionValid(removed, now.getTime() + 1)).toBe(false);
    expect(changes).toEqual([[mb.id], [mb.id]]);
  });
});

describe('alias targets in a domain the admin does not manage', () => {
  it('are kept as typed: the same answer for existing and unknown addresses, no official address', async () => {
    const d = await open();
    await d.addDomain(operator, 'alpha.example');
    await d.addDomain(operator, 'iat.example');
    await d.addMailbox(operator, {
      domain: 'iat.example',
      kind: 'personal',
      firstName: 'Rose',
      lastName: 'Pinkcheeks',
      password: 'Rose-Pass-1234',
    });
    const admin: Actor = { kind: 'domain-admin', name: 'a', domains: ['alpha.example'], from: '192.0.2.1' };
    const existing = await d.addAlias(admin, 'p1@alpha.example', ['r.pinkcheeks@iat.example']);
    const unknown = await d.addAlias(admin, 'p2@alpha.example', ['nobody@iat.example']);
    expect(existing.targets).toEqual(['r.pinkcheeks@iat.example']);
    expect(unknown.targets).toEqual(['nobody@iat.example']);
    // Mail still finds Rose: the target is resolved at delivery.
    const lookup = await d.lookupRecipient('p1@alpha.example');
    expect(lookup).toMatchObject({
      kind: 'alias',
      targets: [{ kind: 'address', address: 'r.pinkcheeks@iat.example' }],
    });
    expect(await d.lookupRecipient('r.pinkcheeks@iat.example')).toMatchObject({ kind: 'mailbox' });
  });
});
