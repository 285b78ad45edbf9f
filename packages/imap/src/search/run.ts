/**
 * SEARCH keys over the selected mailbox (SEARCH, SORT, THREAD): the messages the client knows, with
 * their metadata, filtered by `search` (metadata first, content read only where needed).
 */
import type { MessageMeta } from '../backend.js';
import type { ImapContext } from '../context.js';
import { loadMessage } from '../fetch/bodies.js';
import { type Candidate, search } from './evaluate.js';
import type { SearchKey } from './parse.js';

/** The messages of the selected mailbox matching `key`, in mailbox order. */
export async function searchSelected(ctx: ImapContext, key: SearchKey): Promise<Candidate[]> {
  const view = ctx.selected;
  const metas = new Map<number, MessageMeta>();
  for (const m of await ctx.services.backend.listMessages(ctx.user.id, view.folder)) metas.set(m.uid, m);
  const candidates: Candidate[] = [];
  view.uids.forEach((uid, i) => {
    const meta = metas.get(uid);
    if (meta) candidates.push({ seq: i + 1, meta });
  });
  return search(key, candidates, {
    count: view.count,
    maxUid: view.uids[view.uids.length - 1] ?? 0,
    saved: new Set(ctx.savedSearch),
    isRecent: (uid) => view.isRecent(uid),
    load: (meta) => loadMessage(ctx, meta),
  });
}
