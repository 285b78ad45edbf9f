/**
 * fast-check: the command reader never throws on any input in any chunking, and reads back any argument
 * tree serialized with atoms, quoted strings and literals; live sessions survive random bytes and random
 * command scripts (before login, after login, in a selected mailbox) without crashing or logging a
 * problem, and a fresh connection still works after each run.
 */

import { ALICE } from '@delegato/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../src/limits.js';
import { CommandReader, type ReaderEvent } from '../src/parser/reader.js';
import type { Arg } from '../src/parser/types.js';
import { FORWARD, NESTED } from './corpus.js';
import { type Harness, ImapClient, message, startHarness } from './helpers.js';

function drainAll(input: Buffer, sizes: number[]): ReaderEvent[] {
  const reader = new CommandReader({
    ...DEFAULT_LIMITS,
    maxLineLength: 1024,
    maxCommandSize: 4096,
    maxLiteralSize: 8192,
  });
  const out: ReaderEvent[] = [];
  let pos = 0;
  let i = 0;
  while (pos < input.length) {
    const n = Math.max(1, sizes[i++ % sizes.length] ?? 1);
    reader.push(input.subarray(pos, pos + n));
    pos += n;
    for (let ev = reader.next(); ev.kind !== 'needs-more'; ev = reader.next()) {
      out.push(ev);
      if (ev.kind === 'error' && ev.fatal) return out;
    }
  }
  return out;
}

const ATOM = /^[A-Za-z0-9$&'+\-./:;<=>?@^_`|~!#\\]+$/;

/** Serializes an argument tree (atoms as is, strings quoted or as non-synchronising literals). */
function serialize(a: Arg): string {
  if (a.kind === 'atom') return a.value;
  if (a.kind === 'list') return `(${a.items.map(serialize).join(' ')})`;
  const s = a.value.toString('latin1');
  if (a.literal) return `{${a.value.length}+}\r\n${s}`;
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

const argArb: fc.Arbitrary<Arg> = fc.letrec<{ arg: Arg }>((tie) => ({
  arg: fc.oneof(
    { depthSize: 'small' },
    fc
      .stringMatching(ATOM)
      .filter((s) => !s.includes('['))
      .map((value): Arg => ({ kind: 'atom', value })),
    fc
      .string({ maxLength: 20 })
      .filter((s) =>
        [...s].every((ch) => ch.charCodeAt(0) > 0 && ch.charCodeAt(0) < 0x80 && ch !== '\r' && ch !== '\n'),
      )
      .map((s): Arg => ({ kind: 'string', value: Buffer.from(s, 'latin1'), literal: false })),
    fc
      .uint8Array({ maxLength: 30 })
      .map((b): Arg => ({ kind: 'string', value: Buffer.from(b), literal: true })),
    fc.array(tie('arg'), { maxLength: 4 }).map((items): Arg => ({ kind: 'list', items })),
  ),
})).arg;

describe('command reader fuzz', () => {
  it('never throws, whatever the bytes and the chunking', () => {
    const bytes = fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b));
    const imapish = fc
      .array(
        fc.oneof(
          fc.constantFrom(
            'a ',
            'LOGIN ',
            '{3}\r\n',
            '{5+}\r\n',
            '"',
            '\\',
            '(',
            ')',
            '[',
            ']',
            ' ',
            '\r\n',
            '\n',
            '*',
            '{99999999+}\r\n',
          ),
          fc.string({ maxLength: 10 }),
        ),
        { maxLength: 60 },
      )
      .map((parts) => Buffer.from(parts.join(''), 'latin1'));
    fc.assert(
      fc.property(
        fc.oneof(bytes, imapish),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }),
        (input, sizes) => {
          const events = drainAll(input, sizes);
          for (const ev of events) expect(['command', 'continue', 'error']).toContain(ev.kind);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads back any serialized argument tree', () => {
    fc.assert(
      fc.property(fc.array(argArb, { maxLength: 6 }), fc.integer({ min: 1, max: 64 }), (args, size) => {
        const wire = Buffer.from(`t1 X ${args.map(serialize).join(' ')}\r\n`, 'latin1');
        const events = drainAll(wire, [size]);
        expect(events).toHaveLength(1);
        const ev = events[0];
        expect(ev?.kind).toBe('command');
        if (ev?.kind === 'command') expect(ev.command.args).toEqual(args);
      }),
      { numRuns: 500 },
    );
  });
});

let h: Harness;

beforeAll(async () => {
  // Short timeouts: a run that leaves a session waiting (mid-literal, mid-AUTHENTICATE) must not keep it.
  h = await startHarness({
    limits: { idleTimeoutMs: 2_000, loginTimeoutMs: 2_000, tlsHandshakeTimeoutMs: 1_000 },
  });
  for (const m of [NESTED, FORWARD, message('fuzz 1'), message('fuzz 2')]) await h.deliver(ALICE, m);
  await h.store.createFolder(ALICE.id, 'Fuzz');
});

afterAll(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

const COMMANDS = [
  'CAPABILITY',
  'NOOP',
  'ID NIL',
  'ID ("a" "b")',
  `LOGIN alice "${ALICE.password}"`,
  'LOGIN alice {5}',
  'AUTHENTICATE PLAIN',
  'AUTHENTICATE SCRAM-SHA-256',
  'AUTHENTICATE CRAM-MD5 =',
  'ENABLE QRESYNC',
  'ENABLE IMAP4rev2',
  'SEARCH RETURN (SAVE) ALL',
  'SEARCH RETURN (MIN MAX COUNT ALL) $',
  'FETCH $ (BINARY[1] BINARY.SIZE[2] BINARY.PEEK[]<0.5>)',
  'UID STORE $ +FLAGS (\\Seen)',
  'APPEND Fuzz ~{3+}\r\na\0b',
  'SELECT INBOX',
  'SELECT INBOX (CONDSTORE)',
  'SELECT INBOX (QRESYNC (1 1 1:*))',
  'EXAMINE Fuzz',
  'CREATE Fuzz/x',
  'DELETE Fuzz/x',
  'RENAME Fuzz/x Fuzz/y',
  'LIST "" *',
  'LIST (SUBSCRIBED RECURSIVEMATCH) "" % RETURN (STATUS (MESSAGES SIZE))',
  'LSUB "" %',
  'STATUS INBOX (MESSAGES UIDNEXT HIGHESTMODSEQ SIZE DELETED)',
  'APPEND Fuzz (\\Seen) {12+}\r\nSubject: f\r\n\r\n',
  'APPEND Fuzz {5}',
  'FETCH 1:* (FLAGS UID ENVELOPE BODYSTRUCTURE)',
  'FETCH 1 (BODY.PEEK[1.2.HEADER.FIELDS (From)]<0.10> BODY[TEXT])',
  'FETCH * BODY[2.1.MIME]',
  'UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)',
  'STORE 1:2 +FLAGS (\\Deleted $X)',
  'STORE 1 (UNCHANGEDSINCE 1) -FLAGS.SILENT (\\Seen)',
  'UID STORE 1:* FLAGS ()',
  'COPY 1:* Fuzz',
  'MOVE 1 Fuzz',
  'UID MOVE 2:3 Fuzz',
  'SEARCH OR (FROM a) (BODY "x") NOT SEEN',
  'UID SEARCH CHARSET UTF-8 TEXT {3}',
  'SEARCH MODSEQ 1',
  'EXPUNGE',
  'UID EXPUNGE 1:3',
  'IDLE',
  'DONE',
  'CLOSE',
  'UNSELECT',
  'GETQUOTAROOT INBOX',
  'NAMESPACE',
  'STARTTLS',
  'LOGOUT',
  '*',
  '',
];

const tagged = fc
  .tuple(fc.constantFrom('a', 'b1', 'X.y', '*', '+', ''), fc.constantFrom(...COMMANDS))
  .map(([t, c]) => (t ? `${t} ${c}` : c));
const lineArb = fc.oneof(
  tagged,
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
);
const ending = fc.constantFrom('\r\n', '\n', '', '\r\n\r\n');
const script = fc
  .array(fc.tuple(lineArb, ending), { maxLength: 30 })
  .map((parts) => Buffer.from(parts.map(([l, e]) => l + e).join(''), 'latin1'));
const bytes = fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b));

