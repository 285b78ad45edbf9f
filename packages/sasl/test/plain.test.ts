import { describe, expect, it } from 'vitest';
import { parsePlain } from '../src/mechanisms/plain.js';
import { createSaslSession } from '../src/server.js';
import { MemoryCredentialStore } from './memory-store.js';

const store = new MemoryCredentialStore([
  { login: 'alice@example.com', password: 'correct horse', address: 'alice@example.com' },
  { login: 'alias@example.com', password: 'alias pass', address: 'Real@Example.com' },
  { login: 'bob@example.com', password: 'disabled', disabled: true },
]);

const session = () => createSaslSession('PLAIN', { store, hostname: 'mx.example.com' });
const msg = (authzid: string, authcid: string, passwd: string) =>
  Buffer.from(`${authzid}\0${authcid}\0${passwd}`);

describe('PLAIN', () => {
  it('authenticates with an initial response and no authzid', async () => {
    const s = session();
    expect(s.mechanism).toBe('PLAIN');
    const step = await s.start(msg('', 'alice@example.com', 'correct horse'));
    expect(step).toEqual({
      kind: 'success',
      user: { id: 'id-alice@example.com', address: 'alice@example.com' },
    });
  });

  it('sends an empty challenge without an initial response', async () => {
    const s = session();
    expect(await s.start(undefined)).toEqual({ kind: 'challenge', data: Buffer.alloc(0) });
    expect((await s.next(msg('', 'alice@example.com', 'correct horse'))).kind).toBe('success');
  });

  it('accepts an authzid equal to the authcid (any case) or to the official address', async () => {
    expect((await session().start(msg('alice@example.com', 'alice@example.com', 'correct horse'))).kind).toBe(
      'success',
    );
    expect((await session().start(msg('ALICE@example.com', 'alice@example.com', 'correct horse'))).kind).toBe(
      'success',
    );
    expect((await session().start(msg('real@example.com', 'alias@example.com', 'alias pass'))).kind).toBe(
      'success',
    );
  });

  it('fails an authzid naming someone else, even with the right password', async () => {
    const step = await session().start(msg('bob@example.com', 'alice@example.com', 'correct horse'));
    expect(step).toEqual({ kind: 'failure', reason: 'credentials', login: 'alice@example.com' });
  });

  it('fails a wrong password, an unknown user and a disabled account alike', async () => {
    for (const [user, pw] of [
      ['alice@example.com', 'wrong'],
      ['nobody@example.com', 'correct horse'],
      ['bob@example.com', 'disabled'],
    ] as const) {
      expect(await session().start(msg('', user, pw))).toEqual({
        kind: 'failure',
        reason: 'credentials',
        login: user,
      });
    }
  });

  const malformedInputs: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['no NUL', Buffer.from('alice@example.com correct horse')],
    ['one NUL', Buffer.from('alice@example.com\0correct horse')],
    ['three NULs', msg('', 'alice@example.com', 'correct\0horse')],
    ['empty authcid', msg('', '', 'correct horse')],
    ['empty password', msg('', 'alice@example.com', '')],
    ['control character in authcid', msg('', 'alice\r\n@example.com', 'correct horse')],
    ['invalid UTF-8', Buffer.concat([Buffer.from('\0alice\0'), Buffer.from([0xff, 0xfe])])],
    ['oversized', msg('', 'alice@example.com', 'x'.repeat(9000))],
    ['oversized authcid', msg('', 'a'.repeat(1025), 'pw')],
  ];
  it.each(malformedInputs)('fails malformed input: %s', async (_name, input) => {
    expect(await session().start(input)).toEqual({ kind: 'failure', reason: 'malformed' });
    const s = session();
    await s.start(undefined);
    expect(await s.next(input)).toEqual({ kind: 'failure', reason: 'malformed' });
  });

  it('does not look anything up for malformed input', async () => {
    const counting = new MemoryCredentialStore();
    await createSaslSession('PLAIN', { store: counting, hostname: 'h' }).start(Buffer.from('junk'));
    expect(counting.calls).toEqual([]);
  });

  it('refuses further steps once finished', async () => {
    const s = session();
    await s.start(msg('', 'alice@example.com', 'correct horse'));
    expect((await s.next(msg('', 'alice@example.com', 'correct horse'))).kind).toBe('failure');
    expect((await s.start(undefined)).kind).toBe('failure');
  });

  it('parses the three fields', () => {
    expect(parsePlain(msg('z', 'c', 'p w'))).toEqual({ authzid: 'z', authcid: 'c', passwd: 'p w' });
    expect(parsePlain(Buffer.from('\0c\0p\u00e9'))).toEqual({ authzid: '', authcid: 'c', passwd: 'p\u00e9' });
  });
});
