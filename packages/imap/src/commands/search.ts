/**
 * SEARCH / UID SEARCH [RETURN (options)] [CHARSET name] keys: RFC 9051 §6.4.4. Without RETURN the RFC 3501
 * response `* SEARCH n...` (ESEARCH with IMAP4rev2 enabled); with it ESEARCH (RFC 4731: MIN, MAX, ALL,
 * COUNT) and SAVE into `$` (SEARCHRES, RFC 5182); CONTEXT=SEARCH's UPDATE (a live result, search/live.ts)
 * and PARTIAL (RFC 5267 §4). MODSEQ key: RFC 7162 §3.1.5. CHARSET other than UTF-8 or US-ASCII:
 * `NO [BADCHARSET (UTF-8 US-ASCII)]`.
 */
import { type Completion, command, type ImapContext } from '../context.js';
import { ImapError, refused } from '../errors.js';
import { enableCondstore } from '../mailbox/condstore.js';
import { formatSequenceSet } from '../parser/sequence.js';
import type { Candidate } from '../search/evaluate.js';
import { LiveSearch, MAX_LIVE_SEARCHES } from '../search/live.js';
import { parseSearch, type ReturnOption, SEARCH_CHARSETS, type SearchQuery } from '../search/parse.js';
import { searchSelected } from '../search/run.js';
import { quoted } from '../wire.js';

async function runSearch(ctx: ImapContext, q: SearchQuery, byUid: boolean): Promise<Completion | undefined> {
  if (q.usesModSeq) await enableCondstore(ctx);
  try {
    return await respond(ctx, q, byUid);
  } catch (error) {
    // RFC 5182 §2.1: a failed SEARCH ... RETURN (SAVE) leaves `$` empty.
    if (q.returns?.has('SAVE')) ctx.savedSearch = [];
    throw error;
  }
}

async function respond(ctx: ImapContext, q: SearchQuery, byUid: boolean): Promise<Completion | undefined> {
  const found = await searchSelected(ctx, q.key);
  const numbers = found.map((c) => (byUid ? c.meta.uid : c.seq));
  const highest = highestModSeq(found);
  // IMAP4rev2 answers a plain SEARCH with ESEARCH too (RFC 9051 §6.4.4, §7.3.4).
  const returns = q.returns ?? (ctx.rev2 ? new Set<ReturnOption>(['ALL']) : null);
  if (!returns) {
    const modseq = q.usesModSeq && highest !== null ? ` (MODSEQ ${highest})` : '';
    await ctx.untagged(`SEARCH${numbers.map((n) => ` ${n}`).join('')}${modseq}`);
    return undefined;
  }
  const min = found[0];
  const max = found[found.length - 1];
  if (returns.has('SAVE')) {
    // RFC 5182 §2.1: with MIN and/or MAX only, just those are saved.
    const onlyEnds =
      !returns.has('ALL') && !returns.has('COUNT') && (returns.has('MIN') || returns.has('MAX'));
    const kept = onlyEnds
      ? [
          ...new Set([
            ...(returns.has('MIN') && min ? [min] : []),
            ...(returns.has('MAX') && max ? [max] : []),
          ]),
        ]
      : found;
    ctx.savedSearch = kept.map((c) => c.meta.uid);
    // RFC 5182 §2.1: SAVE alone returns no ESEARCH response.
    if (returns.size === 1) return undefined;
  }
  if (returns.has('UPDATE')) {
    // RFC 5267 §4.2: keep the result up to date until CANCELUPDATE or the mailbox is closed.
    const view = ctx.selected;
    if (view.listeners.length >= MAX_LIVE_SEARCHES) throw refused('LIMIT', 'Too many searches with UPDATE');
    view.listeners.push(new LiveSearch(ctx.tag, byUid, view, () => searchSelected(ctx, q.key), found));
  }
  let out = `ESEARCH (TAG ${quoted(ctx.tag)})${byUid ? ' UID' : ''}`;
  if (min && returns.has('MIN')) out += ` MIN ${byUid ? min.meta.uid : min.seq}`;
  if (max && returns.has('MAX')) out += ` MAX ${byUid ? max.meta.uid : max.seq}`;
  if (numbers.length > 0 && returns.has('ALL')) out += ` ALL ${formatSequenceSet(numbers)}`;
  if (returns.has('COUNT')) out += ` COUNT ${numbers.length}`;
  if (q.partial) {
    // RFC 5267 §4.4: the messages at positions low..high of the result (ascending), or NIL.
    const slice = numbers.slice(q.partial.low - 1, q.partial.high);
    out += ` PARTIAL (${q.partial.low}:${q.partial.high} ${slice.length > 0 ? formatSequenceSet(slice) : 'NIL'})`;
  }
  if (q.usesModSeq) {
    // RFC 4731 §3.2 / RFC 7162 §3.1.5: the MODSEQ of ESEARCH is the highest of the messages *returned*:
    // with only MIN and/or MAX, of those messages alone.
    const returned =
      returns.has('ALL') || returns.has('COUNT')
        ? found
        : [...(returns.has('MIN') && min ? [min] : []), ...(returns.has('MAX') && max ? [max] : [])];
    const m = highestModSeq(returned);
    if (m !== null) out += ` MODSEQ ${m}`;
  }
  await ctx.untagged(out);
  return undefined;
}

function highestModSeq(found: readonly Candidate[]): number | null {
  let m: number | null = null;
  for (const c of found) if (m === null || c.meta.modSeq > m) m = c.meta.modSeq;
  return m;
}

function parse(args: Parameters<typeof parseSearch>[0]): SearchQuery {
  try {
    return parseSearch(args);
  } catch (error) {
    if (error instanceof ImapError && error.code === 'BADCHARSET') {
      throw new ImapError('NO', `BADCHARSET (${SEARCH_CHARSETS.join(' ')})`, error.message);
    }
    throw error;
  }
}

export const searchCommand = command<SearchQuery>({
  name: 'SEARCH',
  states: ['selected'],
  holdExpunges: true,
  parse,
  handle: (ctx, q) => runSearch(ctx, q, false),
});

export const uidSearch = command<SearchQuery>({
  name: 'UID SEARCH',
  states: ['selected'],
  parse,
  handle: (ctx, q) => runSearch(ctx, q, true),
});
