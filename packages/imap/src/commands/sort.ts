/**
 * SORT / UID SORT [RETURN (options)] (criteria) charset search-keys: RFC 5256 §3 (SORT), RFC 5957
 * (DISPLAYFROM, DISPLAYTO), RFC 5267 §3 (ESORT: RETURN MIN, MAX, ALL, COUNT answered with ESEARCH, ALL in
 * sorted order). The search keys are SEARCH's (RFC 9051 §6.4.4); the charset is required (RFC 5256 §3:
 * US-ASCII and UTF-8 at least; others `NO [BADCHARSET]`).
 */
import { type Completion, command, type ImapContext } from '../context.js';
import { badCommand, ImapError } from '../errors.js';
import { enableCondstore } from '../mailbox/condstore.js';
import { formatOrderedSet } from '../parser/sequence.js';
import type { Arg } from '../parser/types.js';
import { parseSearch, SEARCH_CHARSETS, type SearchQuery } from '../search/parse.js';
import { searchSelected } from '../search/run.js';
import { needsAddresses, parseSortCriteria, type SortCriterion, sortMessages } from '../sort/criteria.js';
import { sortValues } from '../sort/values.js';
import { quoted } from '../wire.js';

/** ESORT result options (RFC 5267 §3.1). */
export type SortReturn = 'MIN' | 'MAX' | 'ALL' | 'COUNT';
const SORT_RETURNS = new Set<string>(['MIN', 'MAX', 'ALL', 'COUNT']);

export interface SortArgs {
  criteria: SortCriterion[];
  query: SearchQuery;
  /** RETURN (...) options; null without RETURN (a plain `* SORT` response). */
  returns: Set<SortReturn> | null;
}

/**
 * The keys after `charset` of SORT and THREAD, read by SEARCH's parser (`CHARSET name keys...`), so
 * BADCHARSET and every key behave as in SEARCH.
 */
export function parseCharsetAndKeys(rest: readonly Arg[]): SearchQuery {
  const charset = rest[0];
  if (!charset || charset.kind === 'list') throw badCommand('Missing charset');
  if (rest.length < 2) throw badCommand('Missing search keys');
  try {
    return parseSearch([{ kind: 'atom', value: 'CHARSET' }, ...rest]);
  } catch (error) {
    if (error instanceof ImapError && error.code === 'BADCHARSET') {
      throw new ImapError('NO', `BADCHARSET (${SEARCH_CHARSETS.join(' ')})`, error.message);
    }
    throw error;
  }
}

function parseSort(args: readonly Arg[]): SortArgs {
  let rest = args;
  let returns: Set<SortReturn> | null = null;
  const head = rest[0];
  if (head?.kind === 'atom' && head.value.toUpperCase() === 'RETURN') {
    const opts = rest[1];
    if (opts?.kind !== 'list') throw badCommand('RETURN needs a list of options');
    returns = new Set();
    for (const o of opts.items) {
      const name = o.kind === 'atom' ? o.value.toUpperCase() : '';
      if (!SORT_RETURNS.has(name)) throw badCommand('Invalid sort return option');
      returns.add(name as SortReturn);
    }
    // RFC 5267 §3.1 (as RFC 4731 §3.1): RETURN () is RETURN (ALL).
    if (returns.size === 0) returns.add('ALL');
    rest = rest.slice(2);
  }
  const list = rest[0];
  if (list?.kind !== 'list') throw badCommand('Sort criteria expected');
  const criteria = parseSortCriteria(list.items);
  return { criteria, query: parseCharsetAndKeys(rest.slice(1)), returns };
}

async function runSort(ctx: ImapContext, args: SortArgs, byUid: boolean): Promise<Completion | undefined> {
  if (args.query.usesModSeq) await enableCondstore(ctx);
  const found = await searchSelected(ctx, args.query.key);
  const values = await sortValues(ctx, found, {
    addresses: needsAddresses(args.criteria),
    references: false,
  });
  const sorted = sortMessages(values, args.criteria);
  const numbers = sorted.map((v) => (byUid ? v.uid : v.seq));
  if (!args.returns) {
    await ctx.untagged(`SORT${numbers.map((n) => ` ${n}`).join('')}`);
    return undefined;
  }
  // RFC 5267 §3.2: MIN and MAX are the first and last in sort order; ALL keeps the sort order.
  let out = `ESEARCH (TAG ${quoted(ctx.tag)})${byUid ? ' UID' : ''}`;
  if (numbers.length > 0) {
    if (args.returns.has('MIN')) out += ` MIN ${numbers[0]}`;
    if (args.returns.has('MAX')) out += ` MAX ${numbers[numbers.length - 1]}`;
    if (args.returns.has('ALL')) out += ` ALL ${formatOrderedSet(numbers)}`;
  }
  if (args.returns.has('COUNT')) out += ` COUNT ${numbers.length}`;
  await ctx.untagged(out);
  return undefined;
}

export const sort = command<SortArgs>({
  name: 'SORT',
  states: ['selected'],
  holdExpunges: true,
  parse: parseSort,
  handle: (ctx, args) => runSort(ctx, args, false),
});

export const uidSort = command<SortArgs>({
  name: 'UID SORT',
  states: ['selected'],
  parse: parseSort,
  handle: (ctx, args) => runSort(ctx, args, true),
});
