/**
 * The argument tokenizer: the text of a command after its name, line by line, with the literals between
 * the lines (RFC 9051 §4.3: a literal is announced by `{n}` or `{n+}` at the end of a line, and its octets
 * follow the CRLF). Pure: no I/O. The reader (`reader.ts`) feeds it lines and literal data.
 *
 * Grammar accepted (RFC 9051 §4 and §9):
 * - atoms: any run of CHARs except SP, `(`, `)`, `"`, `{` and controls; a `[` inside an atom opens a
 *   bracketed part that may hold spaces, lists and quoted strings up to the matching `]` (fetch sections,
 *   `BODY[HEADER.FIELDS (From To)]<0.100>`), as Dovecot's parser does. 8-bit octets are accepted in atoms
 *   and quoted strings (UTF-8, RFC 9051 §4.3 / RFC 6855).
 * - quoted strings with the escapes `\\` and `\"` only (RFC 9051 §9 quoted-specials).
 * - literals `{n}` (synchronising) and `{n+}` (non-synchronising, LITERAL+ RFC 7888), and their literal8
 *   forms `~{n}` (BINARY, RFC 3516 §4.1), only at a line end.
 * - parenthesised lists, nested at most `maxNesting` deep.
 * Separators: one or more spaces (RFC 9051 requires exactly one; being lenient costs nothing).
 */
import type { Arg } from './types.js';

export type LineResult =
  /** The command is complete. */
  | { kind: 'end' }
  /** The line announced a literal: feed its `size` octets with `literal()`, then the next line. */
  | { kind: 'literal'; size: number; sync: boolean }
  | { kind: 'error'; text: string };

export interface TokenizerLimits {
  maxNesting: number;
  maxArguments: number;
}

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LPAREN = 0x28;
const RPAREN = 0x29;
const LBRACE = 0x7b;
const TILDE = 0x7e;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

/** `{123}` or `{123+}` and nothing after it. */
const LITERAL = /^\{(\d{1,20})(\+?)\}$/;

function isCtl(c: number): boolean {
  return c < 0x20 || c === 0x7f;
}

export class ArgTokenizer {
  readonly #root: Arg[] = [];
  readonly #stack: Arg[][] = [this.#root];
  #count = 0;
  #awaitingLiteral = false;

  constructor(private readonly limits: TokenizerLimits) {}

  /** The arguments parsed so far (complete once `feed` returned `end`). */
  get args(): Arg[] {
    return this.#root;
  }

