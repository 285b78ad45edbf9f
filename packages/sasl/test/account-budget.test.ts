/**
 * One budget per account: the limiter's name bindings and the `accountBudget` store wrapper, with every
 * mechanism through real SASL sessions (an alias and the official address share the account's budget).
 */

import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accountBudget } from '../src/account-budget.js';
import { LoginRateLimiter } from '../src/rate-limit.js';
import { createSaslSession } from '../src/server.js';
import type { SaslMechanismName, SaslStep } from '../src/types.js';
import { MemoryCredentialStore } from './memory-store.js';
import { scramClientFinal } from './scram-client.js';

const PASSWORD = 'correct horse';
const NAMES = ['rose.pinkcheeks@iat.example', 'r.pinkcheeks@iat.example', 'pinkcheeks@iat.example'];

function setup() {
  let now = 1_000_000;
  const limiter = new LoginRateLimiter({ now: () => now });
  const base = new MemoryCredentialStore(NAMES.map((login) => ({ login, password: PASSWORD })));
  const store = accountBudget(
    base,
    { accountOf: async (login) => (NAMES.includes(login.toLowerCase()) ? 'mailbox:rose' : null) },
    limiter,
  );
  return { limiter, store, tick: (ms: number) => (now += ms) };
}

async function attempt(
  s: ReturnType<typeof setup>,
  mechanism: SaslMechanismName,
  login: string,
  password: string,
  address = '192.0.2.1',
): Promise<SaslStep> {
  const session = createSaslSession(mechanism, {
    store: s.store,
    hostname: 'mail.example',
    rateLimit: { limiter: s.limiter, address },
  });
  switch (mechanism) {
    case 'PLAIN':
      return session.start(Buffer.from(`\0${login}\0${password}`));
    case 'CRAM-MD5': {
      const step = await session.start(undefined);
      if (step.kind !== 'challenge') return step;
      const digest = createHmac('md5', password).update(step.data).digest('hex');
      return session.next(Buffer.from(`${login} ${digest}`));
    }
    default: {
      const bare = `n=${login},r=clientnonce`;
      const step = await session.start(Buffer.from(`n,,${bare}`));
      if (step.kind !== 'challenge') return step;
      const final = scramClientFinal({ password, clientFirstBare: bare, serverFirst: step.data.toString() });
      return session.next(Buffer.from(final.message));
    }
  }
}

describe('LoginRateLimiter name bindings', () => {
  it('counts every bound name on the account; unbound names on their own', () => {
    const limiter = new LoginRateLimiter();
    limiter.bind('Rose@iat.example', 'mailbox:1');
    limiter.bind('r@iat.example', 'mailbox:1');
    for (let i = 0; i < 5; i++) limiter.fail(`198.51.100.${i}`, 'rose@iat.example');
    expect(limiter.check('203.0.113.9', 'R@iat.example').allowed).toBe(false);
    expect(limiter.checkAccount('mailbox:1').allowed).toBe(false);
    expect(limiter.check('203.0.113.9', 'nobody@iat.example').allowed).toBe(true);
    expect(limiter.accountOf(' NOBODY@iat.example')).toBe('nobody@iat.example');
  });

  it('keeps at most maxKeys bindings, dropping the least recently bound', () => {
    const limiter = new LoginRateLimiter({ maxKeys: 3 });
    for (let i = 0; i < 5; i++) limiter.bind(`n${i}@x.example`, `mailbox:${i}`);
    expect(limiter.boundNames).toBe(3);
    expect(limiter.accountOf('n0@x.example')).toBe('n0@x.example');
    expect(limiter.accountOf('n4@x.example')).toBe('mailbox:4');
  });
});

describe('accountBudget', () => {
  for (const mechanism of ['PLAIN', 'CRAM-MD5', 'SCRAM-SHA-256'] as const) {
    it(`${mechanism}: five failures on the official address lock every alias, even with the right password`, async () => {
      const s = setup();
      for (let i = 0; i < 5; i++) {
        // From five addresses: the per-address budget never runs out, only the account's.
        const step = await attempt(s, mechanism, NAMES[0] ?? '', 'wrong', `192.0.2.${i}`);
        expect(step).toMatchObject({ kind: 'failure', reason: 'credentials' });
      }
      for (const alias of NAMES.slice(1)) {
        const step = await attempt(s, mechanism, alias, PASSWORD, '203.0.113.7');
        expect(step.kind, alias).toBe('failure');
      }
      s.tick(15 * 60_000 + 1);
      expect((await attempt(s, mechanism, NAMES[2] ?? '', PASSWORD, '203.0.113.7')).kind).toBe('success');
    });
  }

  it('leaves unknown names their own budget (no binding, no lock of anyone else)', async () => {
    const s = setup();
    for (let i = 0; i < 5; i++) await attempt(s, 'PLAIN', 'ghost@iat.example', 'x', `192.0.2.${i}`);
    expect(s.limiter.check('203.0.113.7', 'ghost@iat.example').allowed).toBe(false);
    expect(s.limiter.boundNames).toBe(0);
    expect((await attempt(s, 'PLAIN', NAMES[0] ?? '', PASSWORD, '203.0.113.7')).kind).toBe('success');
  });
});
