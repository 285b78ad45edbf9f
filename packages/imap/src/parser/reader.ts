/**
 * The incremental command reader: bytes in → needs-more | continue | command | error. Pure: no I/O, no
 * clock. The session pushes received bytes and asks for the next event after each command is done, so
 * commands are read strictly in order (RFC 9051 §5.5: pipelined commands are executed in order here).
 *
 * - Lines end with CRLF; a bare LF is accepted too (as Dovecot does).
 * - A synchronising literal `{n}` yields `continue` (the session answers `+ ...`, RFC 9051 §7.5) before
 *   its octets are expected; a non-synchronising one `{n+}` (LITERAL+, RFC 7888) does not.
 * - Limits: a line (the text between literals) longer than `maxLineLength` is refused and discarded
 *   through its LF; a literal or command beyond the size limit is refused before its octets are read:
 *   `NO [TOOBIG]` for APPEND, BAD otherwise. A non-synchronising literal that is too large cannot be
 *   refused before the client sends it (RFC 7888 §4): the error is fatal (the session closes the
 *   connection rather than read it).
 * - After a syntax error, the rest of the command is discarded, non-synchronising literals included (the
 *   client sends those whatever we answer); a client waiting to send a synchronising literal gets the
 *   tagged BAD instead of a continuation, which ends the command for it.
 */
import { ByteQueue } from './byte-queue.js';
import { ArgTokenizer } from './tokenizer.js';
import type { ParsedCommand } from './types.js';

export interface ReaderLimits {
  maxLineLength: number;
  maxLiteralSize: number;
  maxCommandSize: number;
  maxNesting: number;
  maxArguments: number;
}

export type ReaderEvent =
  | { kind: 'needs-more' }
  /** A synchronising literal was announced: send a continuation request, then call `next()` again. */
  | { kind: 'continue'; tag: string }
  | { kind: 'command'; command: ParsedCommand }
  | {
      kind: 'error';
      /** The command's tag, or null when none could be read (answer untagged `* BAD`). */
      tag: string | null;
      status: 'BAD' | 'NO';
      code: string | null;
      text: string;
      /** The input can no longer be followed: answer, then close the connection. */
      fatal: boolean;
    };

export type LineEvent = { kind: 'needs-more' } | { kind: 'line'; line: Buffer } | { kind: 'too-long' };

const LF = 0x0a;
const CR = 0x0d;

/** RFC 9051 §9: tag = 1*<any ASTRING-CHAR except "+">. */
const TAG = /^[\x21\x23\x24\x26\x27\x2c-\x5b\x5d-\x7a\x7c-\x7e]+/;
/** A command name: an atom (RFC 9051 §9 ATOM-CHAR). */
const NAME = /^[\x21\x23\x24\x26\x27\x2b-\x5b\x5e-\x7a\x7c-\x7e]+/;
/** A tag followed by a space, at the start of a line. */
const TAG_AND_SPACE = /^([\x21\x23\x24\x26\x27\x2c-\x5b\x5d-\x7a\x7c-\x7e]+) /;
/** Bytes looked at for the tag of an over-long line. */
const MAX_TAG_PEEK = 256;
/** A non-synchronising literal at the end of a line (to skip after an error). */
const NONSYNC_AT_END = /\{(\d{1,20})\+\}$/;

interface Pending {
  tag: string;
  name: string;
  tokenizer: ArgTokenizer;
  /** Octets of the command so far, literals included. */
  size: number;
  /** Largest literal allowed. */
  maxLiteral: number;
  /** Largest command allowed. */
  maxSize: number;
}

export class CommandReader {
  readonly #queue = new ByteQueue();
  readonly #limits: ReaderLimits;
  /** Bytes of the current line already searched for LF. */
  #scanned = 0;
  #cmd: Pending | null = null;
  /** Octets of a literal being waited for (the command is `#cmd`). */
  #literal: number | null = null;
  /** Octets still to drop (a literal of a command refused). */
  #skip = 0;
  /** Dropping the rest of a refused command: lines, and the non-synchronising literals they announce. */
  #skipCommand = false;
  /** Dropping input through the next LF (after an over-long line). */
  #discardLine = false;

