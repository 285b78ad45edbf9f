/**
 * SEARCH keys (RFC 3501 §6.4.4, RFC 9051 §6.4.4, RFC 7162 §3.1.5 MODSEQ) into a tree. Keys are
 * case-insensitive; consecutive keys are ANDed; `(...)` groups; OR and NOT take keys.
 */
import { badCommand, refused } from '../errors.js';
import { argText, parseNumberArg } from '../parser/args.js';
import { type Day, parseSearchDate } from '../parser/datetime.js';
import { parseSequenceSet, type SequenceSet } from '../parser/sequence.js';
import type { Arg } from '../parser/types.js';

export type SearchKey =
  | { k: 'all' }
  | { k: 'none' }
  | { k: 'flag'; flag: string; set: boolean }
  | { k: 'header'; field: string; value: string }
  | { k: 'body'; value: string }
  | { k: 'text'; value: string }
  | { k: 'internal'; op: 'before' | 'on' | 'since'; day: Day }
  | { k: 'sent'; op: 'before' | 'on' | 'since'; day: Day }
  | { k: 'size'; op: 'larger' | 'smaller'; n: number }
  | { k: 'seq'; set: SequenceSet }
  | { k: 'uid'; set: SequenceSet }
  /** `$` or `UID $`: the saved search result (SEARCHRES, RFC 5182 §2.1). */
  | { k: 'saved' }
  /** \Recent in this session (RFC 3501 §6.4.4 RECENT; NEW is RECENT UNSEEN, OLD is NOT RECENT). */
  | { k: 'recent' }
  | { k: 'modseq'; modSeq: number }
  | { k: 'not'; key: SearchKey }
  | { k: 'or'; a: SearchKey; b: SearchKey }
  | { k: 'and'; keys: SearchKey[] };

/**
 * ESEARCH result options (RFC 4731 §3.1, RFC 9051 §6.4.4), SAVE (RFC 5182 §2.1), and CONTEXT=SEARCH's
 * UPDATE, CONTEXT and PARTIAL (RFC 5267 §4.1).
 */
export type ReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE' | 'UPDATE' | 'CONTEXT' | 'PARTIAL';
const RETURN_OPTIONS = new Set<string>([
  'MIN',
  'MAX',
  'ALL',
  'COUNT',
  'SAVE',
  'UPDATE',
  'CONTEXT',
  'PARTIAL',
]);

/** RFC 5267 §4.4: partial-range = number ":" number, 1-based positions in the result, low first. */
export interface PartialRange {
  low: number;
  high: number;
}

export interface SearchQuery {
  key: SearchKey;
  /** The query uses MODSEQ: the response ends with (MODSEQ highest) (RFC 7162 §3.1.5). */
  usesModSeq: boolean;
  /** RETURN (...) options; null without RETURN. `RETURN ()` means ALL. */
  returns: Set<ReturnOption> | null;
  /** RETURN (PARTIAL low:high), RFC 5267 §4.4. */
  partial: PartialRange | null;
}

function parsePartialRange(a: Arg | undefined): PartialRange {
  const m = a?.kind === 'atom' ? /^(\d{1,10}):(\d{1,10})$/.exec(a.value) : null;
  const x = m ? Number(m[1]) : 0;
  const y = m ? Number(m[2]) : 0;
  if (!m || x < 1 || y < 1 || x > 0xffffffff || y > 0xffffffff) throw badCommand('Invalid partial range');
  return { low: Math.min(x, y), high: Math.max(x, y) };
}

/** Charsets SEARCH accepts (RFC 9051 §6.4.4: US-ASCII and UTF-8 are required). */
export const SEARCH_CHARSETS = ['UTF-8', 'US-ASCII'];

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};

const HEADER_KEYS: Record<string, string> = {
  BCC: 'bcc',
  CC: 'cc',
  FROM: 'from',
  SUBJECT: 'subject',
  TO: 'to',
};

class Keys {
  i = 0;
  usesModSeq = false;
  constructor(readonly args: readonly Arg[]) {}

  next(what: string): Arg {
    const a = this.args[this.i++];
    if (!a) throw badCommand(`Missing ${what}`);
    return a;
  }

  string(what: string): string {
    return argText(this.next(what), what);
  }

  atom(what: string): string {
    const a = this.next(what);
    if (a.kind !== 'atom') throw badCommand(`Invalid ${what}`);
    return a.value;
  }

  date(): Day {
    const a = this.next('date');
    const day = parseSearchDate(argText(a, 'date'));
    if (day === undefined) throw badCommand('Invalid search date');
    return day;
  }
}

