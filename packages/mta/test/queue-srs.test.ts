/** Sender Rewriting Scheme (libsrs2 format): forward, reverse, tampering, age, SRS1, property round trip. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSrsAddress, srsForward, srsReverse } from '../src/srs.js';

const secret = Buffer.from('a secret only we know');
const now = new Date('2030-01-07T08:00:00Z');
const DAY = 86_400_000;

describe('SRS', () => {
  it('rewrites into SRS0 at our domain and back', () => {
    const srs = srsForward('alice@origin.example', { secret, domain: 'fwd.example', now });
    expect(srs).toMatch(/^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=origin\.example=alice@fwd\.example$/);
    expect(isSrsAddress(srs)).toBe(true);
    expect(srsReverse(srs, { secret, now })).toBe('alice@origin.example');
    // Local parts are case-insensitive in practice: a lowercased address still reverses.
    expect(srsReverse(srs.toLowerCase(), { secret, now })).toBe('alice@origin.example');
  });

  it('keeps the null sender, our own addresses and unqualified names', () => {
    expect(srsForward('', { secret, domain: 'fwd.example', now })).toBe('');
    expect(srsForward('bob@FWD.example', { secret, domain: 'fwd.example', now })).toBe('bob@FWD.example');
    expect(srsForward('postmaster', { secret, domain: 'fwd.example', now })).toBe('postmaster');
  });

  it('refuses a wrong hash, another secret, or an address too old or from the future', () => {
    const srs = srsForward('alice@origin.example', { secret, domain: 'fwd.example', now });
    const [, hash = ''] = /^SRS0=([^=]+)=/.exec(srs) ?? [];
    const other = hash[0]?.toUpperCase() === 'A' ? 'B' : 'A';
    expect(srsReverse(srs.replace(`=${hash}=`, `=${other}${hash.slice(1)}=`), { secret, now })).toBeNull();
    expect(srsReverse(srs.replace('alice', 'mallory'), { secret, now })).toBeNull();
    expect(srsReverse(srs, { secret: Buffer.from('other'), now })).toBeNull();
    // Rotation: the old secret is still accepted as a second one.
    expect(srsReverse(srs, { secret: [Buffer.from('new'), secret], now })).toBe('alice@origin.example');
    expect(srsReverse(srs, { secret, now: new Date(now.getTime() + 21 * DAY) })).toBe('alice@origin.example');
    expect(srsReverse(srs, { secret, now: new Date(now.getTime() + 22 * DAY) })).toBeNull();
    expect(srsReverse(srs, { secret, maxAgeDays: 2, now: new Date(now.getTime() + 3 * DAY) })).toBeNull();
    expect(srsReverse(srs, { secret, now: new Date(now.getTime() - 2 * DAY) })).toBeNull();
    expect(srsReverse('alice@origin.example', { secret, now })).toBeNull();
    expect(isSrsAddress('alice@origin.example')).toBe(false);
  });

  it('a forward of a forward becomes SRS1, which reverses to the first forwarder', () => {
    const first = srsForward('alice@origin.example', { secret: 'first secret', domain: 'one.example', now });
    const second = srsForward(first, { secret, domain: 'two.example', now });
    expect(second).toMatch(
      /^SRS1=[^=]{4}=one\.example==[^=]{4}=[A-Z2-7]{2}=origin\.example=alice@two\.example$/,
    );
    expect(srsReverse(second, { secret, now })).toBe(first);
    // A third hop keeps the first forwarder.
    const third = srsForward(second, { secret: 'third', domain: 'three.example', now });
    expect(third).toMatch(/^SRS1=[^=]{4}=one\.example==.*@three\.example$/);
    expect(srsReverse(third, { secret: 'third', now })).toBe(first);
    expect(srsReverse(first, { secret: 'first secret', now })).toBe('alice@origin.example');
  });

  it('round-trips any address (property)', () => {
    const local = fc.stringMatching(/^[A-Za-z0-9._%+=-]{1,40}$/);
    const domain = fc.stringMatching(/^[a-z0-9-]{1,20}(\.[a-z0-9-]{1,10}){1,3}$/);
    fc.assert(
      fc.property(local, domain, fc.integer({ min: 0, max: 20_000 }), (l, d, day) => {
        fc.pre(!/^SRS[01][=+-]/i.test(l) && d !== 'fwd.example');
        const at = new Date(day * DAY + 3_600_000);
        const srs = srsForward(`${l}@${d}`, { secret, domain: 'fwd.example', now: at });
        expect(srsReverse(srs, { secret, now: at })).toBe(`${l}@${d}`);
      }),
    );
  });
});
