/**
 * The pure input side: `LineFramer` (bytes → lines) re-fed in chunks of 1..512 bytes must give the
 * same frames; the limits of RFC 2449 §4; `parseCommandLine` and the argument helpers. Inputs are the
 * commands of the RFC 1939 / 2449 / 5034 example sessions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ARGUMENT_LENGTH } from '../src/limits.js';
import {
  ArgumentError,
  type Frame,
  LineFramer,
  parseCommandLine,
  parseLineCount,
  parseMessageNumber,
  splitArguments,
} from '../src/parser.js';

const RFC_COMMANDS = [
  'APOP mrose c4c9334bac560ecc979e58001b3e22fb',
  'USER mrose',
  'PASS secret',
  'STAT',
  'LIST',
  'LIST 2',
  'LIST 3',
  'RETR 1',
  'DELE 1',
  'DELE 2',
  'NOOP',
  'RSET',
  'TOP 1 10',
  'TOP 100 3',
  'UIDL',
  'UIDL 2',
  'CAPA',
  'STLS',
  'AUTH',
  'AUTH PLAIN',
  'AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=',
  'AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=',
  '*',
  '',
  'QUIT',
];

/** The commands with CRLF, some with bare LF, one line of exactly 255 octets, two over the limit. */
function corpus(): Buffer {
  const parts = RFC_COMMANDS.map((c, i) => `${c}${i % 5 === 3 ? '\n' : '\r\n'}`);
  parts.splice(5, 0, `USER ${'a'.repeat(248)}\r\n`); // 255 with CRLF: accepted
  parts.splice(9, 0, `USER ${'b'.repeat(249)}\r\n`); // 256: too long
  parts.splice(14, 0, `${'c'.repeat(1000)}\r\n`); // far too long
  return Buffer.from(parts.join(''), 'latin1');
}

function describeFrame(f: Frame): string {
  return f.kind === 'line' ? `line:${f.line.toString('latin1')}` : f.kind;
}

/** Feeds `input` in chunks of `size` bytes, draining frames after every chunk. */
function feed(input: Buffer, sizes: (i: number) => number, max = 255): string[] {
  const framer = new LineFramer();
  const out: string[] = [];
  let offset = 0;
  for (let i = 0; offset < input.length; i++) {
    const n = Math.max(1, sizes(i));
    framer.push(input.subarray(offset, offset + n));
    offset += n;
    for (let f = framer.next(max); f.kind !== 'needs-more'; f = framer.next(max)) out.push(describeFrame(f));
  }
  return out;
}

describe('LineFramer', () => {
  const input = corpus();
  const whole = feed(input, () => input.length);

  it('frames the RFC example commands, CRLF and bare LF alike', () => {
    expect(whole.filter((f) => f.startsWith('line:'))).toEqual(
      [...RFC_COMMANDS.slice(0, 5), `USER ${'a'.repeat(248)}`, ...RFC_COMMANDS.slice(5)].map(
        (c) => `line:${c}`,
      ),
    );
    expect(whole.filter((f) => f === 'too-long')).toHaveLength(2);
  });

  it('gives the same frames re-fed in chunks of 1..512 bytes', () => {
    for (let size = 1; size <= 512; size++) expect(feed(input, () => size)).toEqual(whole);
  });

  it('gives the same frames for any random chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 50 }), (sizes) => {
        expect(feed(input, (i) => sizes[i % sizes.length] ?? 1)).toEqual(whole);
      }),
    );
  });

  it('limit: 253 octets + CRLF pass, 254 + CRLF are too long, 254 + bare LF pass', () => {
    const f = new LineFramer();
    f.push(Buffer.from(`${'x'.repeat(253)}\r\n${'y'.repeat(254)}\r\n${'z'.repeat(254)}\n`));
    expect(describeFrame(f.next(255))).toBe(`line:${'x'.repeat(253)}`);
    expect(f.next(255).kind).toBe('too-long');
    expect(describeFrame(f.next(255))).toBe(`line:${'z'.repeat(254)}`);
    expect(f.next(255).kind).toBe('needs-more');
  });

  it('reports an over-long line before its end arrives, then discards it up to its LF', () => {
    const f = new LineFramer();
    f.push(Buffer.alloc(300, 0x61));
    expect(f.next(255).kind).toBe('too-long');
    expect(f.buffered).toBe(0);
    f.push(Buffer.alloc(10_000, 0x62));
    expect(f.next(255).kind).toBe('needs-more');
    expect(f.buffered).toBe(0);
    f.push(Buffer.from('tail\r\nNOOP\r\n'));
    expect(describeFrame(f.next(255))).toBe('line:NOOP');
  });

  it('a partial line below the limit waits; the limit is per call (AUTH continuation lines: 8 KiB)', () => {
    const f = new LineFramer();
    f.push(Buffer.alloc(1000, 0x41));
    expect(f.next(8192).kind).toBe('needs-more');
    f.push(Buffer.from('\r\n'));
    expect(f.next(8192)).toMatchObject({ kind: 'line' });
  });

  it('clear() drops everything buffered (STLS)', () => {
    const f = new LineFramer();
    f.push(Buffer.from('USER a\r\nPASS b\r\n'));
    f.clear();
    expect(f.next(255).kind).toBe('needs-more');
  });
});

