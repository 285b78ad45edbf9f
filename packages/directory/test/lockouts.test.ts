/**
 * Login lockouts recorded in the directory (service/lockouts.ts): a sign-in record `auth.lockout` with an
 * account key and an end appends a lockout; `lockedUntil` answers until then and not after, for lockouts
 * of other regions only (this region's are its limiter's); an admin
 * locked out is refused with the right password; records without a valid account are audit rows only;
 * a lockout is cut to a day; rows a day past their end are deleted with the next record.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { adminAccountKey, mailboxAccountKey } from '../src/index.js';
import { loginLockouts } from '../src/schema.js';
import { operator, tempDirectory } from './helpers.js';

let now = Date.parse('2026-12-06T10:00:00Z');
const clock = () => new Date(now);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function open() {
  const t = await tempDirectory({ now: clock });
  cleanups.push(t.cleanup);
  return t.dir;
}

const lockout = (account: string, untilMs: number, from = 'central/192.0.2.7') => ({
  action: 'auth.lockout' as const,
  actor: 'anonymous',
  from,
  target: 'someone',
  details: { account, until: new Date(untilMs).toISOString(), via: 'mail' },
});

describe('login lockouts', () => {
  it('hold until their end, and not after', async () => {
    const dir = await open();
    const account = mailboxAccountKey('01JABCDEF');
    expect(await dir.lockedUntil(account)).toBeNull();
    await dir.recordAuthEvent(lockout(account, now + 15 * 60_000));
    expect(await dir.lockedUntil(account)).toBe(now + 15 * 60_000);
    // A later, shorter lockout does not shorten it.
    await dir.recordAuthEvent(lockout(account, now + 60_000));
    expect(await dir.lockedUntil(account)).toBe(now + 15 * 60_000);
    now += 15 * 60_000 + 1;
    expect(await dir.lockedUntil(account)).toBeNull();
  });

  it('lock an admin: the right password is refused until the end', async () => {
    const dir = await open();
    await dir.addAdmin(operator, { username: 'Iat-Admin', role: 'operator', password: 'a good password 77' });
    expect(await dir.authenticateAdmin('iat-admin', 'a good password 77', '127.0.0.1')).not.toBeNull();
    await dir.recordAuthEvent(lockout(adminAccountKey('IAT-admin '), now + 60_000, 'central/127.0.0.1'));
    expect(await dir.authenticateAdmin('iat-admin', 'a good password 77', '127.0.0.1')).toBeNull();
    now += 60_001;
    expect(await dir.authenticateAdmin('iat-admin', 'a good password 77', '127.0.0.1')).not.toBeNull();
  });

  it("are another region's business only: this region's own lockouts are left to its limiter", async () => {
    const dir = await open();
    const account = mailboxAccountKey('01JHERE');
    await dir.recordAuthEvent(lockout(account, now + 60_000, '192.0.2.7'));
    await dir.recordAuthEvent(lockout(account, now + 60_000, 'local/192.0.2.7'));
    expect(await dir.lockedUntil(account)).toBeNull();
    await dir.recordAuthEvent(lockout(account, now + 30_000, 'south/192.0.2.7'));
    expect(await dir.lockedUntil(account)).toBe(now + 30_000);
  });

  it('ignore records without a valid account or end, and cut a lockout to a day', async () => {
    const dir = await open();
    const forEver = mailboxAccountKey('01JFOREVER');
    await dir.recordAuthEvent({ ...lockout(forEver, now), details: { account: 'nobody', until: 'x' } });
    await dir.recordAuthEvent({ ...lockout(forEver, now), details: { account: forEver, until: 'soon' } });
    expect(await dir.lockedUntil(forEver)).toBeNull();
    await dir.recordAuthEvent(lockout(forEver, now + 365 * 24 * 3600_000));
    expect(await dir.lockedUntil(forEver)).toBe(now + 24 * 3600_000);
    // Still audit rows, all three.
    const rows = (await dir.listAudit(operator)).filter((r) => r.action === 'auth.lockout');
    expect(rows).toHaveLength(3);
  });

  it('delete rows a day past their end with the next record', async () => {
    const dir = await open();
    const old = mailboxAccountKey('01JOLD');
    await dir.recordAuthEvent(lockout(old, now + 60_000));
    now += 60_000 + 24 * 3600_000 + 1;
    await dir.recordAuthEvent(lockout(mailboxAccountKey('01JNEW'), now + 60_000));
    const rows = await dir.db.select({ account: loginLockouts.account }).from(loginLockouts);
    expect(rows.map((r) => r.account)).toEqual([mailboxAccountKey('01JNEW')]);
  });
});
