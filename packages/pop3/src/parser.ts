/**
 * The POP3 input side, pure and incremental: `LineFramer` turns bytes into lines (needs-more | line |
 * too-long), `parseCommandLine` turns a line into a keyword and its arguments. No I/O, no clock: the
 * session feeds bytes in and asks for the next frame with the length limit of what it expects next (a
 * command line, or an AUTH continuation line).
 *
 * RFC 1939 §3: commands and responses are lines terminated by CRLF; a bare LF is accepted as well, as
 * most servers do. RFC 2449 §4: a command line is at most 255 octets, CRLF included.
 */
import { MAX_ARGUMENT_LENGTH, MAX_ARGUMENTS, MAX_KEYWORD_LENGTH } from './limits.js';

export type Frame =
  /** No complete line buffered yet. */
  | { kind: 'needs-more' }
  /** One line, without its CRLF (or LF). */
  | { kind: 'line'; line: Buffer }
  /** A line longer than the limit: it is discarded up to and including its LF (which may arrive later). */
  | { kind: 'too-long' };

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

export class LineFramer {
  #buf: Buffer = EMPTY;
  /** Bytes of #buf already searched for LF without finding one. */
  #scanned = 0;
  /** Inside an over-long line: drop input until its LF. */
  #discarding = false;

  /** Appends received bytes. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#discarding) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) return;
      this.#discarding = false;
      chunk = chunk.subarray(nl + 1);
    }
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
  }

  /** Bytes buffered and not yet returned as lines. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Removes and returns what is buffered, as received (the proxy hand-over after PASS). */
  takeAll(): Buffer {
    const rest = this.#discarding ? EMPTY : this.#buf;
    this.clear();
    return rest;
  }

  /** Drops everything buffered (STLS: nothing sent before the handshake may be executed after it). */
  clear(): void {
    this.#buf = EMPTY;
    this.#scanned = 0;
    this.#discarding = false;
  }

  /**
   * The next frame. `maxLength` counts the line terminator: with 255, a line of 253 octets plus CRLF is
   * accepted and 254 octets plus CRLF is too long.
   */
  next(maxLength: number): Frame {
    const nl = this.#buf.indexOf(LF, this.#scanned);
    if (nl < 0) {
      if (this.#buf.length >= maxLength) {
        // Whatever follows, this line ends beyond the limit (it still needs its LF).
        this.#buf = EMPTY;
        this.#scanned = 0;
        this.#discarding = true;
        return { kind: 'too-long' };
      }
      this.#scanned = this.#buf.length;
      return { kind: 'needs-more' };
    }
    const end = nl > 0 && this.#buf[nl - 1] === CR ? nl - 1 : nl;
    const line = this.#buf.subarray(0, end);
    this.#buf = this.#buf.subarray(nl + 1);
    this.#scanned = 0;
    if (nl + 1 > maxLength) return { kind: 'too-long' };
    return { kind: 'line', line };
  }
}

export type ParsedLine =
  | { kind: 'command'; keyword: string; args: string }
  /** The line is an HTTP request line: somebody pointed a web client at the POP3 port. */
  | { kind: 'http' }
  | { kind: 'invalid'; reason: string };

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const KEYWORD = /^[A-Za-z]+$/;
const HTTP_REQUEST = /^[A-Z]{3,7} \S+ HTTP\/\d(?:\.\d)?$/;

/**
 * Splits a command line into its keyword (upper-cased: RFC 1939 §3, keywords are case-insensitive) and
 * the rest of the line after the first space, decoded as UTF-8 (invalid sequences become U+FFFD and
 * fail wherever they matter, e.g. as a password).
 */
export function parseCommandLine(line: Buffer): ParsedLine {
  const text = line.toString('utf8');
  if (HTTP_REQUEST.test(text)) return { kind: 'http' };
  if (CONTROL.test(text)) return { kind: 'invalid', reason: 'Control characters in command' };
  const sp = text.indexOf(' ');
  const keyword = sp < 0 ? text : text.slice(0, sp);
  if (keyword.length === 0) return { kind: 'invalid', reason: 'Empty command' };
  if (keyword.length > MAX_KEYWORD_LENGTH || !KEYWORD.test(keyword)) {
    return { kind: 'invalid', reason: 'Unknown command' };
  }
  return { kind: 'command', keyword: keyword.toUpperCase(), args: sp < 0 ? '' : text.slice(sp + 1) };
}

/** Why a command's arguments were refused (the session answers -ERR and counts a bad command). */
export class ArgumentError extends Error {
  override name = 'ArgumentError';
}

/**
 * The space-separated arguments of a command, between `min` and `max` of them, each at most
 * `MAX_ARGUMENT_LENGTH` characters (RFC 2449 §4). Trailing spaces are tolerated (some clients send them).
 */
export function splitArguments(args: string, min: number, max: number): string[] {
  const parts = args.split(' ').filter((p) => p.length > 0);
  if (parts.length < min) throw new ArgumentError(min === 1 ? 'Missing argument' : 'Missing arguments');
  if (parts.length > Math.min(max, MAX_ARGUMENTS)) throw new ArgumentError('Too many arguments');
  if (parts.some((p) => p.length > MAX_ARGUMENT_LENGTH)) throw new ArgumentError('Argument too long');
  return parts;
}

/** RFC 1939 §3: a message number is a positive decimal integer (no sign, no leading garbage). */
export function parseMessageNumber(s: string): number {
  if (!/^\d{1,10}$/.test(s)) throw new ArgumentError('Invalid message number');
  const n = Number(s);
  if (n < 1) throw new ArgumentError('Invalid message number');
  return n;
}

/** TOP's line count: a non-negative decimal integer (RFC 1939 §7). */
export function parseLineCount(s: string): number {
  if (!/^\d{1,10}$/.test(s)) throw new ArgumentError('Invalid number of lines');
  return Number(s);
}
