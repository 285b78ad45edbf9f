/**
 * fast-check fuzzing of a live session: random bytes, and random sequences of real and broken commands
 * (before and after login), never crash the server or make it log a problem; after each run a fresh
 * connection still gets the greeting.
 */

import { ALICE, waitFor } from '@delegato/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, Pop3Client, startHarness } from './helpers.js';

let h: Harness;

beforeAll(async () => {
  // Short idle timeout: a run that leaves a session waiting (e.g. mid-AUTH) must not keep it forever.
  h = await startHarness({
    backend: 'memory',
    limits: { idleTimeoutMs: 2_000, tlsHandshakeTimeoutMs: 1_000 },
  });
  for (let i = 0; i < 3; i++) await h.deliver(ALICE, `Subject: ${i}\r\n\r\n.body ${i}\r\n`);
});

afterAll(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

const COMMANDS = [
  'USER alice',
  `PASS ${ALICE.password}`,
  'PASS',
  'STAT',
  'LIST',
  'LIST 1',
  'LIST 99999999999',
  'RETR 1',
  'RETR 2',
  'TOP 1 0',
  'TOP 2 5',
  'DELE 1',
  'RSET',
  'NOOP',
  'UIDL',
  'UIDL 3',
  'CAPA',
  'AUTH',
  'AUTH PLAIN',
  'AUTH LOGIN',
  'AUTH CRAM-MD5',
  'AUTH SCRAM-SHA-256',
  'AUTH SCRAM-SHA-256 bixuPWFsaWNlLHI9eA==',
  '*',
  '=',
  'GET / HTTP/1.1',
  'QUIT',
  'STLS',
];

const line = fc.oneof(
  fc.constantFrom(...COMMANDS),
  fc.string({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
);
const ending = fc.constantFrom('\r\n', '\n', '\r', '', '\r\n\r\n');
const script = fc
  .array(fc.tuple(line, ending), { maxLength: 30 })
  .map((parts) => Buffer.from(parts.map(([l, e]) => l + e).join(''), 'latin1'));
const bytes = fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b));

let loggedIn = 0;

async function run(login: boolean, input: Buffer): Promise<void> {
  const c = await Pop3Client.connect(h.port);
  if (login && (await c.login()).startsWith('+OK Logged in')) loggedIn++;
  c.raw.write(input);
  // Let the server chew on it, then hang up (as hostile clients do).
  await new Promise((r) => setTimeout(r, 15));
  c.close();
  // However the session ended, its maildrop lock is released.
  await waitFor(() => !h.locks.isLocked(ALICE.id));
  const fresh = await Pop3Client.connect(h.port);
  expect(await fresh.cmd('NOOP')).toMatch(/^-ERR /);
  fresh.close();
}

describe('fuzz', () => {
  it('random bytes to a fresh session', async () => {
    await fc.assert(
      fc.asyncProperty(bytes, (input) => run(false, input)),
      { numRuns: 60 },
    );
  });

  it('random command scripts before login', async () => {
    await fc.assert(
      fc.asyncProperty(script, (input) => run(false, input)),
      { numRuns: 60 },
    );
  });

  it('random command scripts and bytes after login', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(script, bytes), (input) => run(true, input)),
      { numRuns: 60 },
    );
    expect(loggedIn).toBe(60);
  });
});
