import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSaslSession, type SaslServerOptions } from '../src/server.js';
import type { SaslStep } from '../src/types.js';
import { MemoryCredentialStore } from './memory-store.js';

const store = new MemoryCredentialStore([
  { login: 'tim', password: 'tanstaaftanstaaf' },
  { login: 'nocram@example.com', password: 'secret pass', cram: false },
]);

/** random and clock that reproduce RFC 2195's `<1896.697170952@postoffice.reston.mci.net>`. */
const rfcOptions: SaslServerOptions = {
  store,
  hostname: 'postoffice.reston.mci.net',
  random: (n) => {
    const b = Buffer.alloc(n);
    b.writeBigUInt64BE(1896n, n - 8);
    return b;
  },
  now: () => new Date(697170952 * 1000),
};

function challenge(step: SaslStep): string {
  if (step.kind !== 'challenge') throw new Error(`expected a challenge, got ${step.kind}`);
  return step.data.toString();
}

async function answer(user: string, secret: string, opts: Partial<SaslServerOptions> = {}) {
  const s = createSaslSession('CRAM-MD5', { store, hostname: 'mx.example.com', ...opts });
  const c = challenge(await s.start(undefined));
  const digest = createHmac('md5', secret).update(c).digest('hex');
  return s.next(Buffer.from(`${user} ${digest}`));
}

describe('CRAM-MD5', () => {
  it('reproduces the RFC 2195 example', async () => {
    const s = createSaslSession('CRAM-MD5', rfcOptions);
    expect(s.mechanism).toBe('CRAM-MD5');
    expect(challenge(await s.start(undefined))).toBe('<1896.697170952@postoffice.reston.mci.net>');
    const step = await s.next(Buffer.from('tim b913a602c7eda7a495b4e6e7334d3890'));
    expect(step).toEqual({ kind: 'success', user: { id: 'id-tim', address: 'tim' } });
  });

  it('tolerates an upper-case digest', async () => {
    const s = createSaslSession('CRAM-MD5', rfcOptions);
    await s.start(undefined);
    expect((await s.next(Buffer.from('tim B913A602C7EDA7A495B4E6E7334D3890'))).kind).toBe('success');
  });

  it('issues a fresh challenge each time', async () => {
    const a = challenge(
      await createSaslSession('CRAM-MD5', { store, hostname: 'h.example' }).start(undefined),
    );
    const b = challenge(
      await createSaslSession('CRAM-MD5', { store, hostname: 'h.example' }).start(undefined),
    );
    expect(a).toMatch(/^<\d+\.\d+@h\.example>$/);
    expect(a).not.toBe(b);
  });

  it('fails a wrong secret, an unknown user and a user without a CRAM secret', async () => {
    expect(await answer('tim', 'wrong')).toEqual({ kind: 'failure', reason: 'credentials', login: 'tim' });
    expect(await answer('nobody', 'tanstaaftanstaaf')).toEqual({
      kind: 'failure',
      reason: 'credentials',
      login: 'nobody',
    });
    expect(await answer('nocram@example.com', 'secret pass')).toEqual({
      kind: 'failure',
      reason: 'credentials',
      login: 'nocram@example.com',
    });
  });

  it('fails a reply to a different challenge', async () => {
    const s = createSaslSession('CRAM-MD5', { ...rfcOptions, now: () => new Date(697170953 * 1000) });
    await s.start(undefined);
    expect((await s.next(Buffer.from('tim b913a602c7eda7a495b4e6e7334d3890'))).kind).toBe('failure');
  });

  it('refuses an initial response', async () => {
    const s = createSaslSession('CRAM-MD5', rfcOptions);
    expect(await s.start(Buffer.from('tim b913a602c7eda7a495b4e6e7334d3890'))).toEqual({
      kind: 'failure',
      reason: 'malformed',
    });
  });

  it.each([
    ['no space', 'timb913a602c7eda7a495b4e6e7334d3890'],
    ['empty user', ' b913a602c7eda7a495b4e6e7334d3890'],
    ['short digest', 'tim b913a602c7eda7a495b4e6e7334d389'],
    ['non-hex digest', 'tim z913a602c7eda7a495b4e6e7334d3890'],
    ['trailing space', 'tim b913a602c7eda7a495b4e6e7334d3890 '],
    ['empty', ''],
  ])('fails a malformed response: %s', async (_name, reply) => {
    const s = createSaslSession('CRAM-MD5', rfcOptions);
    await s.start(undefined);
    expect(await s.next(Buffer.from(reply))).toEqual({ kind: 'failure', reason: 'malformed' });
  });

  it('refuses next() before start() and after the end', async () => {
    const s = createSaslSession('CRAM-MD5', rfcOptions);
    expect((await s.next(Buffer.from('tim b913a602c7eda7a495b4e6e7334d3890'))).kind).toBe('failure');
    const t = createSaslSession('CRAM-MD5', rfcOptions);
    await t.start(undefined);
    await t.next(Buffer.from('tim b913a602c7eda7a495b4e6e7334d3890'));
    expect((await t.next(Buffer.from('tim b913a602c7eda7a495b4e6e7334d3890'))).kind).toBe('failure');
  });
});