  /**
   * While set, every command, APPEND included, is limited to this many octets, literals included: the
   * session sets it until the client has logged in, so a client that has not cannot make the server hold
   * a message-sized literal (ImapLimits.maxCommandSizeBeforeLogin).
   */
  commandSizeLimit: number | null = null;

  constructor(limits: ReaderLimits) {
    this.#limits = limits;
  }

  push(chunk: Buffer): void {
    this.#queue.push(chunk);
  }

  /** Bytes received and not consumed yet. */
  get buffered(): number {
    return this.#queue.length;
  }

  /** Whether a command has started (part of it was read). */
  get midCommand(): boolean {
    return this.#cmd !== null;
  }

  /** Removes and returns the bytes not consumed yet, as received (the proxy hand-over after LOGIN). */
  takeAll(): Buffer {
    const rest = this.#queue.take(this.#queue.length);
    this.clear();
    return Buffer.from(rest);
  }

  /** Drops everything (STARTTLS: nothing sent before the handshake may be executed after it). */
  clear(): void {
    this.#queue.clear();
    this.#scanned = 0;
    this.#cmd = null;
    this.#literal = null;
    this.#skip = 0;
    this.#skipCommand = false;
    this.#discardLine = false;
  }

  /** The next event. Call again after `continue`, and after a command was executed. */
  next(): ReaderEvent {
    for (;;) {
      if (this.#skip > 0) {
        this.#skip -= this.#queue.skip(this.#skip);
        if (this.#skip > 0) return { kind: 'needs-more' };
      }
      if (this.#discardLine) {
        const nl = this.#queue.indexOf(LF, 0);
        if (nl < 0) {
          this.#queue.skip(this.#queue.length);
          return { kind: 'needs-more' };
        }
        this.#queue.skip(nl + 1);
        this.#discardLine = false;
        continue;
      }
      const cmd = this.#cmd;
      if (this.#literal !== null && cmd) {
        if (this.#queue.length < this.#literal) return { kind: 'needs-more' };
        const data = this.#queue.take(this.#literal);
        this.#literal = null;
        const r = cmd.tokenizer.literal(data);
        if (r?.kind === 'error') return this.#fail(cmd.tag, r.text, null);
        continue;
      }
      const line = this.#line(this.#limits.maxLineLength);
      if (line.kind === 'needs-more') return line;
      if (line.kind === 'too-long') {
        // The tag of a command whose first line is too long can still be read from its start (still
        // buffered: it is dropped on the next round): the client then gets its tagged BAD (RFC 9051
        // §7.1.5: untagged BAD is for commands whose tag is unknown).
        const m = cmd ? null : TAG_AND_SPACE.exec(this.#queue.peek(MAX_TAG_PEEK).toString('latin1'));
        const tag = cmd?.tag ?? m?.[1] ?? null;
        this.#cmd = null;
        this.#skipCommand = false;
        return { kind: 'error', tag, status: 'BAD', code: null, text: 'Line too long', fatal: false };
      }
      if (this.#skipCommand) {
        const m = NONSYNC_AT_END.exec(line.line.toString('latin1'));
        if (m) this.#skip = Number(m[1]);
        else this.#skipCommand = false;
        continue;
      }
      const event = cmd ? this.#continueCommand(cmd, line.line, 0) : this.#startCommand(line.line);
      if (event) return event;
    }
  }

  /**
   * The next raw line (AUTHENTICATE responses, IDLE's DONE), at most `maxLength` octets with its CRLF.
   * Only between commands.
   */
  nextLine(maxLength: number): LineEvent {
    if (this.#cmd !== null || this.#skip > 0 || this.#skipCommand) {
      throw new Error('CommandReader.nextLine called in the middle of a command');
    }
    if (this.#discardLine) {
      const nl = this.#queue.indexOf(LF, 0);
      if (nl < 0) {
        this.#queue.skip(this.#queue.length);
        return { kind: 'needs-more' };
      }
      this.#queue.skip(nl + 1);
      this.#discardLine = false;
    }
    return this.#line(maxLength);
  }

  #line(maxLength: number): LineEvent {
    const nl = this.#queue.indexOf(LF, this.#scanned, maxLength);
    if (nl < 0) {
      if (this.#queue.length >= maxLength) {
        this.#scanned = 0;
        this.#discardLine = true;
        return { kind: 'too-long' };
      }
      this.#scanned = this.#queue.length;
      return { kind: 'needs-more' };
    }
    this.#scanned = 0;
    const raw = this.#queue.take(nl + 1);
    const end = nl > 0 && raw[nl - 1] === CR ? nl - 1 : nl;
    return { kind: 'line', line: raw.subarray(0, end) };
  }

  #startCommand(line: Buffer): ReaderEvent | null {
    // Empty lines between commands are ignored (some clients send a stray CRLF).
    if (line.length === 0) return null;
    const text = line.toString('latin1');
    const tag = TAG.exec(text)?.[0];
    if (tag === undefined || (text.length > tag.length && text[tag.length] !== ' ')) {
      return this.#fail(null, 'Error in IMAP command received by server.', line);
    }
    const rest = text.slice(tag.length + 1);
    const name = NAME.exec(rest)?.[0];
    if (name === undefined || (rest.length > name.length && rest[name.length] !== ' ')) {
      return this.#fail(tag, 'Error in IMAP command received by server.', line);
    }
    const upper = name.toUpperCase();
    const limit = this.commandSizeLimit;
    const append = upper === 'APPEND' && limit === null;
    const maxCommand =
      limit === null ? this.#limits.maxCommandSize : Math.min(this.#limits.maxCommandSize, limit);
    const cmd: Pending = {
      tag,
      name: upper,
      tokenizer: new ArgTokenizer(this.#limits),
      size: 0,
      maxLiteral: append ? this.#limits.maxLiteralSize : maxCommand,
      maxSize: (append ? this.#limits.maxLiteralSize : 0) + maxCommand,
    };
    this.#cmd = cmd;
    return this.#continueCommand(cmd, line, tag.length + 1 + name.length);
  }

  #continueCommand(cmd: Pending, line: Buffer, start: number): ReaderEvent | null {
    cmd.size += line.length + 2;
    if (cmd.size > cmd.maxSize) return this.#tooBig(cmd, line, false);
    const r = cmd.tokenizer.feed(line, start);
    switch (r.kind) {
      case 'error':
        return this.#fail(cmd.tag, r.text, line);
      case 'end':
        this.#cmd = null;
        return { kind: 'command', command: { tag: cmd.tag, name: cmd.name, args: cmd.tokenizer.args } };
      case 'literal':
        if (r.size > cmd.maxLiteral || cmd.size + r.size > cmd.maxSize)
          return this.#tooBig(cmd, line, r.sync);
        cmd.size += r.size;
        this.#literal = r.size;
        return r.sync ? { kind: 'continue', tag: cmd.tag } : null;
    }
  }

  /** A syntax error: the command is dropped, and what the client still sends of it will be skipped. */
  #fail(tag: string | null, text: string, line: Buffer | null): ReaderEvent {
    this.#cmd = null;
    this.#literal = null;
    const m = line ? NONSYNC_AT_END.exec(line.toString('latin1')) : null;
    if (m) {
      this.#skip = Number(m[1]);
      this.#skipCommand = true;
    }
    return { kind: 'error', tag, status: 'BAD', code: null, text, fatal: false };
  }

  #tooBig(cmd: Pending, line: Buffer, sync: boolean): ReaderEvent {
    this.#cmd = null;
    this.#literal = null;
    const append = cmd.name === 'APPEND';
    const announcesNonSync = NONSYNC_AT_END.test(line.toString('latin1'));
    return {
      kind: 'error',
      tag: cmd.tag,
      status: append ? 'NO' : 'BAD',
      code: 'TOOBIG',
      text: append ? 'Message too large' : 'Command too large',
      // A synchronising literal is simply not sent; a non-synchronising one is on its way.
      fatal: !sync && announcesNonSync,
    };
  }
}
