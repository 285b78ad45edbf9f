/** Dot-stuffing and termination (RFC 1939 §3) and TOP's cut (RFC 1939 §7), against an independent model. */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DotStuffer, dotStuff, dotStuffBuffer } from '../src/dot-stuff.js';
import { expectedStuffed } from './helpers.js';

const latin1 = (s: string) => Buffer.from(s, 'latin1');

function stuffChunked(message: Buffer, size: number, bodyLines?: number): string {
  const s = new DotStuffer({ bodyLines });
  const out: Buffer[] = [];
  for (let i = 0; i < message.length && !s.done; i += size) out.push(s.push(message.subarray(i, i + size)));
  out.push(s.finish());
  return Buffer.concat(out).toString('latin1');
}

/** TOP, modelled on lines: everything up to and including the first blank line, then n lines. */
function expectedTop(message: string, n: number): string {
  const lines = message.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const blank = lines.findIndex((l) => l === '\n' || l === '\r\n');
  const kept = blank < 0 ? lines : lines.slice(0, blank + 1 + n);
  return expectedStuffed(kept.join(''));
}

const messageChars = fc.constantFrom('.', '\r', '\n', '\r\n', 'a', ' ', 'From: x', '\xff', '\x00', '..');
const message = fc.array(messageChars, { maxLength: 200 }).map((a) => a.join(''));

describe('DotStuffer', () => {
  it('stuffs leading dots, adds the final CRLF when missing, terminates', () => {
    expect(dotStuffBuffer(latin1('.a\r\nb\r\n')).toString('latin1')).toBe('..a\r\nb\r\n.\r\n');
    expect(dotStuffBuffer(latin1('a\r\n.')).toString('latin1')).toBe('a\r\n..\r\n.\r\n');
    expect(dotStuffBuffer(latin1('no newline')).toString('latin1')).toBe('no newline\r\n.\r\n');
    expect(dotStuffBuffer(latin1('bare\n.x\n')).toString('latin1')).toBe('bare\n..x\n\r\n.\r\n');
    expect(dotStuffBuffer(latin1('')).toString('latin1')).toBe('.\r\n');
  });

  it('matches the model for any message and any chunking', () => {
    fc.assert(
      fc.property(message, fc.integer({ min: 1, max: 64 }), (m, size) => {
        expect(stuffChunked(latin1(m), size)).toBe(expectedStuffed(m));
      }),
      { numRuns: 500 },
    );
  });

  it('TOP: header block, blank line, n body lines, for any message and chunking', () => {
    fc.assert(
      fc.property(message, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 16 }), (m, n, size) => {
        expect(stuffChunked(latin1(m), size, n)).toBe(expectedTop(m, n));
      }),
      { numRuns: 500 },
    );
  });

  it('returns a view of the input, not a copy, when no line needs stuffing', () => {
    const whole = latin1('xxFrom: a\r\n\r\nbody\r\n');
    const chunk = whole.subarray(2);
    const out = new DotStuffer().push(chunk);
    expect(out.toString('latin1')).toBe('From: a\r\n\r\nbody\r\n');
    expect(out.buffer).toBe(whole.buffer);
    expect(out.byteOffset).toBe(chunk.byteOffset);
    // With a dot to stuff the output differs from the input, so it is a new buffer.
    expect(new DotStuffer().push(latin1('.x\r\n')).toString('latin1')).toBe('..x\r\n');
  });

  it('TOP examples', () => {
    const msg = 'A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\nl3\r\n';
    expect(stuffChunked(latin1(msg), 1000, 0)).toBe('A: 1\r\nB: 2\r\n\r\n.\r\n');
    expect(stuffChunked(latin1(msg), 3, 2)).toBe('A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n');
    expect(stuffChunked(latin1(msg), 1, 99)).toBe(`${msg.replace('.l2', '..l2')}.\r\n`);
    expect(stuffChunked(latin1('A: 1\r\nno body'), 2, 0)).toBe('A: 1\r\nno body\r\n.\r\n');
  });

  it('dotStuff() stops reading the source once TOP has its lines', async () => {
    let reads = 0;
    const source = new Readable({
      read() {
        reads++;
        this.push(reads === 1 ? latin1('H: v\r\n\r\nbody\r\n') : latin1('more\r\n'.repeat(1000)));
        if (reads > 1000) this.push(null);
      },
    });
    const out: Buffer[] = [];
    await pipeline(source, dotStuff({ bodyLines: 1 }), async (chunks: AsyncIterable<Buffer>) => {
      for await (const c of chunks) out.push(c);
    });
    expect(Buffer.concat(out).toString()).toBe('H: v\r\n\r\nbody\r\n.\r\n');
    expect(reads).toBeLessThan(10);
    expect(source.destroyed).toBe(true);
  });
});
