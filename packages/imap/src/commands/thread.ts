/**
 * THREAD / UID THREAD algorithm charset search-keys: RFC 5256 §3 (ORDEREDSUBJECT, REFERENCES), the
 * response `* THREAD (...)` (RFC 5256 §4). The search keys and charset are SORT's.
 */
import { type Completion, command, type ImapContext } from '../context.js';
import { badCommand } from '../errors.js';
import { enableCondstore } from '../mailbox/condstore.js';
import type { Arg } from '../parser/types.js';
import type { SearchQuery } from '../search/parse.js';
import { searchSelected } from '../search/run.js';
import { formatThreads, orderedSubject, referencesThreads } from '../sort/thread.js';
import { sortValues } from '../sort/values.js';
import { parseCharsetAndKeys } from './sort.js';

export const THREAD_ALGORITHMS = ['ORDEREDSUBJECT', 'REFERENCES'] as const;
export type ThreadAlgorithm = (typeof THREAD_ALGORITHMS)[number];

export interface ThreadArgs {
  algorithm: ThreadAlgorithm;
  query: SearchQuery;
}

function parseThread(args: readonly Arg[]): ThreadArgs {
  const a = args[0];
  const name = a?.kind === 'atom' ? a.value.toUpperCase() : '';
  if (!(THREAD_ALGORITHMS as readonly string[]).includes(name)) throw badCommand('Unknown thread algorithm');
  return { algorithm: name as ThreadAlgorithm, query: parseCharsetAndKeys(args.slice(1)) };
}

async function runThread(
  ctx: ImapContext,
  args: ThreadArgs,
  byUid: boolean,
): Promise<Completion | undefined> {
  if (args.query.usesModSeq) await enableCondstore(ctx);
  const found = await searchSelected(ctx, args.query.key);
  const references = args.algorithm === 'REFERENCES';
  const values = await sortValues(ctx, found, { addresses: false, references });
  const threads = references ? referencesThreads(values) : orderedSubject(values);
  const text = formatThreads(threads, (v) => (byUid ? v.uid : v.seq));
  await ctx.untagged(text === '' ? 'THREAD' : `THREAD ${text}`);
  return undefined;
}

export const thread = command<ThreadArgs>({
  name: 'THREAD',
  states: ['selected'],
  holdExpunges: true,
  parse: parseThread,
  handle: (ctx, args) => runThread(ctx, args, false),
});

export const uidThread = command<ThreadArgs>({
  name: 'UID THREAD',
  states: ['selected'],
  parse: parseThread,
  handle: (ctx, args) => runThread(ctx, args, true),
});
