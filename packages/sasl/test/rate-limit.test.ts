import { describe, expect, it } from 'vitest';
import { addressKey, LoginRateLimiter, normalizeAccount } from '../src/rate-limit.js';

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

const MIN = 60_000;

describe('LoginRateLimiter', () => {
  it('has sensible defaults: 10 per address, 5 per account, 15 minutes', () => {
    const c = clock();
    const rl = new LoginRateLimiter({ now: c.now });
    for (let i = 0; i < 4; i++) rl.fail('192.0.2.1', 'alice');
    expect(rl.check('192.0.2.1', 'alice')).toEqual({ allowed: true });
    rl.fail('192.0.2.1', 'alice');
    expect(rl.check('192.0.2.1', 'alice')).toEqual({ allowed: false, retryAfterMs: 15 * MIN });
    for (let i = 0; i < 5; i++) rl.fail('192.0.2.1', `user${i}`);
    expect(rl.check('192.0.2.1', 'carol')).toEqual({ allowed: false, retryAfterMs: 15 * MIN });
    expect(rl.check('192.0.2.2', 'carol')).toEqual({ allowed: true });
  });

  it('limits per address across accounts', () => {
    const c = clock();
    const rl = new LoginRateLimiter({ maxPerAddress: 3, maxPerAccount: 100, windowMs: 10 * MIN, now: c.now });
    rl.fail('198.51.100.7', 'a');
    c.t += MIN;
    rl.fail('198.51.100.7', 'b');
    c.t += MIN;
    expect(rl.check('198.51.100.7', 'c').allowed).toBe(true);
    rl.fail('198.51.100.7', 'c');
    // The first failure leaves the window 10 minutes after it happened: 8 minutes from now.
    expect(rl.check('198.51.100.7', 'd')).toEqual({ allowed: false, retryAfterMs: 8 * MIN });
    expect(rl.check('', '').allowed).toBe(true);
    expect(rl.check('198.51.100.8', 'a').allowed).toBe(true);
  });

  it('limits per account across addresses (distributed guessing)', () => {
    const c = clock();
    const rl = new LoginRateLimiter({ maxPerAddress: 100, maxPerAccount: 3, windowMs: 10 * MIN, now: c.now });
    rl.fail('192.0.2.1', 'Alice@Example.com');
    rl.fail('192.0.2.2', ' alice@example.com');
    rl.fail('192.0.2.3', 'ALICE@EXAMPLE.COM ');
    expect(rl.check('203.0.113.9', 'alice@example.com')).toEqual({ allowed: false, retryAfterMs: 10 * MIN });
    expect(rl.check('203.0.113.9', 'bob@example.com').allowed).toBe(true);
  });

  it('forgets failures once the window has passed', () => {
    const c = clock();
    const rl = new LoginRateLimiter({ maxPerAddress: 2, maxPerAccount: 2, windowMs: 10 * MIN, now: c.now });
    rl.fail('192.0.2.1', 'alice');
    c.t += 5 * MIN;
    rl.fail('192.0.2.1', 'alice');
    expect(rl.check('192.0.2.1', 'alice')).toEqual({ allowed: false, retryAfterMs: 5 * MIN });
    c.t += 5 * MIN - 1;
    expect(rl.check('192.0.2.1', 'alice')).toEqual({ allowed: false, retryAfterMs: 1 });
    c.t += 1;
    expect(rl.check('192.0.2.1', 'alice')).toEqual({ allowed: true });
    c.t += 5 * MIN;
    expect(rl.check('192.0.2.1', 'alice')).toEqual({ allowed: true });
    expect(rl.size).toEqual({ addresses: 0, accounts: 0 });
  });

  it('reports the longer of the two waits', () => {
    const c = clock();
    const rl = new LoginRateLimiter({ maxPerAddress: 2, maxPerAccount: 1, windowMs: 10 * MIN, now: c.now });
    rl.fail('192.0.2.1', 'x');
    c.t += 2 * MIN;
    rl.fail('192.0.2.1', 'alice');
    expect(rl.check('192.0.2.1', 'alice')).toEqual({ allowed: false, retryAfterMs: 10 * MIN });
  });

  it("success forgives that address's failures on that account, and nothing else", () => {
    const c = clock();
    const rl = new LoginRateLimiter({ maxPerAddress: 3, maxPerAccount: 3, windowMs: 10 * MIN, now: c.now });
    rl.fail('192.0.2.1', 'alice');
    rl.fail('192.0.2.1', 'alice');
    rl.fail('192.0.2.9', 'alice'); // someone else, elsewhere
    expect(rl.check('192.0.2.1', 'alice').allowed).toBe(false);
    rl.succeed('192.0.2.1', 'ALICE');
    expect(rl.check('192.0.2.1', 'alice').allowed).toBe(true);
    // The other address's failure still counts against the account.
    rl.fail('192.0.2.2', 'alice');
    rl.fail('192.0.2.3', 'alice');
    expect(rl.check('192.0.2.1', 'alice').allowed).toBe(false);

    // Logging in to an account of one's own does not reset an address's count on other accounts.
    rl.fail('198.51.100.1', 'victim1');
    rl.fail('198.51.100.1', 'victim2');
    rl.fail('198.51.100.1', 'victim3');
    rl.succeed('198.51.100.1', 'mallory');
    expect(rl.check('198.51.100.1', 'mallory').allowed).toBe(false);
  });

  it('counts IPv6 clients per /64 and IPv4-mapped addresses as IPv4', () => {
    const c = clock();
    const rl = new LoginRateLimiter({ maxPerAddress: 2, maxPerAccount: 100, windowMs: MIN, now: c.now });
    rl.fail('2001:db8:1:2::1', 'a');
    rl.fail('2001:db8:1:2:ffff::99', 'b');
    expect(rl.check('2001:0db8:0001:0002:0:0:0:7', 'c').allowed).toBe(false);
    expect(rl.check('2001:db8:1:3::1', 'c').allowed).toBe(true);
    rl.fail('::ffff:192.0.2.5', 'a');
    rl.fail('192.0.2.5', 'b');
    expect(rl.check('192.0.2.5', 'c').allowed).toBe(false);
  });

  it('normalises keys', () => {
    expect(normalizeAccount('  Alice@Example.COM ')).toBe('alice@example.com');
    expect(addressKey(' 192.0.2.1 ')).toBe('192.0.2.1');
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('::ffff:c000:201')).toBe('192.0.2.1');
    expect(addressKey('[2001:DB8::1]')).toBe('2001:db8:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('2001:db8:a:b:c:d:1.2.3.4')).toBe('2001:db8:a:b::/64');
    expect(addressKey('unix-socket')).toBe('unix-socket');
  });

  it('keeps memory bounded: expired keys pruned, at most maxKeys kept, oldest evicted', () => {
    const c = clock();
    const rl = new LoginRateLimiter({
      maxPerAddress: 1,
      maxPerAccount: 1,
      windowMs: 10 * MIN,
      maxKeys: 100,
      now: c.now,
    });
    for (let i = 0; i < 1000; i++) rl.fail(`10.0.${i >> 8}.${i & 255}`, `user${i}`);
    expect(rl.size).toEqual({ addresses: 100, accounts: 100 });
    // The newest are kept, the oldest evicted.
    expect(rl.check('10.0.3.231', 'x').allowed).toBe(false); // i = 999
    expect(rl.check('10.0.0.0', 'x').allowed).toBe(true); // i = 0
    // A failure after the window prunes every expired key.
    c.t += 10 * MIN;
    rl.fail('192.0.2.1', 'alice');
    expect(rl.size).toEqual({ addresses: 1, accounts: 1 });
  });

  it('keeps at most twice the limit of failures per key', () => {
    const c = clock();
    const rl = new LoginRateLimiter({ maxPerAddress: 3, maxPerAccount: 3, windowMs: 10 * MIN, now: c.now });
    for (let i = 0; i < 10_000; i++) {
      rl.fail('192.0.2.1', 'alice');
      c.t += 1;
    }
    expect(rl.check('192.0.2.1', 'alice')).toEqual({ allowed: false, retryAfterMs: 10 * MIN - 3 });
  });

  it('rejects nonsensical options', () => {
    expect(() => new LoginRateLimiter({ maxPerAddress: 0 })).toThrow(RangeError);
    expect(() => new LoginRateLimiter({ windowMs: 1.5 })).toThrow(RangeError);
    expect(() => new LoginRateLimiter({ maxPerAccount: undefined })).not.toThrow();
  });
});
