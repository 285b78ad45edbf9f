import { describe, expect, it } from 'vitest';
import { decodeSaslname, fakeSalt, parseClientFirst } from '../src/mechanisms/scram-sha-256.js';
import { createSaslSession, type SaslServerOptions } from '../src/server.js';
import type { SaslSession, SaslStep } from '../src/types.js';
import { MemoryCredentialStore, scriptedRandom } from './memory-store.js';
import { scramClientFinal } from './scram-client.js';

const RFC_CLIENT_FIRST = 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO';
const RFC_SERVER_NONCE = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
const RFC_SERVER_FIRST =
  'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const RFC_CLIENT_FINAL =
  'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const RFC_SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

const store = new MemoryCredentialStore([
  {
    login: 'user',
    password: 'pencil',
    salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
    iterations: 4096,
  },
  { login: 'alice@example.com', password: 'correct horse', address: 'Alice@Example.com' },
  { login: 'a,b=c@example.com', password: 'escaped name' },
  { login: 'bob@example.com', password: 'disabled', disabled: true },
]);

function session(extra: Partial<SaslServerOptions> = {}): SaslSession {
  return createSaslSession('SCRAM-SHA-256', { store, hostname: 'mx.example.com', ...extra });
}

function text(step: SaslStep): string {
  if (step.kind !== 'challenge') throw new Error(`expected a challenge, got ${JSON.stringify(step)}`);
  return step.data.toString();
}

/** Runs a full exchange as an honest client, with the given password and client-first message. */
async function exchange(clientFirst: string, password: string, s = session()) {
  const serverFirst = text(await s.start(Buffer.from(clientFirst)));
  const gs2End = clientFirst.indexOf(',', clientFirst.indexOf(',') + 1) + 1;
  const final = scramClientFinal({
    password,
    clientFirstBare: clientFirst.slice(gs2End),
    serverFirst,
    gs2Header: clientFirst.slice(0, gs2End),
  });
  return { serverFirst, step: await s.next(Buffer.from(final.message)), final };
}

