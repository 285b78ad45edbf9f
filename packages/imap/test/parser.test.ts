/**
 * The pure input side: the command reader over the RFC 3501 / RFC 9051 / RFC 7888 / RFC 7162 examples,
 * re-fed in chunks of every size from 1 to 512 bytes and in random chunkings (the result must not depend
 * on how the bytes arrive); the limits; sequence sets, dates, modified UTF-7.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../src/limits.js';
import { decodeMutf7, encodeMutf7 } from '../src/mutf7.js';
import { formatDateTime, parseDateTime, parseHeaderDay, parseSearchDate } from '../src/parser/datetime.js';
import { CommandReader, type ReaderEvent, type ReaderLimits } from '../src/parser/reader.js';
import {
  formatOrderedSet,
  formatSequenceSet,
  parseSequenceSet,
  resolveSequenceNumbers,
  resolveUids,
} from '../src/parser/sequence.js';
import type { Arg } from '../src/parser/types.js';

const LIMITS: ReaderLimits = DEFAULT_LIMITS;

/** Compact, comparable form of an argument tree. */
type Shape = string | { s: string } | { l: string } | Shape[];
function shape(a: Arg): Shape {
  if (a.kind === 'atom') return a.value;
  if (a.kind === 'string')
    return a.literal ? { l: a.value.toString('latin1') } : { s: a.value.toString('latin1') };
  return a.items.map(shape);
}

type Outcome =
  | { command: [string, string, ...Shape[]] }
  | { error: string; tag: string | null; status?: 'BAD' | 'NO'; fatal?: boolean }
  | { continue: string };

function summarize(ev: ReaderEvent): Outcome {
  switch (ev.kind) {
    case 'command':
      return { command: [ev.command.tag, ev.command.name, ...ev.command.args.map(shape)] };
    case 'continue':
      return { continue: ev.tag };
    case 'error':
      return { error: ev.text, tag: ev.tag, status: ev.status, fatal: ev.fatal };
    default:
      throw new Error('unexpected');
  }
}

/** Feeds `input` in the given chunk sizes (cycled), draining events after each chunk. */
function run(input: Buffer, sizes: number[], limits: ReaderLimits = LIMITS): Outcome[] {
  const reader = new CommandReader(limits);
  const out: Outcome[] = [];
  let pos = 0;
  let i = 0;
  const drain = () => {
    for (;;) {
      const ev = reader.next();
      if (ev.kind === 'needs-more') return;
      out.push(summarize(ev));
      if (ev.kind === 'error' && ev.fatal) return;
    }
  };
  while (pos < input.length) {
    const size = Math.max(1, sizes[i++ % sizes.length] as number);
    reader.push(input.subarray(pos, pos + size));
    pos += size;
    drain();
  }
  drain();
  return out;
}

const b = (s: string) => Buffer.from(s, 'latin1');
const APPEND_BODY =
  'Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\nFrom: Fred Foobar <foobar@Blurdybloop.example>\r\n' +
  'Subject: afternoon meeting\r\nTo: mooch@owatagu.siam.edu.example\r\nMessage-Id: <B27397-0100000@Blurdybloop.example>\r\n' +
  'MIME-Version: 1.0\r\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\nHello Joe, do you think we can meet at 3:30 tomorrow?\r\n';

