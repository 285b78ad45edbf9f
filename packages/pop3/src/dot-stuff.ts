/**
 * Multi-line responses (RFC 1939 §3): "each line is terminated by a CRLF pair ... If any line of the
 * multi-line response begins with the termination octet, the line is 'byte-stuffed' by pre-pending the
 * termination octet to that line ... the multi-line response is terminated with the octets '.' CRLF".
 *
 * `DotStuffer` is the pure, incremental encoder (bytes in, bytes out, byte-exact apart from the stuffed
 * dots); `dotStuff()` wraps it as a `stream.pipeline` transform stage that stops reading the message as
 * soon as TOP has what it needs. A line starts after every LF (bare LFs included, so a client splitting
 * on LF never sees an unstuffed dot). A message not ending with CRLF gets one before the terminator.
 *
 * TOP (RFC 1939 §7): the header block, the blank line after it, then `bodyLines` lines of the body.
 */
import type { Readable } from 'node:stream';

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const STUFFED_DOT = Buffer.from('.');
const CRLF = Buffer.from('\r\n');
const TERMINATOR = Buffer.from('.\r\n');
/** A line starting with the termination octet, seen from the end of the line before. */
const LF_DOT = Buffer.from('\n.');

export interface DotStuffOptions {
  /** TOP: stop after the header block plus this many body lines. Undefined: the whole message (RETR). */
  bodyLines?: number;
}

export class DotStuffer {
  #atLineStart = true;
  /** Octets of the current line so far, LF excluded. */
  #lineLength = 0;
  #last = -1;
  #beforeLast = -1;
  #written = 0;
  #inHeader = true;
  #bodyLinesSent = 0;
  #done = false;
  readonly #bodyLines: number | undefined;

  constructor(opts: DotStuffOptions = {}) {
    this.#bodyLines = opts.bodyLines;
  }

  /** True once TOP has sent everything it should: further input is ignored. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Encodes the next chunk of the message. Without a line to stuff (the usual case) the result is a view of
   * `chunk` itself, not a copy.
   */
  push(chunk: Uint8Array): Buffer {
    if (this.#bodyLines === undefined) return this.#pushWhole(chunk);
    const parts: Uint8Array[] = [];
    let stuffed = false;
    let i = 0;
    while (i < chunk.length && !this.#done) {
      if (this.#atLineStart) {
        if (chunk[i] === DOT) {
          parts.push(STUFFED_DOT);
          stuffed = true;
        }
        this.#atLineStart = false;
        this.#lineLength = 0;
      }
      const nl = chunk.indexOf(LF, i);
      if (nl < 0) {
        this.#take(parts, chunk, i, chunk.length);
        break;
      }
      const beforeLf = nl > i ? chunk[nl - 1] : this.#last;
      const contentLength = this.#lineLength + (nl - i);
      const blank = contentLength === 0 || (contentLength === 1 && beforeLf === CR);
      this.#take(parts, chunk, i, nl + 1);
      this.#atLineStart = true;
      i = nl + 1;
      this.#endOfLine(blank);
    }
    if (!stuffed) {
      // The parts are consecutive pieces of `chunk` from its start: one view covers them.
      const taken = parts.reduce((n, p) => n + p.length, 0);
      return Buffer.from(chunk.buffer, chunk.byteOffset, taken);
    }
    return Buffer.concat(parts);
  }

  /**
   * RETR: no line counting, so instead of walking every line, search for the lines that start with a dot
   * (`LF .`, natively) and copy only when there is one.
   */
  #pushWhole(chunk: Uint8Array): Buffer {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (buf.length === 0) return buf;
    const dots: number[] = [];
    if (this.#atLineStart && buf[0] === DOT) dots.push(0);
    for (let at = buf.indexOf(LF_DOT); at >= 0; at = buf.indexOf(LF_DOT, at + 1)) dots.push(at + 1);
    this.#atLineStart = buf[buf.length - 1] === LF;
    this.#beforeLast = buf.length >= 2 ? (buf[buf.length - 2] as number) : this.#last;
    this.#last = buf[buf.length - 1] as number;
    this.#written += buf.length;
    if (dots.length === 0) return buf;
    const parts: Uint8Array[] = [];
    let from = 0;
    for (const d of dots) {
      parts.push(buf.subarray(from, d), STUFFED_DOT);
      from = d;
    }
    parts.push(buf.subarray(from));
    return Buffer.concat(parts);
  }

  /** The end of the response: a CRLF when the message did not end with one, then ".CRLF". */
  finish(): Buffer {
    this.#done = true;
    if (this.#written === 0 || (this.#beforeLast === CR && this.#last === LF)) return TERMINATOR;
    return Buffer.concat([CRLF, TERMINATOR]);
  }

  #take(parts: Uint8Array[], chunk: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    parts.push(chunk.subarray(from, to));
    this.#lineLength += to - from;
    this.#written += to - from;
    this.#beforeLast = to - from >= 2 ? (chunk[to - 2] ?? -1) : this.#last;
    this.#last = chunk[to - 1] ?? -1;
  }

  #endOfLine(blank: boolean): void {
    if (this.#bodyLines === undefined) return;
    if (this.#inHeader) {
      if (!blank) return;
      this.#inHeader = false;
      if (this.#bodyLines === 0) this.#done = true;
      return;
    }
    this.#bodyLinesSent++;
    if (this.#bodyLinesSent >= this.#bodyLines) this.#done = true;
  }
}

/**
 * A `stream.pipeline` stage: the message in, the dot-stuffed and terminated response body out. For TOP
 * it returns as soon as the lines are out, which destroys the source (the rest is never read).
 */
export function dotStuff(opts: DotStuffOptions = {}): (source: Readable) => AsyncGenerator<Buffer> {
  return async function* stuff(source) {
    const stuffer = new DotStuffer(opts);
    for await (const chunk of source) {
      const out = stuffer.push(chunk as Buffer);
      if (out.length > 0) yield out;
      if (stuffer.done) break;
    }
    yield stuffer.finish();
  };
}

/** Dot-stuffs and terminates a whole message held in memory (tests, small responses). */
export function dotStuffBuffer(message: Uint8Array, opts: DotStuffOptions = {}): Buffer {
  const s = new DotStuffer(opts);
  return Buffer.concat([s.push(message), s.finish()]);
}
