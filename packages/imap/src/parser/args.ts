/**
 * Reading typed arguments from the generic tree (`Arg[]`) in a command's pure `parse`. Every failure
 * throws a BAD `ImapError` naming what was expected.
 */
import { canonicalFolderName } from '../backend.js';
import { badCommand, ImapError } from '../errors.js';
import { decodeMutf7 } from '../mutf7.js';
import { parseSequenceSet, SAVED, type SetArg } from './sequence.js';
import type { Arg } from './types.js';

/**
 * What parsing depends on besides the arguments: whether the session enabled IMAP4rev2 (RFC 9051 §5.1:
 * mailbox names are UTF-8 then, not modified UTF-7).
 */
export interface ParseEnv {
  utf8: boolean;
}

export const RFC3501_ENV: ParseEnv = Object.freeze({ utf8: false });

export class ArgReader {
  #i = 0;

  constructor(
    readonly args: readonly Arg[],
    readonly env: ParseEnv = RFC3501_ENV,
    private readonly what = 'arguments',
  ) {}

  get remaining(): number {
    return this.args.length - this.#i;
  }

  peek(): Arg | undefined {
    return this.args[this.#i];
  }

  /** The next argument, whatever it is. */
  any(name: string): Arg {
    const a = this.args[this.#i];
    if (!a) throw badCommand(`Missing ${name}`);
    this.#i++;
    return a;
  }

  /** An atom (its text as sent). */
  atom(name: string): string {
    const a = this.any(name);
    if (a.kind !== 'atom') throw badCommand(`Invalid ${name}: atom expected`);
    return a.value;
  }

  /** `astring` (atom or string) as UTF-8 text. */
  astring(name: string): string {
    return argText(this.any(name), name);
  }

  /** `astring` as bytes. */
  astringBytes(name: string): Buffer {
    const a = this.any(name);
    if (a.kind === 'atom') return Buffer.from(a.value, 'utf8');
    if (a.kind === 'string') return a.value;
    throw badCommand(`Invalid ${name}: string expected`);
  }

  /** A parenthesised list's items. */
  list(name: string): Arg[] {
    const a = this.any(name);
    if (a.kind !== 'list') throw badCommand(`Invalid ${name}: list expected`);
    return a.items;
  }

  /** An unsigned number (RFC 9051 §9 `number`; `number64` with `max64`). */
  number(name: string, opts: { min?: number; max64?: boolean } = {}): number {
    return parseNumberArg(this.atom(name), name, opts);
  }

  /** A mailbox name (RFC 9051 §9 `mailbox`), decoded and with INBOX canonical. */
  mailbox(name = 'mailbox name'): string {
    return decodeMailboxName(this.astringBytes(name), this.env);
  }

  /** A sequence set, or `$` (the saved search result, RFC 5182). */
  sequenceSet(name = 'sequence set'): SetArg {
    const text = this.atom(name);
    if (text === SAVED) return SAVED;
    const set = parseSequenceSet(text);
    if (!set) throw badCommand(`Invalid ${name}`);
    return set;
  }

  /** Fails when arguments are left. */
  end(): void {
    if (this.#i < this.args.length) throw badCommand(`Unexpected ${this.what} at the end of the command`);
  }
}

/** The text of an atom or string argument (UTF-8). */
export function argText(a: Arg, name: string): string {
  if (a.kind === 'atom') return a.value;
  if (a.kind === 'string') return a.value.toString('utf8');
  throw badCommand(`Invalid ${name}: string expected`);
}

export function parseNumberArg(
  text: string,
  name: string,
  opts: { min?: number; max64?: boolean } = {},
): number {
  if (!/^\d{1,20}$/.test(text)) throw badCommand(`Invalid ${name}: number expected`);
  const n = Number(text);
  const max = opts.max64 ? Number.MAX_SAFE_INTEGER : 4294967295;
  if (n > max || n < (opts.min ?? 0)) throw badCommand(`Invalid ${name}: out of range`);
  return n;
}

/**
 * A client's mailbox name as the store's name: UTF-8 once IMAP4rev2 is enabled (RFC 9051 §5.1), else
 * modified UTF-7 decoded (RFC 3501 §5.1.3) — 8-bit names (clients sending raw UTF-8) are taken as UTF-8
 * there too; `INBOX` in any case is INBOX (RFC 9051 §5.1).
 */
export function decodeMailboxName(bytes: Buffer, env: ParseEnv = RFC3501_ENV): string {
  let name: string;
  if (env.utf8 || bytes.some((b) => b > 0x7f)) {
    name = bytes.toString('utf8');
    if (name.includes('\uFFFD') && !bytes.includes(Buffer.from('\uFFFD')))
      throw badCommand('Mailbox name is not valid UTF-8');
  } else {
    const decoded = decodeMutf7(bytes.toString('latin1'));
    // A name no mailbox can have: NO, not BAD (the command is well formed; as Dovecot, and imaptest's
    // `atoms` test selects `!#$&'+,...`, whose `&'` is not modified UTF-7).
    if (decoded === null) throw new ImapError('NO', 'CANNOT', 'Mailbox name is not valid mUTF-7');
    name = decoded;
  }
  return canonicalFolderName(name);
}