/** [input, expected outcomes] — mostly the examples of RFC 3501 §6 / RFC 9051 §6 and their extensions. */
const TABLE: Array<[string, string | Buffer, Outcome[]]> = [
  ['LOGIN with atoms', 'a001 LOGIN SMITH SESAME\r\n', [{ command: ['a001', 'LOGIN', 'SMITH', 'SESAME'] }]],
  [
    'quoted strings with escapes',
    'a LOGIN "fred" "pa\\"ss\\\\word"\r\n',
    [{ command: ['a', 'LOGIN', { s: 'fred' }, { s: 'pa"ss\\word' }] }],
  ],
  ['SELECT', 'A142 SELECT INBOX\r\n', [{ command: ['A142', 'SELECT', 'INBOX'] }]],
  ['FETCH macro', 'a002 fetch 12 FULL\r\n', [{ command: ['a002', 'FETCH', '12', 'FULL'] }]],
  [
    'FETCH with a section list inside brackets',
    'A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n',
    [{ command: ['A654', 'FETCH', '2:4', ['FLAGS', 'BODY[HEADER.FIELDS (DATE FROM)]']] }],
  ],
  [
    'BODY.PEEK section with partial',
    'a FETCH 1 (BODY.PEEK[1.2.HEADER.FIELDS.NOT ("To" Cc)]<0.100> UID)\r\n',
    [{ command: ['a', 'FETCH', '1', ['BODY.PEEK[1.2.HEADER.FIELDS.NOT ("To" Cc)]<0.100>', 'UID']] }],
  ],
  [
    'STORE flags',
    'A003 STORE 2:4 +FLAGS (\\Deleted)\r\n',
    [{ command: ['A003', 'STORE', '2:4', '+FLAGS', ['\\Deleted']] }],
  ],
  [
    'CREATE with trailing delimiter',
    'A003 CREATE owatagusiam/\r\n',
    [{ command: ['A003', 'CREATE', 'owatagusiam/'] }],
  ],
  [
    'APPEND with a synchronising literal',
    `A003 APPEND saved-messages (\\Seen) {${APPEND_BODY.length}}\r\n${APPEND_BODY}\r\n`,
    [{ continue: 'A003' }, { command: ['A003', 'APPEND', 'saved-messages', ['\\Seen'], { l: APPEND_BODY }] }],
  ],
  [
    'APPEND with date-time and a non-synchronising literal (RFC 7888)',
    `A004 APPEND Drafts () "07-Feb-1994 21:52:25 -0800" {${APPEND_BODY.length}+}\r\n${APPEND_BODY}\r\n`,
    [{ command: ['A004', 'APPEND', 'Drafts', [], { s: '07-Feb-1994 21:52:25 -0800' }, { l: APPEND_BODY }] }],
  ],
  [
    'LOGIN with two non-synchronising literals (RFC 7888 §3 example shape)',
    'A LOGIN {5+}\r\nalice {11+}\r\nwonder land\r\n',
    [{ command: ['A', 'LOGIN', { l: 'alice' }, { l: 'wonder land' }] }],
  ],
  [
    'two synchronising literals',
    'A LOGIN {5}\r\nalice {3}\r\npwd\r\n',
    [{ continue: 'A' }, { continue: 'A' }, { command: ['A', 'LOGIN', { l: 'alice' }, { l: 'pwd' }] }],
  ],
  [
    'an empty literal',
    'A LOGIN {0}\r\n {0+}\r\n\r\n',
    [{ continue: 'A' }, { command: ['A', 'LOGIN', { l: '' }, { l: '' }] }],
  ],
  [
    'a literal holding CRLF and parentheses inside a list',
    'A SEARCH (OR SUBJECT {7+}\r\na)\r\n(b" TO x)\r\n',
    [{ command: ['A', 'SEARCH', ['OR', 'SUBJECT', { l: 'a)\r\n(b"' }, 'TO', 'x']] }],
  ],
  [
    'SEARCH with charset and literal (RFC 3501 §6.4.4)',
    'A284 SEARCH CHARSET UTF-8 TEXT {6}\r\n\xd0\xb9\xd1\x86\xd1\x83\r\n',
    [
      { continue: 'A284' },
      { command: ['A284', 'SEARCH', 'CHARSET', 'UTF-8', 'TEXT', { l: '\xd0\xb9\xd1\x86\xd1\x83' }] },
    ],
  ],
  [
    'SEARCH with nested groups',
    'A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT (FROM "Smith" OR (SEEN) (UNSEEN))\r\n',
    [
      {
        command: [
          'A282',
          'SEARCH',
          'FLAGGED',
          'SINCE',
          '1-Feb-1994',
          'NOT',
          ['FROM', { s: 'Smith' }, 'OR', ['SEEN'], ['UNSEEN']],
        ],
      },
    ],
  ],
  ['LIST "" ""', 'A002 LIST "" ""\r\n', [{ command: ['A002', 'LIST', { s: '' }, { s: '' }] }]],
  ['LIST with wildcards', 'A202 LIST ~/Mail/ %\r\n', [{ command: ['A202', 'LIST', '~/Mail/', '%'] }]],
  [
    'LIST-EXTENDED (RFC 5258 §5)',
    'A01 LIST (SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" "Drafts" %) RETURN (CHILDREN STATUS (MESSAGES))\r\n',
    [
      {
        command: [
          'A01',
          'LIST',
          ['SUBSCRIBED', 'RECURSIVEMATCH'],
          { s: '' },
          [{ s: 'INBOX' }, { s: 'Drafts' }, '%'],
          'RETURN',
          ['CHILDREN', 'STATUS', ['MESSAGES']],
        ],
      },
    ],
  ],
  [
    'STATUS',
    'A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n',
    [{ command: ['A042', 'STATUS', 'blurdybloop', ['UIDNEXT', 'MESSAGES']] }],
  ],
  [
    'UID FETCH',
    'A999 UID FETCH 4827313:4828442 FLAGS\r\n',
    [{ command: ['A999', 'UID', 'FETCH', '4827313:4828442', 'FLAGS'] }],
  ],
  [
    'SELECT with QRESYNC (RFC 7162 §3.2.5.1)',
    'A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n',
    [
      {
        command: [
          'A02',
          'SELECT',
          'INBOX',
          ['QRESYNC', ['67890007', '20050715194045000', '41,43:211,214:541']],
        ],
      },
    ],
  ],
  [
    'AUTHENTICATE with SASL-IR',
    'a AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n',
    [{ command: ['a', 'AUTHENTICATE', 'PLAIN', 'dGVzdAB0ZXN0AHRlc3Q='] }],
  ],
  [
    'bare LF line ends',
    'a NOOP\nb CAPABILITY\n',
    [{ command: ['a', 'NOOP'] }, { command: ['b', 'CAPABILITY'] }],
  ],
  ['empty lines are ignored', '\r\n\r\na NOOP\r\n', [{ command: ['a', 'NOOP'] }]],
  [
    'UTF-8 in a quoted string',
    'a CREATE "Entw\xc3\xbcrfe"\r\n',
    [{ command: ['a', 'CREATE', { s: 'Entw\xc3\xbcrfe' }] }],
  ],
  [
    'pipelined commands',
    'a1 NOOP\r\na2 LOGIN {1}\r\nx y\r\na3 LOGOUT\r\n',
    [
      { command: ['a1', 'NOOP'] },
      { continue: 'a2' },
      { command: ['a2', 'LOGIN', { l: 'x' }, 'y'] },
      { command: ['a3', 'LOGOUT'] },
    ],
  ],
  // Errors.
  [
    'no tag',
    '* NOOP\r\n',
    [{ error: 'Error in IMAP command received by server.', tag: null, status: 'BAD', fatal: false }],
  ],
  [
    'tag without command',
    'abc\r\n',
    [{ error: 'Error in IMAP command received by server.', tag: 'abc', status: 'BAD', fatal: false }],
  ],
  [
    'tag with +',
    'a+b NOOP\r\n',
    [{ error: 'Error in IMAP command received by server.', tag: null, status: 'BAD', fatal: false }],
  ],
  [
    'unterminated quoted string',
    'a LOGIN "fred\r\nb NOOP\r\n',
    [{ error: "Missing '\"'", tag: 'a', status: 'BAD', fatal: false }, { command: ['b', 'NOOP'] }],
  ],
  [
    'bad escape',
    'a LOGIN "fr\\ed" x\r\n',
    [{ error: 'Invalid escape in quoted string', tag: 'a', status: 'BAD', fatal: false }],
  ],
  [
    'unbalanced )',
    'a FETCH 1 FLAGS)\r\n',
    [{ error: "Unexpected ')'", tag: 'a', status: 'BAD', fatal: false }],
  ],
  [
    'unclosed (',
    'a FETCH 1 (FLAGS\r\nb NOOP\r\n',
    [{ error: "Missing ')'", tag: 'a', status: 'BAD', fatal: false }, { command: ['b', 'NOOP'] }],
  ],
  [
    // RFC 9051 §9: `[` is an atom character; unclosed, it does not open a bracketed part (FETCH refuses
    // the item later). imaptest's `atoms` test selects a mailbox named like this.
    'unclosed [',
    "a FETCH 1 BODY[HEADER\r\nb SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}\r\n",
    [
      { command: ['a', 'FETCH', '1', 'BODY[HEADER'] },
      { command: ['b', 'SELECT', "!#$&'+,-.0123456789:;<=>?@^_`|[}"] },
    ],
  ],
  [
    'literal marker not at the end',
    'a LOGIN {5} x\r\n',
    [{ error: 'Invalid literal', tag: 'a', status: 'BAD', fatal: false }],
  ],
  [
    'an error skips the non-synchronising literals of the command',
    'a LOGIN "x\\q" {4+}\r\nb NO {3+}\r\nc N\r\nd NOOP\r\n',
    [
      { error: 'Invalid escape in quoted string', tag: 'a', status: 'BAD', fatal: false },
      { command: ['d', 'NOOP'] },
    ],
  ],
];

