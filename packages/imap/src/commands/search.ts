/**
 * SEARCH / UID SEARCH [CHARSET name] keys: RFC 9051 §6.4.4 (RFC 3501 response form `* SEARCH n...`),
 * RFC 7162 §3.1.5 (MODSEQ key; the response then ends with `(MODSEQ highest)`). CHARSET other than UTF-8
 * or US-ASCII: `NO [BADCHARSET (UTF-8 US-ASCII)]`.
 */
import type { MessageMeta } from '@delegato/mailstore';
import { type Completion, command, type ImapContext } from '../context.js';
import { ImapError } from '../errors.js';
import { type Candidate, search } from '../search/evaluate.js';
import { parseSearch, SEARCH_CHARSETS, type SearchQuery } from '../search/parse.js';
import { loadMessage } from './fetch.js';

async function runSearch(ctx: ImapContext, q: SearchQuery, byUid: boolean): Promise<Completion | undefined> {
  if (q.usesModSeq) ctx.enable('CONDSTORE');
  const view = ctx.selected;
  const metas = new Map<number, MessageMeta>();
  for (const m of await ctx.services.backend.listMessages(ctx.user.id, view.folder)) metas.set(m.uid, m);
  const candidates: Candidate[] = [];
  view.uids.forEach((uid, i) => {
    const meta = metas.get(uid);
    if (meta) candidates.push({ seq: i + 1, meta });
  });
  const found = await search(q.key, candidates, {
    count: view.count,
    maxUid: view.uids[view.uids.length - 1] ?? 0,
    load: (meta) => loadMessage(ctx, meta),
  });
  const numbers = found.map((c) => (byUid ? c.meta.uid : c.seq));
  let modseq = '';
  if (q.usesModSeq && found.length > 0) {
    modseq = ` (MODSEQ ${Math.max(...found.map((c) => c.meta.modSeq))})`;
  }
  await ctx.untagged(`SEARCH${numbers.map((n) => ` ${n}`).join('')}${modseq}`);
  return undefined;
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
