import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LoginRateLimiter } from '../src/rate-limit.js';
import { createSaslSession, MECHANISMS } from '../src/server.js';
import { MemoryCredentialStore } from './memory-store.js';

const store = new MemoryCredentialStore([
  { login: 'user', password: 'pencil', iterations: 4096 },
  { login: 'alice@example.com', password: 'correct horse' },
]);

/** Arbitrary client messages: random bytes, and near-misses built from the mechanisms' syntax. */
const message = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc
    .array(
      fc.constantFrom(
        'n',
        'y',
        'p=',
        ',',
        '\0',
        '=',
        '=2C',
        '=3D',
        'a=',
        'n=',
        'r=',
        'c=',
        'p=',
        's=',
        'm=',
        'biws',
        'user',
        'alice@example.com',
        'pencil',
        ' ',
        '0123456789abcdef0123456789abcdef',
        '\u00e9',
        '\u0007',
        '\uFFFF',
      ),
      { maxLength: 20 },
    )
    .map((parts) => Buffer.from(parts.join(''))),
  fc.constant(Buffer.alloc(20_000, 0x41)),
);

const rfcStore = new MemoryCredentialStore([
  {
    login: 'user',
    password: 'pencil',
    salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
    iterations: 4096,
  },
]);

describe('fuzz: random client input never throws', () => {
  it.each(MECHANISMS)('%s', async (mechanism) => {
    const limiter = new LoginRateLimiter();
    await fc.assert(
      fc.asyncProperty(
        fc.option(message, { nil: undefined }),
        fc.array(message, { maxLength: 4 }),
        async (ir, rest) => {
          const s = createSaslSession(mechanism, {
            store,
            hostname: 'mx.example.com',
            rateLimit: { limiter, address: '192.0.2.1' },
          });
          const steps = [await s.start(ir)];
          for (const r of rest) steps.push(await s.next(r));
          for (const step of steps) {
            expect(['challenge', 'success', 'failure']).toContain(step.kind);
            // Random input never authenticates.
            expect(step.kind).not.toBe('success');
          }
          // Once a step failed, the session stays failed.
          const firstFailure = steps.findIndex((x) => x.kind === 'failure');
          if (firstFailure >= 0)
            expect(steps.slice(firstFailure).every((x) => x.kind === 'failure')).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('SCRAM-SHA-256: random and mutated client-final messages after a valid client-first', async () => {
    const good =
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
    const mutated = fc
      .tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 }))
      .map(([i, b]) => {
        const buf = Buffer.from(good);
        buf[i] = b;
        return buf;
      })
      .filter((buf) => !buf.equals(Buffer.from(good)));
    await fc.assert(
      fc.asyncProperty(fc.oneof(message, mutated), async (final) => {
        const s = createSaslSession('SCRAM-SHA-256', {
          store: rfcStore,
          hostname: 'mx.example.com',
          random: () => Buffer.from('%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0'),
        });
        expect((await s.start(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'))).kind).toBe('challenge');
        expect((await s.next(final)).kind).toBe('failure');
      }),
      { numRuns: 500 },
    );
  });

  it('CRAM-MD5: random responses to a real challenge', async () => {
    await fc.assert(
      fc.asyncProperty(message, async (response) => {
        const s = createSaslSession('CRAM-MD5', { store, hostname: 'mx.example.com' });
        expect((await s.start(undefined)).kind).toBe('challenge');
        expect((await s.next(response)).kind).toBe('failure');
      }),
      { numRuns: 300 },
    );
  });
});
