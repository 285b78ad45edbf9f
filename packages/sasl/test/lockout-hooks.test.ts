/**
 * The limiter's `onAccountLocked` (called once, when a failure starts an account's lockout) and the
 * account budget's `lockedElsewhere` (a lockout recorded by another region answers like a wrong password).
 */
import { describe, expect, it } from 'vitest';
import { accountBudget, type CredentialStore, LoginRateLimiter } from '../src/index.js';

describe('lockout hooks', () => {
  it('onAccountLocked fires once per lockout, with the client and the wait', () => {
    let now = 1_000_000;
    const calls: Array<[string, string, number]> = [];
    const limiter = new LoginRateLimiter({
      maxPerAccount: 3,
      windowMs: 60_000,
      now: () => now,
      onAccountLocked: (account, address, wait) => calls.push([account, address, wait]),
    });
    limiter.bind('Ada@Example.org', 'mailbox:01j');
    for (let i = 0; i < 2; i++) limiter.fail('192.0.2.1', 'ada@example.org');
    expect(calls).toEqual([]);
    now += 1000;
    limiter.fail('192.0.2.2', 'ada@example.org');
    expect(calls).toEqual([['mailbox:01j', '192.0.2.2', 59_000]]);
    // Further failures while locked start nothing new.
    limiter.fail('192.0.2.3', 'ada@example.org');
    expect(calls).toHaveLength(1);
    // After the window, a new lockout is a new call.
    now += 120_000;
    for (let i = 0; i < 3; i++) limiter.fail('192.0.2.1', 'ada@example.org');
    expect(calls).toHaveLength(2);
    // Unknown names (no account) never call it: their key is the name itself, not an account.
    for (let i = 0; i < 3; i++) limiter.fail('192.0.2.9', '');
    expect(calls).toHaveLength(2);
  });

  it('lockedElsewhere: the right password fails while another region holds the lockout', async () => {
    const store: CredentialStore = {
      verifyPassword: async (login, password) =>
        password === 'right' ? { id: '01j', address: login } : null,
      cramSecret: async () => null,
      scramKeys: async () => null,
    };
    let elsewhere = true;
    const guarded = accountBudget(
      store,
      { accountOf: async () => 'mailbox:01j', lockedElsewhere: async () => elsewhere },
      new LoginRateLimiter(),
    );
    expect(await guarded.verifyPassword('ada@example.org', 'right')).toBeNull();
    elsewhere = false;
    expect(await guarded.verifyPassword('ada@example.org', 'right')).toEqual({
      id: '01j',
      address: 'ada@example.org',
    });
  });
});
