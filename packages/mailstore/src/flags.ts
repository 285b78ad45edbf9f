/**
 * Message flags: the IMAP system flags (stored with their canonical case, matched case-insensitively) and
 * keywords (IMAP atoms, matched case-insensitively, stored with the case first given). `\Recent` is
 * session state, never stored: it is dropped from any input.
 */
import { type FlagOperation, StoreError } from './backend.js';

export const SYSTEM_FLAGS: readonly string[] = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'];

const SYSTEM_BY_KEY = new Map(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));

/** atom = 1*ATOM-CHAR; ATOM-CHAR is any CHAR except atom-specials ( ) { SP CTL % * " \ ] (RFC 9051 §9). */
const KEYWORD = /^[\x21\x23\x24\x26\x27\x2b-\x5b\x5e-\x7a\x7c-\x7e]+$/;

/** Validates and normalises flags: canonical system flags, no duplicates (case-insensitive), input order kept. */
export function normalizeFlags(flags: readonly string[]): string[] {
  const out: string[] = [];
  const keys = new Set<string>();
  for (const flag of flags) {
    if (typeof flag !== 'string') throw new StoreError('invalid-flag', 'a flag must be a string');
    const key = flag.toLowerCase();
    if (key === '\\recent') continue;
    let stored: string;
    if (flag.startsWith('\\')) {
      const system = SYSTEM_BY_KEY.get(key);
      if (system === undefined)
        throw new StoreError('invalid-flag', `unknown system flag ${JSON.stringify(flag)}`);
      stored = system;
    } else if (KEYWORD.test(flag)) {
      stored = flag;
    } else {
      throw new StoreError('invalid-flag', `invalid keyword ${JSON.stringify(flag)}`);
    }
    if (!keys.has(key)) {
      keys.add(key);
      out.push(stored);
    }
  }
  return out;
}

/**
 * Applies a STORE operation to a message's (normalised) flags; `flags` must be normalised. Returns the new
 * flags, or null when nothing changes (so the MODSEQ is not bumped). Existing flags keep their order and
 * case; added ones are appended.
 */
export function applyFlags(
  current: readonly string[],
  op: FlagOperation,
  flags: readonly string[],
): string[] | null {
  const currentKeys = new Map(current.map((f) => [f.toLowerCase(), f]));
  switch (op) {
    case 'set': {
      const next = flags.map((f) => currentKeys.get(f.toLowerCase()) ?? f);
      if (next.length === current.length && next.every((f) => currentKeys.has(f.toLowerCase()))) return null;
      return next;
    }
    case 'add': {
      const added = flags.filter((f) => !currentKeys.has(f.toLowerCase()));
      return added.length === 0 ? null : [...current, ...added];
    }
    case 'remove': {
      const removed = new Set(flags.map((f) => f.toLowerCase()));
      const kept = current.filter((f) => !removed.has(f.toLowerCase()));
      return kept.length === current.length ? null : kept;
    }
  }
}

/** Whether normalised flags contain a system flag (exact canonical match). */
export function hasFlag(flags: readonly string[], flag: string): boolean {
  return flags.includes(flag);
}
