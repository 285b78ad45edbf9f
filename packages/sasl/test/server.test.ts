import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LoginRateLimiter } from '../src/rate-limit.js';
import {
  createSaslSession,
  MECHANISMS,
  parseMechanismName,
  type SaslServerOptions,
  supportedMechanisms,
} from '../src/server.js';
import type { SaslMechanismName, SaslSession, SaslStep } from '../src/types.js';
import { MemoryCredentialStore } from './memory-store.js';
import { scramClientFinal } from './scram-client.js';

const PASSWORD = 'correct horse';
const store = new MemoryCredentialStore([{ login: 'alice@example.com', password: PASSWORD }]);

/** Runs an honest client of `mechanism` for `login` with `password` to the end. */
async function authenticate(s: SaslSession, login: string, password: string): Promise<SaslStep> {
  switch (s.mechanism) {
    case 'PLAIN':
      return s.start(Buffer.from(`\0${login}\0${password}`));
    case 'LOGIN': {
      const step = await s.start(Buffer.from(login));
      return step.kind === 'challenge' ? s.next(Buffer.from(password)) : step;
    }
    case 'CRAM-MD5': {
      const step = await s.start(undefined);
      if (step.kind !== 'challenge') return step;
      return s.next(Buffer.from(`${login} ${createHmac('md5', password).update(step.data).digest('hex')}`));
    }
    case 'SCRAM-SHA-256': {
      const bare = `n=${login},r=clientnonce`;
      const step = await s.start(Buffer.from(`n,,${bare}`));
      if (step.kind !== 'challenge') return step;
      const final = scramClientFinal({ password, clientFirstBare: bare, serverFirst: step.data.toString() });
      return s.next(Buffer.from(final.message));
    }
  }
}

const opts = (extra: Partial<SaslServerOptions> = {}): SaslServerOptions => ({
  store,
  hostname: 'mx.example.com',
  ...extra,
});

describe('createSaslSession', () => {
  it.each(MECHANISMS)('%s: the right password succeeds', async (m) => {
    const step = await authenticate(createSaslSession(m, opts()), 'alice@example.com', PASSWORD);
    expect(step.kind).toBe('success');
    expect(step.kind === 'success' && step.user.address).toBe('alice@example.com');
  });

  it.each(MECHANISMS)('%s: a wrong password fails', async (m) => {
    const step = await authenticate(createSaslSession(m, opts()), 'alice@example.com', 'battery staple');
    expect(step).toEqual({ kind: 'failure', reason: 'credentials', login: 'alice@example.com' });
  });

  it.each(MECHANISMS)('%s: an unknown user fails the same way', async (m) => {
    const step = await authenticate(createSaslSession(m, opts()), 'nobody@example.com', PASSWORD);
    expect(step).toEqual({ kind: 'failure', reason: 'credentials', login: 'nobody@example.com' });
  });

  it('throws only for a name outside the type', () => {
    expect(() => createSaslSession('GSSAPI' as SaslMechanismName, opts())).toThrow(/unknown SASL mechanism/);
  });

  it.each(MECHANISMS)('%s: rate limiting refuses before any lookup and records outcomes', async (m) => {
    let t = 0;
    const limiter = new LoginRateLimiter({
      maxPerAddress: 10,
      maxPerAccount: 2,
      windowMs: 1000,
      now: () => t,
    });
    const counting = new MemoryCredentialStore([{ login: 'alice@example.com', password: PASSWORD }]);
    const o = opts({ store: counting, rateLimit: { limiter, address: '192.0.2.1' } });
    // One typo, then success: the typo is forgiven.
    expect((await authenticate(createSaslSession(m, o), 'alice@example.com', 'typo')).kind).toBe('failure');
    expect((await authenticate(createSaslSession(m, o), 'alice@example.com', PASSWORD)).kind).toBe('success');
    expect(limiter.check('192.0.2.1', 'alice@example.com')).toEqual({ allowed: true });
    // Two failures lock the account.
    await authenticate(createSaslSession(m, o), 'alice@example.com', 'guess1');
    await authenticate(createSaslSession(m, o), 'Alice@example.com', 'guess2');
    const calls = counting.calls.length;
    const refused = await authenticate(createSaslSession(m, o), 'alice@example.com', PASSWORD);
    expect(refused).toEqual({
      kind: 'failure',
      reason: 'credentials',
      login: 'alice@example.com',
      retryAfterMs: 1000,
    });
    expect(counting.calls.length).toBe(calls);
    t = 1000;
    expect((await authenticate(createSaslSession(m, o), 'alice@example.com', PASSWORD)).kind).toBe('success');
  });

  it('does not count malformed exchanges as failed logins', async () => {
    const limiter = new LoginRateLimiter({ maxPerAddress: 1, maxPerAccount: 1 });
    const o = opts({ rateLimit: { limiter, address: '192.0.2.1' } });
    await createSaslSession('PLAIN', o).start(Buffer.from('garbage'));
    await createSaslSession('SCRAM-SHA-256', o).start(Buffer.from('p=tls-unique,,n=alice@example.com,r=x'));
    expect(limiter.check('192.0.2.1', 'alice@example.com')).toEqual({ allowed: true });
  });
});

describe('supportedMechanisms', () => {
  it('lists the strongest first and honours the switches', () => {
    expect(supportedMechanisms({ cramMd5: true, scram: true })).toEqual([
      'SCRAM-SHA-256',
      'CRAM-MD5',
      'PLAIN',
      'LOGIN',
    ]);
    expect(supportedMechanisms({ cramMd5: false, scram: true })).toEqual(['SCRAM-SHA-256', 'PLAIN', 'LOGIN']);
    expect(supportedMechanisms({ cramMd5: true, scram: false })).toEqual(['CRAM-MD5', 'PLAIN', 'LOGIN']);
    expect(supportedMechanisms({ cramMd5: false, scram: false })).toEqual(['PLAIN', 'LOGIN']);
  });
});

describe('parseMechanismName', () => {
  it('matches case-insensitively and refuses unknown names', () => {
    expect(parseMechanismName('plain')).toBe('PLAIN');
    expect(parseMechanismName('Scram-Sha-256')).toBe('SCRAM-SHA-256');
    expect(parseMechanismName('SCRAM-SHA-256-PLUS')).toBeNull();
    expect(parseMechanismName('GSSAPI')).toBeNull();
    expect(parseMechanismName('')).toBeNull();
  });
});
