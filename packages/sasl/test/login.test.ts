import { describe, expect, it } from 'vitest';
import { createSaslSession } from '../src/server.js';
import { MemoryCredentialStore } from './memory-store.js';

const store = new MemoryCredentialStore([{ login: 'alice@example.com', password: 'correct horse' }]);
const session = () => createSaslSession('LOGIN', { store, hostname: 'mx.example.com' });

describe('LOGIN', () => {
  it('asks Username: then Password:', async () => {
    const s = session();
    expect(s.mechanism).toBe('LOGIN');
    expect(await s.start(undefined)).toEqual({ kind: 'challenge', data: Buffer.from('Username:') });
    expect(await s.next(Buffer.from('alice@example.com'))).toEqual({
      kind: 'challenge',
      data: Buffer.from('Password:'),
    });
    expect(await s.next(Buffer.from('correct horse'))).toEqual({
      kind: 'success',
      user: { id: 'id-alice@example.com', address: 'alice@example.com' },
    });
  });

  it('takes the initial response as the username', async () => {
    const s = session();
    expect(await s.start(Buffer.from('alice@example.com'))).toEqual({
      kind: 'challenge',
      data: Buffer.from('Password:'),
    });
    expect((await s.next(Buffer.from('correct horse'))).kind).toBe('success');
  });

  it('fails a wrong password and an unknown user alike, after asking for the password', async () => {
    for (const [user, pw] of [
      ['alice@example.com', 'wrong'],
      ['nobody@example.com', 'correct horse'],
    ] as const) {
      const s = session();
      expect((await s.start(Buffer.from(user))).kind).toBe('challenge');
      expect(await s.next(Buffer.from(pw))).toEqual({ kind: 'failure', reason: 'credentials', login: user });
    }
  });

  it('fails malformed usernames and passwords', async () => {
    for (const bad of [
      Buffer.alloc(0),
      Buffer.from([0xff]),
      Buffer.from('a\0b'),
      Buffer.from('x'.repeat(2000)),
    ]) {
      expect(await session().start(bad)).toEqual({ kind: 'failure', reason: 'malformed' });
      const s = session();
      await s.start(Buffer.from('alice@example.com'));
      if (bad.length < 2000) expect((await s.next(bad)).kind).toBe('failure');
    }
  });

  it('refuses further steps once finished', async () => {
    const s = session();
    await s.start(Buffer.from('alice@example.com'));
    await s.next(Buffer.from('correct horse'));
    expect((await s.next(Buffer.from('correct horse'))).kind).toBe('failure');
  });
});