  /** Feeds one line (without its CRLF), from byte `start`. */
  feed(line: Buffer, start = 0): LineResult {
    if (this.#awaitingLiteral) return { kind: 'error', text: 'Literal data expected' };
    let i = start;
    const n = line.length;
    while (i < n) {
      const c = line[i] as number;
      if (c === SP) {
        i++;
        continue;
      }
      if (c === LPAREN) {
        if (this.#stack.length > this.limits.maxNesting) return { kind: 'error', text: 'Too deep nesting' };
        const list: Arg = { kind: 'list', items: [] };
        const err = this.#add(list);
        if (err) return err;
        this.#stack.push(list.items);
        i++;
        continue;
      }
      if (c === RPAREN) {
        if (this.#stack.length === 1) return { kind: 'error', text: "Unexpected ')'" };
        this.#stack.pop();
        i++;
        continue;
      }
      if (c === DQUOTE) {
        const r = readQuoted(line, i);
        if (typeof r === 'string') return { kind: 'error', text: r };
        const err = this.#add({ kind: 'string', value: r.value, literal: false });
        if (err) return err;
        i = r.end;
        continue;
      }
      // `~{n}`: a literal8 (RFC 3516 §4.1: may hold NUL; APPEND of binary messages).
      if (c === LBRACE || (c === TILDE && line[i + 1] === LBRACE)) {
        const m = LITERAL.exec(line.toString('latin1', c === TILDE ? i + 1 : i));
        if (!m) return { kind: 'error', text: 'Invalid literal' };
        const size = Number(m[1]);
        if (!Number.isSafeInteger(size)) return { kind: 'error', text: 'Literal too large' };
        this.#awaitingLiteral = true;
        return { kind: 'literal', size, sync: m[2] !== '+' };
      }
      const r = readAtom(line, i);
      if (typeof r === 'string') return { kind: 'error', text: r };
      const err = this.#add({ kind: 'atom', value: line.toString('utf8', i, r) });
      if (err) return err;
      i = r;
    }
    if (this.#stack.length > 1) return { kind: 'error', text: "Missing ')'" };
    return { kind: 'end' };
  }

  /** The octets of the literal the last line announced. */
  literal(data: Buffer): LineResult | undefined {
    if (!this.#awaitingLiteral) return { kind: 'error', text: 'Unexpected literal' };
    this.#awaitingLiteral = false;
    return this.#add({ kind: 'string', value: data, literal: true });
  }

  #add(arg: Arg): LineResult | undefined {
    if (++this.#count > this.limits.maxArguments) return { kind: 'error', text: 'Too many arguments' };
    (this.#stack[this.#stack.length - 1] as Arg[]).push(arg);
    return undefined;
  }
}

/** A quoted string starting at `start` (the DQUOTE): its value and the index after the closing DQUOTE. */
function readQuoted(line: Buffer, start: number): { value: Buffer; end: number } | string {
  const parts: Buffer[] = [];
  let from = start + 1;
  for (let i = from; i < line.length; i++) {
    const c = line[i] as number;
    if (c === DQUOTE) {
      parts.push(line.subarray(from, i));
      return { value: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), end: i + 1 };
    }
    if (c === BACKSLASH) {
      const next = line[i + 1];
      if (next !== DQUOTE && next !== BACKSLASH) return 'Invalid escape in quoted string';
      parts.push(line.subarray(from, i));
      from = i + 1;
      i++;
      continue;
    }
    if (c === 0) return 'NUL in quoted string';
  }
  return "Missing '\"'";
}

/**
 * An atom starting at `start`: returns the index after it, or an error text. A `[` opens a bracketed
 * part that ends at the matching `]` and may contain spaces, parentheses and quoted strings.
 */
function readAtom(line: Buffer, start: number): number | string {
  let i = start;
  let depth = 0;
  let inQuote = false;
  while (i < line.length) {
    const c = line[i] as number;
    if (isCtl(c)) return 'Invalid characters in atom';
    if (depth > 0) {
      if (inQuote) {
        if (c === BACKSLASH) i++;
        else if (c === DQUOTE) inQuote = false;
      } else if (c === DQUOTE) inQuote = true;
      else if (c === LBRACKET) depth++;
      else if (c === RBRACKET) depth--;
      else if (c === LBRACE) return 'Invalid characters in atom';
      i++;
      continue;
    }
    if (c === SP || c === LPAREN || c === RPAREN) break;
    if (c === DQUOTE || c === LBRACE) return 'Invalid characters in atom';
    if (c === LBRACKET) depth++;
    i++;
  }
  // An unclosed `[` is an ordinary atom character (RFC 9051 §9: `[` is not an atom-special; a mailbox
  // name such as `a[}` is an atom): the atom ends at the first space or parenthesis after its start.
  if (depth > 0 || inQuote) return readPlainAtom(line, start);
  return i;
}

/** An atom without bracketed parts: up to SP, `(`, `)`; DQUOTE, `{` and controls are errors. */
function readPlainAtom(line: Buffer, start: number): number | string {
  let i = start;
  while (i < line.length) {
    const c = line[i] as number;
    if (c === SP || c === LPAREN || c === RPAREN) break;
    if (isCtl(c) || c === DQUOTE || c === LBRACE) return 'Invalid characters in atom';
    i++;
  }
  return i;
}
