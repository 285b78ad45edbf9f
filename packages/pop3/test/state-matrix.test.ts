/**
 * Every command in every state (RFC 1939 §4–7, RFC 2449 §5, RFC 2595 §4, RFC 5034 §4): AUTHORIZATION
 * fresh, AUTHORIZATION after a successful USER, TRANSACTION. Each cell runs on a fresh connection and
 * checks +OK / -ERR. Then the bad-command limit.
 */

import { ALICE } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, Pop3Client, startHarness } from './helpers.js';

type State = 'AUTHORIZATION' | 'AUTHORIZATION after USER' | 'TRANSACTION';
type Outcome = '+OK' | '-ERR';

const PLAIN_IR = Buffer.from(`\0${ALICE.login}\0${ALICE.password}`).toString('base64');

/** command → expected outcome per state. */
const MATRIX: Array<[string, Record<State, Outcome>]> = [
  ['USER alice', { AUTHORIZATION: '+OK', 'AUTHORIZATION after USER': '+OK', TRANSACTION: '-ERR' }],
  [
    `PASS ${ALICE.password}`,
    { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '+OK', TRANSACTION: '-ERR' },
  ],
  ['QUIT', { AUTHORIZATION: '+OK', 'AUTHORIZATION after USER': '+OK', TRANSACTION: '+OK' }],
  ['STAT', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '+OK' }],
  ['LIST', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '+OK' }],
  ['LIST 1', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '+OK' }],
  ['LIST 9', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '-ERR' }],
  ['RETR 1', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '+OK' }],
  ['RETR 0', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '-ERR' }],
  ['RETR', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '-ERR' }],
  ['DELE 1', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '+OK' }],
  ['DELE x', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '-ERR' }],
  ['NOOP', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '+OK' }],
  ['RSET', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '+OK' }],
  ['TOP 1 0', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '+OK' }],
  ['TOP 1', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '-ERR' }],
  ['TOP 1 -1', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '-ERR' }],
  ['UIDL', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '+OK' }],
  ['UIDL 1', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '+OK' }],
  ['CAPA', { AUTHORIZATION: '+OK', 'AUTHORIZATION after USER': '+OK', TRANSACTION: '+OK' }],
  ['STLS', { AUTHORIZATION: '+OK', 'AUTHORIZATION after USER': '+OK', TRANSACTION: '-ERR' }],
  ['AUTH', { AUTHORIZATION: '+OK', 'AUTHORIZATION after USER': '+OK', TRANSACTION: '-ERR' }],
  [
    `AUTH PLAIN ${PLAIN_IR}`,
    { AUTHORIZATION: '+OK', 'AUTHORIZATION after USER': '+OK', TRANSACTION: '-ERR' },
  ],
  // APOP (RFC 1939 §7) is optional and not implemented (not advertised: no timestamp in the greeting).
  [
    'APOP alice c4c9334bac560ecc979e58001b3e22fb',
    {
      AUTHORIZATION: '-ERR',
      'AUTHORIZATION after USER': '-ERR',
      TRANSACTION: '-ERR',
    },
  ],
  ['XYZZ', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '-ERR' }],
  ['', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '-ERR' }],
  ['STATUS', { AUTHORIZATION: '-ERR', 'AUTHORIZATION after USER': '-ERR', TRANSACTION: '-ERR' }],
];

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ backend: 'memory' }); // states, not storage: no files
  await h.deliver(ALICE, 'Subject: matrix\r\n\r\nbody\r\n');
});

afterAll(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

async function inState(state: State): Promise<Pop3Client> {
  const c = await Pop3Client.connect(h.port);
  if (state === 'AUTHORIZATION') return c;
  expect(await c.cmd('USER alice')).toMatch(/^\+OK/);
  if (state === 'TRANSACTION') {
    // The previous cell's session may still hold the lock for a moment after its close.
    for (;;) {
      const r = await c.cmd(`PASS ${ALICE.password}`);
      if (r.startsWith('+OK')) break;
      expect(r).toMatch(/^-ERR \[IN-USE\]/);
      await new Promise((res) => setTimeout(res, 10));
      await c.cmd('USER alice');
    }
  }
  return c;
}

describe('command × state', () => {
  const states: State[] = ['AUTHORIZATION', 'AUTHORIZATION after USER', 'TRANSACTION'];
  for (const [line, expected] of MATRIX) {
    for (const state of states) {
      it(`${JSON.stringify(line)} in ${state} → ${expected[state]}`, async () => {
        const c = await inState(state);
        const reply = await c.cmd(line);
        expect(reply.startsWith(`${expected[state]}`)).toBe(true);
        if (expected[state] === '-ERR') expect(reply).toMatch(/^-ERR \S/);
        c.close();
        await c.raw.waitClosed();
      });
    }
  }
});

describe('keywords are case-insensitive (RFC 1939 §3)', () => {
  it('stat / Stat / sTaT', async () => {
    const c = await inState('TRANSACTION');
    for (const k of ['stat', 'Stat', 'sTaT']) expect(await c.cmd(k)).toMatch(/^\+OK 1 /);
    c.close();
  });
});

describe('too many bad commands', () => {
  it('closes the connection after 10 bad commands', async () => {
    const c = await Pop3Client.connect(h.port);
    for (let i = 1; i < 10; i++) expect(await c.cmd(`BAD${i}`)).toMatch(/^-ERR /);
    // Good commands and user errors in between do not count.
    expect(await c.cmd('CAPA')).toMatch(/^\+OK/);
    await c.body();
    expect(await c.cmd('AUTH GSSAPI')).toBe('-ERR Unsupported authentication mechanism');
    expect(await c.cmd('STAT')).toBe('-ERR Command not valid in this state');
    expect(await c.raw.line()).toBe('-ERR Too many bad commands, closing connection');
    await c.raw.waitClosed();
  });

  it('pipelined garbage is cut off at the limit', async () => {
    const c = await Pop3Client.connect(h.port);
    c.raw.write('x\r\n'.repeat(50));
    for (let i = 0; i < 10; i++) expect(await c.raw.line()).toMatch(/^-ERR /);
    expect(await c.raw.line()).toBe('-ERR Too many bad commands, closing connection');
    await c.raw.waitClosed();
    expect(c.raw.pending).toBe('');
  });
});
