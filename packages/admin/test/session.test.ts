import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionStore } from '../src/session.js';
import { AdminStateDb } from '../src/state.js';
import { Clock } from './helpers.js';

const store = (clock: Clock, maxSessions = 100) =>
  new SessionStore({ secret: randomBytes(32), now: clock.now, maxSessions });

describe('SessionStore', () => {
  it('accepts only its own signature', async () => {
    const clock = new Clock();
    const a = store(clock);
    const s = a.create();
    expect((await a.get(a.cookieValue(s)))?.id).toBe(s.id);
    expect(await a.get(`${s.id}.AAAA`)).toBeNull();
    expect(await a.get(s.id)).toBeNull();
    expect(await a.get(undefined)).toBeNull();
    const other = store(clock);
    expect(await other.get(a.cookieValue(s))).toBeNull();
  });

  it('refuses short secrets', () => {
    expect(() => new SessionStore({ secret: Buffer.alloc(16), now: () => new Date() })).toThrow(/32 bytes/);
  });

  it('a flood of anonymous sessions never evicts a signed-in one', async () => {
    const clock = new Clock();
    const s = store(clock, 10);
    const signedIn = await s.signIn(s.create(), { kind: 'admin', username: 'alice' }, 'full');
    const firstAnon = s.create();
    for (let i = 0; i < 50; i++) s.create();
    expect((await s.get(s.cookieValue(signedIn)))?.principal).toEqual({ kind: 'admin', username: 'alice' });
    expect(await s.get(s.cookieValue(firstAnon))).toBeNull();
    expect(s.size).toBeLessThanOrEqual(11);
  });

  it('signing in replaces the session: new id, new CSRF token, old one gone', async () => {
    const clock = new Clock();
    const s = store(clock);
    const anon = s.create();
    const admin = await s.signIn(anon, { kind: 'admin', username: 'alice' }, 'full');
    expect(admin.id).not.toBe(anon.id);
    expect(admin.csrf).not.toBe(anon.csrf);
    expect(await s.get(s.cookieValue(anon))).toBeNull();
    const other = await s.signIn(null, { kind: 'admin', username: 'bob' }, 'full');
    expect(await s.destroyOwner({ kind: 'admin', username: 'alice' })).toBe(1);
    expect(await s.get(s.cookieValue(admin))).toBeNull();
    expect((await s.get(s.cookieValue(other)))?.principal).toEqual({ kind: 'admin', username: 'bob' });
  });

  it('keeps signed-in sessions in a libSQL file: only digests, timeouts enforced after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'delegato-state-'));
    const file = join(dir, 'admin-state.db');
    const secret = randomBytes(32);
    const clock = new Clock();
    try {
      const first = new SessionStore({ secret, now: clock.now, db: AdminStateDb.open(file) });
      const alice = await first.signIn(null, { kind: 'admin', username: 'alice' }, 'full');
      const rose = await first.signIn(
        null,
        { kind: 'mailbox', address: 'rose@a.example', mailboxId: 'M1' },
        'full',
      );
      const idle = await first.signIn(null, { kind: 'admin', username: 'idle' }, 'full');
      await first.db.close();
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const bytes = readFileSync(file).toString('latin1');
      for (const s of [alice, rose]) {
        expect(bytes).not.toContain(s.id);
        expect(bytes).not.toContain(s.csrf);
      }

      clock.advance(20 * 60_000);
      const second = new SessionStore({ secret, now: clock.now, db: AdminStateDb.open(file) });
      const again = await second.get(first.cookieValue(alice));
      expect(again?.principal).toEqual({ kind: 'admin', username: 'alice' });
      expect(again?.csrf).toBe(alice.csrf);
      expect(again?.createdAt).toBe(alice.createdAt);
      expect((await second.get(first.cookieValue(rose)))?.principal).toMatchObject({ mailboxId: 'M1' });
      // Idle 20 min, then 15 more: over the 30-minute idle timeout, and purged at the next sign-in.
      clock.advance(15 * 60_000);
      expect(await second.get(first.cookieValue(idle))).toBeNull();
      expect((await second.get(first.cookieValue(alice)))?.principal).toMatchObject({ username: 'alice' });
      // The absolute timeout counts from the sign-in, across restarts too.
      for (let i = 0; i < 50; i++) {
        clock.advance(15 * 60_000);
        if (!(await second.get(first.cookieValue(alice)))) break;
      }
      expect(clock.t - alice.createdAt).toBeGreaterThanOrEqual(second.absoluteMs);
      expect(clock.t - alice.createdAt).toBeLessThan(second.absoluteMs + 15 * 60_000);
      await second.signIn(null, { kind: 'admin', username: 'new' }, 'full');
      expect(await second.db.countSessions()).toBe(1);
      await second.db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
