/**
 * COPY / UID COPY sequence-set mailbox: RFC 9051 §6.4.7 with UIDPLUS (RFC 4315 §3: `[COPYUID uidvalidity
 * source-uids destination-uids]`). A missing destination answers `NO [TRYCREATE]`; quota `[OVERQUOTA]`.
 */
import { type CopyResult, isStoreError } from '../backend.js';
import { type Completion, command, type ImapContext } from '../context.js';
import { refused } from '../errors.js';
import { resolveTargets } from '../mailbox/resolve.js';
import { ArgReader, type ParseEnv } from '../parser/args.js';
import { formatOrderedSet, type SetArg } from '../parser/sequence.js';
import type { Arg } from '../parser/types.js';

export interface CopyArgs {
  set: SetArg;
  mailbox: string;
}

export function parseCopy(args: readonly Arg[], env?: ParseEnv): CopyArgs {
  const r = new ArgReader(args, env);
  const set = r.sequenceSet();
  const mailbox = r.mailbox();
  r.end();
  return { set, mailbox };
}

/** `COPYUID v src dst`, or null when nothing was copied. */
export function copyUid(r: CopyResult): string | null {
  if (r.sourceUids.length === 0) return null;
  return `COPYUID ${r.uidValidity} ${formatOrderedSet(r.sourceUids)} ${formatOrderedSet(r.destinationUids)}`;
}

/** Runs a store transfer, mapping a missing destination to [TRYCREATE] (RFC 9051 §6.4.7). */
export async function transfer(run: () => Promise<CopyResult>): Promise<CopyResult> {
  try {
    return await run();
  } catch (error) {
    if (isStoreError(error, 'no-such-folder')) {
      throw refused('TRYCREATE', "Mailbox doesn't exist");
    }
    throw error;
  }
}

async function copyMessages(
  ctx: ImapContext,
  args: CopyArgs,
  byUid: boolean,
): Promise<Completion | undefined> {
  const view = ctx.selected;
  const uids = resolveTargets(view, args.set, byUid, ctx.savedSearch).map((t) => t.uid);
  const { backend } = ctx.services;
  const userId = ctx.user.id;
  // Fails with [TRYCREATE] for a missing destination even when the set is empty.
  await transfer(() => backend.folderInfo(userId, args.mailbox).then(() => emptyResult()));
  if (uids.length === 0) return undefined;
  const r = await transfer(() => backend.copy(userId, view.folder, uids, args.mailbox));
  const code = copyUid(r);
  return code ? { code, text: 'Copy completed.' } : undefined;
}

function emptyResult(): CopyResult {
  return { uidValidity: 0, sourceUids: [], destinationUids: [] };
}

export const copy = command<CopyArgs>({
  name: 'COPY',
  states: ['selected'],
  parse: parseCopy,
  handle: (ctx, args) => copyMessages(ctx, args, false),
});

export const uidCopy = command<CopyArgs>({
  name: 'UID COPY',
  states: ['selected'],
  parse: parseCopy,
  handle: (ctx, args) => copyMessages(ctx, args, true),
});