describe('command reader: RFC examples', () => {
  for (const [name, input, expected] of TABLE) {
    it(`${name}, in chunks of 1..512 bytes`, () => {
      const bytes = typeof input === 'string' ? b(input) : input;
      for (let size = 1; size <= 512; size++) {
        expect(run(bytes, [size]), `chunk size ${size}`).toEqual(expected);
      }
    });
  }

  it('gives the same events for any chunking of the whole table', () => {
    const all = Buffer.concat(TABLE.map(([, input]) => (typeof input === 'string' ? b(input) : input)));
    const expected = run(all, [all.length]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }), (sizes) => {
        expect(run(all, sizes)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe('command reader: limits', () => {
  const small: ReaderLimits = { ...LIMITS, maxLineLength: 1024, maxLiteralSize: 100, maxCommandSize: 200 };

  it('refuses an over-long line and resynchronises after it', () => {
    const input = b(`a NOOP ${'x'.repeat(2000)}\r\nb NOOP\r\n`);
    for (const size of [1, 7, 100, 4096]) {
      expect(run(input, [size], small)).toEqual([
        { error: 'Line too long', tag: 'a', status: 'BAD', fatal: false },
        { command: ['b', 'NOOP'] },
      ]);
    }
  });

  it('answers an over-long line without a readable tag with an untagged BAD', () => {
    expect(run(b(`${'x'.repeat(3000)}\r\nb NOOP\r\n`), [100], small)).toEqual([
      { error: 'Line too long', tag: null, status: 'BAD', fatal: false },
      { command: ['b', 'NOOP'] },
    ]);
  });

  it('accepts a line of exactly the limit', () => {
    const line = `a LOGIN ${'x'.repeat(1024 - 'a LOGIN '.length - 4)} y\r\n`;
    expect(line.length).toBe(1024);
    const roomy = { ...small, maxCommandSize: 4096 };
    expect(run(b(line), [1024], roomy)).toHaveLength(1);
    expect(run(b(line), [1024], roomy)[0]).toHaveProperty('command');
    expect(run(b(`${line.slice(0, -2)}z\r\n`), [1024], roomy)[0]).toHaveProperty('error', 'Line too long');
  });

  it('refuses a synchronising APPEND literal over the limit before it is sent: NO [TOOBIG]', () => {
    const r = new CommandReader(small);
    r.push(b('a APPEND INBOX {101}\r\n'));
    expect(r.next()).toEqual({
      kind: 'error',
      tag: 'a',
      status: 'NO',
      code: 'TOOBIG',
      text: 'Message too large',
      fatal: false,
    });
    r.push(b('b NOOP\r\n'));
    expect(r.next()).toMatchObject({ kind: 'command', command: { tag: 'b', name: 'NOOP' } });
  });

  it('accepts an APPEND literal of exactly the limit', () => {
    const r = new CommandReader(small);
    r.push(b(`a APPEND INBOX {100}\r\n`));
    expect(r.next()).toEqual({ kind: 'continue', tag: 'a' });
    r.push(b(`${'m'.repeat(100)}\r\n`));
    expect(r.next()).toMatchObject({ kind: 'command' });
  });

  it('refuses a large literal outside APPEND with BAD', () => {
    const r = new CommandReader(small);
    r.push(b('a LOGIN {201}\r\n'));
    expect(r.next()).toMatchObject({ kind: 'error', tag: 'a', status: 'BAD', code: 'TOOBIG', fatal: false });
  });

  it('a non-synchronising literal over the limit is fatal (RFC 7888 §4)', () => {
    const r = new CommandReader(small);
    r.push(b('a APPEND INBOX {5000+}\r\nxxxx'));
    expect(r.next()).toMatchObject({ kind: 'error', tag: 'a', status: 'NO', code: 'TOOBIG', fatal: true });
  });

  it('limits the total size of a command', () => {
    const r = new CommandReader(small);
    r.push(b(`a LOGIN {150+}\r\n${'x'.repeat(150)} {60+}\r\n`));
    expect(r.next()).toMatchObject({ kind: 'error', tag: 'a', code: 'TOOBIG' });
  });

  it('limits nesting depth', () => {
    const deep = `a FETCH 1 ${'('.repeat(33)}${')'.repeat(33)}\r\n`;
    const ok = `a FETCH 1 ${'('.repeat(32)}${')'.repeat(32)}\r\n`;
    expect(run(b(deep), [4096])).toEqual([
      { error: 'Too deep nesting', tag: 'a', status: 'BAD', fatal: false },
    ]);
    expect(run(b(ok), [4096])[0]).toHaveProperty('command');
  });

  it('limits the number of arguments', () => {
    const many = `a SEARCH ${'ALL '.repeat(50)}\r\n`;
    expect(run(b(many), [4096], { ...LIMITS, maxArguments: 49 })).toEqual([
      { error: 'Too many arguments', tag: 'a', status: 'BAD', fatal: false },
    ]);
    expect(run(b(many), [4096], { ...LIMITS, maxArguments: 50 })[0]).toHaveProperty('command');
  });

  it('reads raw lines between commands (AUTHENTICATE, IDLE)', () => {
    const r = new CommandReader(LIMITS);
    r.push(b('dGVzdA==\r\nDONE\r\na NOOP\r\n'));
    expect(r.nextLine(100)).toEqual({ kind: 'line', line: b('dGVzdA==') });
    expect(r.nextLine(100)).toEqual({ kind: 'line', line: b('DONE') });
    expect(r.next()).toMatchObject({ kind: 'command', command: { tag: 'a' } });
    r.push(b('x'.repeat(200)));
    expect(r.nextLine(100)).toEqual({ kind: 'too-long' });
    r.push(b('yyy\r\nDONE\r\n'));
    expect(r.nextLine(100)).toEqual({ kind: 'line', line: b('DONE') });
  });

  it('clear() drops everything buffered (STARTTLS)', () => {
    const r = new CommandReader(LIMITS);
    r.push(b('a LOGIN {5}\r\nab'));
    expect(r.next()).toEqual({ kind: 'continue', tag: 'a' });
    r.clear();
    r.push(b('b NOOP\r\n'));
    expect(r.next()).toMatchObject({ kind: 'command', command: { tag: 'b' } });
  });
});

describe('sequence sets', () => {
  it('parses and resolves (RFC 9051 §9 seq-number, sequence-set)', () => {
    const set = parseSequenceSet('2,4:7,9,12:*');
    expect(set).toBeDefined();
    expect(resolveSequenceNumbers(set ?? [], 15)).toEqual([2, 4, 5, 6, 7, 9, 12, 13, 14, 15]);
    expect(resolveSequenceNumbers(parseSequenceSet('*:4') ?? [], 6)).toEqual([4, 5, 6]);
    expect(resolveSequenceNumbers(parseSequenceSet('*') ?? [], 0)).toEqual([]);
    for (const bad of ['', '0', '1:', ':1', '1,,2', 'a', '01', '4294967296', '1:2:3', '-1']) {
      expect(parseSequenceSet(bad), bad).toBeUndefined();
    }
  });

  it('resolves UID sets: `n:*` names the last UID even when n is above it', () => {
    const uids = [3, 5, 9, 20];
    expect(resolveUids(parseSequenceSet('559:*') ?? [], uids)).toEqual([20]);
    expect(resolveUids(parseSequenceSet('1:4294967295') ?? [], uids)).toEqual(uids);
    expect(resolveUids(parseSequenceSet('4:9,21') ?? [], uids)).toEqual([5, 9]);
  });

  it('formats compactly', () => {
    expect(formatSequenceSet([1, 2, 3, 5, 7, 8])).toBe('1:3,5,7:8');
    expect(formatSequenceSet([])).toBe('');
    expect(formatOrderedSet([10, 11, 12, 4])).toBe('10:12,4');
  });

  it('round-trips any set of numbers', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 500 })), (nums) => {
        const sorted = [...nums].sort((x, y) => x - y);
        const text = formatSequenceSet(nums);
        if (nums.length === 0) return;
        expect(
          resolveUids(
            parseSequenceSet(text) ?? [],
            Array.from({ length: 500 }, (_, i) => i + 1),
          ),
        ).toEqual(sorted);
      }),
    );
  });
});

