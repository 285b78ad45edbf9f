/**
 * EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE uid-set (UIDPLUS, RFC 4315 §2.1): removes the messages marked
 * \Deleted (only those in the set for UID EXPUNGE) and reports them with EXPUNGE (VANISHED with QRESYNC,
 * RFC 7162 §3.2.10). Messages the client has not been told about yet are expunged too (RFC 9051 §6.4.3:
 * "all messages"), silently.
 */
import { command, type ImapContext } from '../context.js';
import { ERRORS } from '../errors.js';
import { resolveTargets } from '../mailbox/resolve.js';
import { ArgReader } from '../parser/args.js';
import type { SetArg } from '../parser/sequence.js';

async function expungeMessages(ctx: ImapContext, set: SetArg | null): Promise<undefined> {
  const view = ctx.selected;
  if (view.readOnly) throw ERRORS.readOnly();
  const uids = set ? resolveTargets(view, set, true, ctx.savedSearch).map((t) => t.uid) : undefined;
  if (uids && uids.length === 0) return undefined;
  const expunged = await ctx.services.backend.expunge(ctx.user.id, view.folder, uids);
  view.noteExpunged(expunged);
  return undefined;
}

export const expunge = command({
  name: 'EXPUNGE',
  states: ['selected'],
  parse(args) {
    new ArgReader(args).end();
    return {};
  },
  handle: (ctx) => expungeMessages(ctx, null),
});

export const uidExpunge = command({
  name: 'UID EXPUNGE',
  states: ['selected'],
  parse(args) {
    const r = new ArgReader(args);
    const set = r.sequenceSet('UID set');
    r.end();
    return { set };
  },
  handle: (ctx, { set }) => expungeMessages(ctx, set),
});
