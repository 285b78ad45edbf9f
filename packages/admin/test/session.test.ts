import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SessionStore } from '../src/session.js';
import { Clock } from './helpers.js';

const store = (clock: Clock, maxSessions = 100) =>
  new SessionStore({ secret: randomBytes(32), now: clock.now, maxSessions });

describe('SessionStore', () => {
  it('accepts only its own signature', () => {
    const clock = new Clock();
    const a = store(clock);
    const s = a.create();
    expect(a.get(a.cookieValue(s))?.id).toBe(s.id);
    expect(a.get(`${s.id}.AAAA`)).toBeNull();
    expect(a.get(s.id)).toBeNull();
    expect(a.get(undefined)).toBeNull();
    const other = store(clock);
    expect(other.get(a.cookieValue(s))).toBeNull();
  });

  it('refuses short secrets', () => {
    expect(() => new SessionStore({ secret: Buffer.alloc(16), now: () => new Date() })).toThrow(/32 bytes/);
  });

  it('a flood of anonymous sessions never evicts a signed-in one', () => {
    const clock = new Clock();
    const s = store(clock, 10);
    const signedIn = s.signIn(s.create(), { kind: 'admin', username: 'alice' }, 'full');
    const firstAnon = s.create();
    for (let i = 0; i < 50; i++) s.create();
    expect(s.get(s.cookieValue(signedIn))?.principal).toEqual({ kind: 'admin', username: 'alice' });
    expect(s.get(s.cookieValue(firstAnon))).toBeNull();
    expect(s.size).toBeLessThanOrEqual(11);
  });

  it('signing in replaces the session: new id, new CSRF token, old one gone', () => {
    const clock = new Clock();
    const s = store(clock);
    const anon = s.create();
    const admin = s.signIn(anon, { kind: 'admin', username: 'alice' }, 'full');
    expect(admin.id).not.toBe(anon.id);
    expect(admin.csrf).not.toBe(anon.csrf);
    expect(s.get(s.cookieValue(anon))).toBeNull();
    expect(s.destroyWhere((x) => x.principal?.kind === 'admin')).toBe(1);
    expect(s.get(s.cookieValue(admin))).toBeNull();
  });
});