async function run(setup: 'none' | 'login' | 'select', input: Buffer): Promise<void> {
  const c = await ImapClient.connect(h.port);
  if (setup !== 'none') await c.login();
  if (setup === 'select') await c.cmd('SELECT INBOX');
  c.raw.write(input);
  // Let the server chew on it, then hang up (as hostile clients do).
  await new Promise((r) => setTimeout(r, 20));
  c.close();
  const fresh = await ImapClient.connect(h.port);
  expect((await fresh.cmd('NOOP')).tagged).toBe('A1 OK Noop completed.');
  fresh.close();
}

describe('live session fuzz', () => {
  it('random bytes to a fresh session', async () => {
    await fc.assert(
      fc.asyncProperty(bytes, (input) => run('none', input)),
      { numRuns: 40 },
    );
  });

  it('random command scripts before login', async () => {
    await fc.assert(
      fc.asyncProperty(script, (input) => run('none', input)),
      { numRuns: 60 },
    );
  });

  it('random command scripts and bytes after login and in a selected mailbox', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(script, bytes), fc.boolean(), async (input, select) => {
        await run(select ? 'select' : 'login', input);
        // Keep the mailbox from emptying (MOVE, EXPUNGE) so later runs have messages to work on.
        if ((await h.store.folderInfo(ALICE.id, 'INBOX')).exists < 2) {
          await h.deliver(ALICE, NESTED);
          await h.deliver(ALICE, FORWARD);
        }
      }),
      { numRuns: 80 },
    );
  });
});