describe('dates', () => {
  it('parses APPEND date-time (RFC 9051 §9) and formats INTERNALDATE', () => {
    const d = parseDateTime('17-Jul-1996 02:44:25 -0700');
    expect(d?.toISOString()).toBe('1996-07-17T09:44:25.000Z');
    expect(parseDateTime(' 7-Feb-1994 21:52:25 +0100')?.toISOString()).toBe('1994-02-07T20:52:25.000Z');
    expect(formatDateTime(new Date('1994-02-07T20:52:25Z'))).toBe('" 7-Feb-1994 20:52:25 +0000"');
    for (const bad of [
      '31-Feb-1994 00:00:00 +0000',
      '1-Foo-1994 00:00:00 +0000',
      '17-Jul-1996 25:00:00 +0000',
      'x',
    ]) {
      expect(parseDateTime(bad), bad).toBeUndefined();
    }
  });

  it('parses SEARCH dates and Date: headers', () => {
    expect(parseSearchDate('1-Feb-1994')).toBe(19940201);
    expect(parseSearchDate('01-feb-1994')).toBe(19940201);
    expect(parseSearchDate('30-Feb-1994')).toBeUndefined();
    expect(parseHeaderDay('Mon, 7 Feb 1994 21:52:25 -0800 (PST)')).toBe(19940207);
    expect(parseHeaderDay('7 Feb 94 21:52 GMT')).toBe(19940207);
    expect(parseHeaderDay('garbage')).toBeUndefined();
  });
});

describe('modified UTF-7 (RFC 3501 §5.1.3)', () => {
  it('encodes and decodes the RFC example', () => {
    expect(encodeMutf7('~peter/mail/台北/日本語')).toBe('~peter/mail/&U,BTFw-/&ZeVnLIqe-');
    expect(decodeMutf7('~peter/mail/&U,BTFw-/&ZeVnLIqe-')).toBe('~peter/mail/台北/日本語');
    expect(encodeMutf7('Tom & Jerry')).toBe('Tom &- Jerry');
    expect(decodeMutf7('Entw&APw-rfe')).toBe('Entwürfe');
  });

  it('rejects invalid encodings', () => {
    for (const bad of ['&Jjo!', '&AGE-', '&', '&U,BTFw', 'a\u00e9']) expect(decodeMutf7(bad), bad).toBeNull();
  });

  it('round-trips any name', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (name) => {
        expect(decodeMutf7(encodeMutf7(name))).toBe(name);
      }),
    );
  });
});