describe('SCRAM-SHA-256', () => {
  it('reproduces the RFC 7677 §3 example exchange exactly', async () => {
    const s = session({ random: scriptedRandom(Buffer.from(RFC_SERVER_NONCE)) });
    expect(s.mechanism).toBe('SCRAM-SHA-256');
    const first = await s.start(Buffer.from(RFC_CLIENT_FIRST));
    expect(text(first)).toBe(RFC_SERVER_FIRST);
    const final = await s.next(Buffer.from(RFC_CLIENT_FINAL));
    expect(final.kind).toBe('success');
    if (final.kind !== 'success') return;
    expect(final.user).toEqual({ id: 'id-user', address: 'user' });
    expect(final.final?.toString()).toBe(RFC_SERVER_FINAL);
  });

  it('works without an initial response (empty challenge first)', async () => {
    const s = session({ random: scriptedRandom(Buffer.from(RFC_SERVER_NONCE)) });
    const empty = await s.start(undefined);
    expect(empty).toEqual({ kind: 'challenge', data: Buffer.alloc(0) });
    expect(text(await s.next(Buffer.from(RFC_CLIENT_FIRST)))).toBe(RFC_SERVER_FIRST);
    const final = await s.next(Buffer.from(RFC_CLIENT_FINAL));
    expect(final.kind === 'success' && final.final?.toString()).toBe(RFC_SERVER_FINAL);
  });

  it('authenticates with real random nonces and the server signature checks out', async () => {
    const { serverFirst, step, final } = await exchange('n,,n=alice@example.com,r=abc123', 'correct horse');
    expect(serverFirst).toMatch(/^r=abc123[\x21-\x2b\x2d-\x7e]{30},s=[A-Za-z0-9+/=]+,i=4096$/);
    expect(step.kind).toBe('success');
    expect(step.kind === 'success' && step.final?.toString()).toBe(final.expectedServerFinal);
  });

  it('accepts the y flag (c=eSws) and an authzid naming the user itself', async () => {
    expect((await exchange('y,,n=alice@example.com,r=n1', 'correct horse')).step.kind).toBe('success');
    expect(
      (await exchange('n,a=alice@example.com,n=alice@example.com,r=n2', 'correct horse')).step.kind,
    ).toBe('success');
    expect(
      (await exchange('n,a=ALICE@example.com,n=alice@example.com,r=n3', 'correct horse')).step.kind,
    ).toBe('success');
  });

  it('fails an authzid naming someone else, after the proof', async () => {
    const { step } = await exchange('n,a=user,n=alice@example.com,r=n4', 'correct horse');
    expect(step).toEqual({ kind: 'failure', reason: 'credentials', login: 'alice@example.com' });
  });

  it('decodes =2C and =3D in the user name', async () => {
    expect(decodeSaslname('a=2Cb=3Dc')).toBe('a,b=c');
    expect(decodeSaslname('a=2cb')).toBeNull();
    expect(decodeSaslname('a=b')).toBeNull();
    const { step } = await exchange('n,,n=a=2Cb=3Dc@example.com,r=n5', 'escaped name');
    expect(step.kind).toBe('success');
  });

  it('fails a wrong password', async () => {
    const { step } = await exchange('n,,n=alice@example.com,r=n6', 'wrong horse');
    expect(step).toEqual({ kind: 'failure', reason: 'credentials', login: 'alice@example.com' });
  });

  it('fails an unknown user after a plausible, stable server-first message', async () => {
    const secret = Buffer.alloc(32, 7);
    const a = await exchange('n,,n=nobody@example.com,r=n7', 'whatever', session({ secret }));
    const b = await exchange('n,,n=nobody@example.com,r=n8', 'whatever', session({ secret }));
    const other = await exchange('n,,n=someone@example.com,r=n9', 'whatever', session({ secret }));
    const salt = (sf: string) => /,s=([^,]+),/.exec(sf)?.[1];
    expect(a.serverFirst).toMatch(/^r=n7[\x21-\x2b\x2d-\x7e]{30},s=[A-Za-z0-9+/]{22}==,i=4096$/);
    expect(salt(a.serverFirst)).toBe(salt(b.serverFirst));
    expect(salt(a.serverFirst)).toBe(fakeSalt(secret, 'nobody@example.com').toString('base64'));
    expect(salt(other.serverFirst)).not.toBe(salt(a.serverFirst));
    expect(a.step).toEqual({ kind: 'failure', reason: 'credentials', login: 'nobody@example.com' });
    // A different server secret gives a different fake salt.
    const c = await exchange(
      'n,,n=nobody@example.com,r=n10',
      'whatever',
      session({ secret: Buffer.alloc(32, 8) }),
    );
    expect(salt(c.serverFirst)).not.toBe(salt(a.serverFirst));
  });

  it('fails a disabled account like an unknown one', async () => {
    const { serverFirst, step } = await exchange('n,,n=bob@example.com,r=n11', 'disabled');
    expect(serverFirst).toMatch(/,i=4096$/);
    expect(step).toEqual({ kind: 'failure', reason: 'credentials', login: 'bob@example.com' });
  });

  it('announces the configured fake iteration count', async () => {
    const { serverFirst } = await exchange('n,,n=nobody,r=x', 'pw', session({ fakeScramIterations: 10000 }));
    expect(serverFirst).toMatch(/,i=10000$/);
  });

  const badFirst: [string, string][] = [
    ['channel binding requested', 'p=tls-unique,,n=user,r=abc'],
    ['unknown gs2 flag', 'x,,n=user,r=abc'],
    ['missing gs2 header', 'n=user,r=abc'],
    ['authzid without a=', 'n,user,n=user,r=abc'],
    ['reserved m= extension', 'n,,m=foo,n=user,r=abc'],
    ['missing r=', 'n,,n=user'],
    ['empty nonce', 'n,,n=user,r='],
    ['nonce with a space', 'n,,n=user,r=ab c'],
    ['missing n=', 'n,,r=abc'],
    ['empty user name', 'n,,n=,r=abc'],
    ['bad escape in user name', 'n,,n=us=er,r=abc'],
    ['control character in user name', 'n,,n=us\u0001er,r=abc'],
    ['prohibited character in user name', 'n,,n=us\u200Eer,r=abc'],
    ['bad extension', 'n,,n=user,r=abc,garbage'],
    ['NUL', 'n,,n=user,r=abc\0'],
    ['empty', ''],
  ];
  it.each(badFirst)('fails a malformed client-first message: %s', async (_name, msg) => {
    const s = session();
    const step = await s.start(Buffer.from(msg));
    expect(step.kind).toBe('failure');
    expect(step.kind === 'failure' && step.reason).toBe('malformed');
    expect((await s.next(Buffer.from('c=biws,r=abc,p=AAAA'))).kind).toBe('failure');
  });

  it('fails invalid UTF-8 and oversized client-first messages', async () => {
    expect((await session().start(Buffer.from([0x6e, 0x2c, 0x2c, 0xff, 0xfe]))).kind).toBe('failure');
    expect((await session().start(Buffer.from(`n,,n=user,r=${'a'.repeat(10_000)}`))).kind).toBe('failure');
  });

  const badFinal: [string, (nonce: string, good: string) => string | Buffer][] = [
    ['wrong nonce', (n, g) => g.replace(`r=${n}`, `r=${n}x`)],
    ['client nonce only', (n, g) => g.replace(`r=${n}`, 'r=rOprNGfwEbeRWgbNEkqO')],
    ['missing r=', (n, g) => g.replace(`r=${n},`, '')],
    ['bad base64 proof', (_n, g) => g.replace(/p=.*$/, 'p=not*base64!')],
    ['non-canonical base64 proof', (_n, g) => g.replace('AndVQ=', 'AndVR=')],
    ['unpadded base64 proof', (_n, g) => g.replace('AndVQ=', 'AndVQ')],
    ['truncated proof', (_n, g) => g.replace(/p=.*$/, 'p=dHzbZapWIk4jUhN+Ute9yg==')],
    ['empty proof', (_n, g) => g.replace(/p=.*$/, 'p=')],
    ['missing proof', (_n, g) => g.replace(/,p=.*$/, '')],
    [
      'channel binding data',
      (_n, g) => g.replace('c=biws', `c=${Buffer.from('p=tls-unique,,xyz').toString('base64')}`),
    ],
    ['gs2 header differs (y)', (_n, g) => g.replace('c=biws', 'c=eSws')],
    ['bad base64 channel binding', (_n, g) => g.replace('c=biws', 'c=b$ws')],
    ['attributes out of order', (n, g) => g.replace(`c=biws,r=${n}`, `r=${n},c=biws`)],
    ['proof not last', (_n, g) => `${g},x=1`],
    [
      'not UTF-8 (in an extension)',
      (_n, g) => {
        const at = g.indexOf(',p=');
        return Buffer.concat([
          Buffer.from(`${g.slice(0, at)},x=`),
          Buffer.from([0xc3, 0x28]),
          Buffer.from(g.slice(at)),
        ]);
      },
    ],
  ];
  it.each(badFinal)('fails a malformed client-final message: %s', async (_name, mutate) => {
    const s = session({ random: scriptedRandom(Buffer.from(RFC_SERVER_NONCE)) });
    await s.start(Buffer.from(RFC_CLIENT_FIRST));
    const msg = mutate(`rOprNGfwEbeRWgbNEkqO${RFC_SERVER_NONCE}`, RFC_CLIENT_FINAL);
    const step = await s.next(typeof msg === 'string' ? Buffer.from(msg) : msg);
    expect(step).toEqual({ kind: 'failure', reason: 'malformed', login: 'user' });
  });

  it('fails a proof that decodes but is wrong', async () => {
    const s = session({ random: scriptedRandom(Buffer.from(RFC_SERVER_NONCE)) });
    await s.start(Buffer.from(RFC_CLIENT_FIRST));
    const step = await s.next(Buffer.from(RFC_CLIENT_FINAL.replace('p=dHzb', 'p=dHzc')));
    expect(step).toEqual({ kind: 'failure', reason: 'credentials', login: 'user' });
  });

  it('refuses steps after the exchange is over, and a second start', async () => {
    const s = session({ random: scriptedRandom(Buffer.from(RFC_SERVER_NONCE)) });
    await s.start(Buffer.from(RFC_CLIENT_FIRST));
    expect((await s.next(Buffer.from(RFC_CLIENT_FINAL))).kind).toBe('success');
    expect((await s.next(Buffer.from(RFC_CLIENT_FINAL))).kind).toBe('failure');
    expect((await s.start(Buffer.from(RFC_CLIENT_FIRST))).kind).toBe('failure');
  });

  it('parses the client-first message into its parts', () => {
    expect(parseClientFirst(Buffer.from('y,a=u,n=u,r=xyz,e=ext'))).toEqual({
      gs2Header: 'y,a=u,',
      authzid: 'u',
      login: 'u',
      clientNonce: 'xyz',
      clientFirstBare: 'n=u,r=xyz,e=ext',
    });
  });
});
