/**
 * MOVE / UID MOVE sequence-set mailbox: RFC 6851 (RFC 9051 §6.4.8). Atomic in the store; `* OK [COPYUID
 * ...]` first (RFC 6851 §4.3), then the EXPUNGE (or VANISHED) responses for the moved messages.
 */
import { type Completion, command, type ImapContext } from '../context.js';
import { ERRORS } from '../errors.js';
import { resolveTargets } from '../mailbox/resolve.js';
import { type CopyArgs, copyUid, parseCopy, transfer } from './copy.js';

async function moveMessages(
  ctx: ImapContext,
  args: CopyArgs,
  byUid: boolean,
): Promise<Completion | undefined> {
  const view = ctx.selected;
  if (view.readOnly) throw ERRORS.readOnly();
  const uids = resolveTargets(view, args.set, byUid, ctx.savedSearch).map((t) => t.uid);
  const { backend } = ctx.services;
  const userId = ctx.user.id;
  await transfer(() =>
    backend
      .folderInfo(userId, args.mailbox)
      .then(() => ({ uidValidity: 0, sourceUids: [], destinationUids: [] })),
  );
  if (uids.length === 0) return undefined;
  const r = await transfer(() => backend.move(userId, view.folder, uids, args.mailbox));
  const code = copyUid(r);
  if (code) await ctx.untagged(`OK [${code}] Moved UIDs.`);
  view.noteExpunged(r.sourceUids);
  return { text: 'Move completed.' };
}

export const move = command<CopyArgs>({
  name: 'MOVE',
  states: ['selected'],
  parse: parseCopy,
  handle: (ctx, args) => moveMessages(ctx, args, false),
});

export const uidMove = command<CopyArgs>({
  name: 'UID MOVE',
  states: ['selected'],
  parse: parseCopy,
  handle: (ctx, args) => moveMessages(ctx, args, true),
});