describe('parseCommandLine', () => {
  const parse = (s: string) => parseCommandLine(Buffer.from(s, 'latin1'));

  it('upper-cases the keyword, keeps the arguments as sent', () => {
    expect(parse('uidl 2')).toEqual({ kind: 'command', keyword: 'UIDL', args: '2' });
    expect(parse('Pass  two  spaces ')).toEqual({ kind: 'command', keyword: 'PASS', args: ' two  spaces ' });
    expect(parse('QUIT')).toEqual({ kind: 'command', keyword: 'QUIT', args: '' });
  });

  it('refuses empty lines, long or non-alphabetic keywords, control characters', () => {
    expect(parse('').kind).toBe('invalid');
    expect(parse(' STAT').kind).toBe('invalid');
    expect(parse('STATUS').kind).toBe('invalid');
    expect(parse('ST4T').kind).toBe('invalid');
    expect(parse('USER a\0b').kind).toBe('invalid');
    expect(parse('USER a\rb').kind).toBe('invalid');
    expect(parse('USER a\tb').kind).toBe('command');
  });

  it('recognises HTTP request lines', () => {
    expect(parse('GET / HTTP/1.1').kind).toBe('http');
    expect(parse('POST /x HTTP/1.0').kind).toBe('http');
    expect(parse('CONNECT example.test:110 HTTP/1.1').kind).toBe('http');
    expect(parse('GET').kind).toBe('command');
  });
});

describe('arguments', () => {
  it('splitArguments counts and bounds (RFC 2449 §4: 40 characters)', () => {
    expect(splitArguments('1 10', 2, 2)).toEqual(['1', '10']);
    expect(splitArguments('1 ', 0, 1)).toEqual(['1']);
    expect(() => splitArguments('', 1, 1)).toThrow(ArgumentError);
    expect(() => splitArguments('1 2', 0, 1)).toThrow(ArgumentError);
    expect(() => splitArguments('a b c', 0, 3)).toThrow(ArgumentError);
    expect(splitArguments('x'.repeat(MAX_ARGUMENT_LENGTH), 1, 1)).toHaveLength(1);
    expect(() => splitArguments('x'.repeat(MAX_ARGUMENT_LENGTH + 1), 1, 1)).toThrow(ArgumentError);
  });

  it('message numbers are positive decimals; TOP line counts non-negative', () => {
    expect(parseMessageNumber('1')).toBe(1);
    expect(parseMessageNumber('0042')).toBe(42);
    for (const bad of ['0', '-1', '+1', '1.0', 'x', '1e3', '12345678901', ''])
      expect(() => parseMessageNumber(bad)).toThrow(ArgumentError);
    expect(parseLineCount('0')).toBe(0);
    expect(() => parseLineCount('-1')).toThrow(ArgumentError);
  });
});