function parseKey(keys: Keys, depth: number): SearchKey {
  if (depth > 64) throw badCommand('Too deep search key nesting');
  const a = keys.next('search key');
  if (a.kind === 'list') {
    if (a.items.length === 0) throw badCommand('Empty search key list');
    return parseAll(new Keys(a.items), depth + 1, keys);
  }
  if (a.kind !== 'atom') throw badCommand('Invalid search key');
  const name = a.value.toUpperCase();
  const flag = FLAG_KEYS[name];
  if (flag) return { k: 'flag', flag: flag[0], set: flag[1] };
  const header = HEADER_KEYS[name];
  if (header) return { k: 'header', field: header, value: keys.string('search string') };
  switch (name) {
    case 'ALL':
      return { k: 'all' };
    case 'OLD':
      return { k: 'not', key: { k: 'recent' } };
    case 'NEW':
      return { k: 'and', keys: [{ k: 'recent' }, { k: 'flag', flag: '\\Seen', set: false }] };
    case 'RECENT':
      return { k: 'recent' };
    case 'KEYWORD':
      return { k: 'flag', flag: keys.atom('keyword'), set: true };
    case 'UNKEYWORD':
      return { k: 'flag', flag: keys.atom('keyword'), set: false };
    case 'HEADER': {
      const field = keys.string('header field name').toLowerCase();
      return { k: 'header', field, value: keys.string('search string') };
    }
    case 'BODY':
      return { k: 'body', value: keys.string('search string') };
    case 'TEXT':
      return { k: 'text', value: keys.string('search string') };
    case 'BEFORE':
      return { k: 'internal', op: 'before', day: keys.date() };
    case 'ON':
      return { k: 'internal', op: 'on', day: keys.date() };
    case 'SINCE':
      return { k: 'internal', op: 'since', day: keys.date() };
    case 'SENTBEFORE':
      return { k: 'sent', op: 'before', day: keys.date() };
    case 'SENTON':
      return { k: 'sent', op: 'on', day: keys.date() };
    case 'SENTSINCE':
      return { k: 'sent', op: 'since', day: keys.date() };
    case 'LARGER':
      return { k: 'size', op: 'larger', n: parseNumberArg(keys.atom('size'), 'size', { max64: true }) };
    case 'SMALLER':
      return { k: 'size', op: 'smaller', n: parseNumberArg(keys.atom('size'), 'size', { max64: true }) };
    case '$':
      return { k: 'saved' };
    case 'UID': {
      const text = keys.atom('UID set');
      if (text === '$') return { k: 'saved' };
      const set = parseSequenceSet(text);
      if (!set) throw badCommand('Invalid UID set');
      return { k: 'uid', set };
    }
    case 'NOT':
      return { k: 'not', key: parseKey(keys, depth + 1) };
    case 'OR': {
      const a1 = parseKey(keys, depth + 1);
      const b1 = parseKey(keys, depth + 1);
      return { k: 'or', a: a1, b: b1 };
    }
    case 'MODSEQ': {
      keys.usesModSeq = true;
      // RFC 7162 §3.1.5: MODSEQ [entry-name entry-type-req] mod-sequence-valzer.
      let value = keys.next('mod-sequence');
      if (value.kind === 'string') {
        keys.atom('entry type');
        value = keys.next('mod-sequence');
      }
      if (value.kind !== 'atom') throw badCommand('Invalid mod-sequence');
      return { k: 'modseq', modSeq: parseNumberArg(value.value, 'mod-sequence', { max64: true }) };
    }
    default: {
      const set = parseSequenceSet(a.value);
      if (set) return { k: 'seq', set };
      throw badCommand(`Unknown search key ${name.slice(0, 40)}`);
    }
  }
}

function parseAll(keys: Keys, depth: number, parent?: Keys): SearchKey {
  const list: SearchKey[] = [];
  while (keys.i < keys.args.length) list.push(parseKey(keys, depth));
  if (parent && keys.usesModSeq) parent.usesModSeq = true;
  return list.length === 1 ? (list[0] as SearchKey) : { k: 'and', keys: list };
}

/** Parses `[RETURN (options)] [CHARSET name] keys...`. */
export function parseSearch(args: readonly Arg[]): SearchQuery {
  let rest = args;
  let returns: Set<ReturnOption> | null = null;
  let partial: PartialRange | null = null;
  const head = rest[0];
  if (head?.kind === 'atom' && head.value.toUpperCase() === 'RETURN') {
    const opts = rest[1];
    if (opts?.kind !== 'list') throw badCommand('RETURN needs a list of options');
    returns = new Set();
    for (let i = 0; i < opts.items.length; i++) {
      const o = opts.items[i] as Arg;
      const name = o.kind === 'atom' ? o.value.toUpperCase() : '';
      if (!RETURN_OPTIONS.has(name)) throw badCommand('Invalid search return option');
      if (name === 'PARTIAL') partial = parsePartialRange(opts.items[++i]);
      returns.add(name as ReturnOption);
    }
    // RFC 4731 §3.1: RETURN () is RETURN (ALL) (RETURN (UPDATE) alone asks for no result, RFC 5267 §4.2).
    if (returns.size === 0) returns.add('ALL');
    if (returns.has('PARTIAL') && returns.has('ALL')) throw badCommand('PARTIAL and ALL together');
    rest = rest.slice(2);
  }
  const first = rest[0];
  if (first?.kind === 'atom' && first.value.toUpperCase() === 'CHARSET') {
    const cs = rest[1];
    if (!cs || cs.kind === 'list') throw badCommand('Missing charset');
    const name = argText(cs, 'charset').toUpperCase();
    if (!SEARCH_CHARSETS.includes(name)) {
      throw refused('BADCHARSET', 'Unsupported charset');
    }
    rest = rest.slice(2);
  }
  if (rest.length === 0) throw badCommand('Missing search keys');
  const keys = new Keys(rest);
  const key = parseAll(keys, 0);
  return { key, usesModSeq: keys.usesModSeq, returns, partial };
}
