/**
 * STORE / UID STORE sequence-set [(UNCHANGEDSINCE modseq)] (+|-)FLAGS[.SILENT] flags: RFC 9051 §6.4.6,
 * §6.4.9, RFC 7162 §3.1.3 (UNCHANGEDSINCE, `[MODIFIED set]`).
 *
 * Without .SILENT every message of the set gets a FETCH with its flags (changed or not, as if fetched);
 * UID STORE adds UID; with CONDSTORE enabled MODSEQ too (RFC 7162 §3.1.4), and with .SILENT the changed
 * messages still get a FETCH with their new MODSEQ (RFC 7162 §3.1.3). Messages failing UNCHANGEDSINCE are
 * left alone and listed in `[MODIFIED]` (sequence numbers for STORE, UIDs for UID STORE).
 */
import type { FlagOperation, MessageMeta } from '../backend.js';
import { type Completion, command, type ImapContext } from '../context.js';
import { badCommand, ERRORS } from '../errors.js';
import { parseFlagList } from '../flags.js';
import { enableCondstore } from '../mailbox/condstore.js';
import { resolveTargets } from '../mailbox/resolve.js';
import { ArgReader } from '../parser/args.js';
import { formatSequenceSet, type SetArg } from '../parser/sequence.js';
import type { Arg } from '../parser/types.js';

export interface StoreArgs {
  set: SetArg;
  unchangedSince: number | null;
  op: FlagOperation;
  silent: boolean;
  flags: string[];
}

const ITEM = /^([+-]?)FLAGS(\.SILENT)?$/i;

function parseStore(args: readonly Arg[]): StoreArgs {
  const r = new ArgReader(args);
  const set = r.sequenceSet();
  let unchangedSince: number | null = null;
  if (r.peek()?.kind === 'list') {
    const mods = new ArgReader(r.list('store modifiers'));
    while (mods.remaining > 0) {
      const name = mods.atom('store modifier').toUpperCase();
      if (name !== 'UNCHANGEDSINCE') throw badCommand(`Unknown store modifier ${name}`);
      unchangedSince = mods.number('UNCHANGEDSINCE', { max64: true });
    }
  }
  const m = ITEM.exec(r.atom('store item'));
  if (!m) throw badCommand('Invalid store item');
  const flags: string[] = [];
  while (r.remaining > 0) {
    const a = r.any('flags');
    flags.push(...parseFlagList(a.kind === 'list' ? a.items : [a]));
  }
  return {
    set,
    unchangedSince,
    op: m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set',
    silent: m[2] !== undefined,
    flags,
  };
}

async function storeFlags(
  ctx: ImapContext,
  args: StoreArgs,
  byUid: boolean,
): Promise<Completion | undefined> {
  const view = ctx.selected;
  if (view.readOnly) throw ERRORS.readOnly();
  if (args.unchangedSince !== null) await enableCondstore(ctx);
  const condstore = ctx.enabled.has('CONDSTORE');
  const targets = resolveTargets(view, args.set, byUid, ctx.savedSearch);
  const { backend } = ctx.services;
  const userId = ctx.user.id;
  const uids = targets.map((t) => t.uid);
  const result =
    uids.length === 0
      ? { changed: [], modified: [] }
      : await backend.storeFlags(userId, view.folder, uids, args.op, args.flags, {
          unchangedSince: args.unchangedSince ?? undefined,
        });
  const changed = new Map(result.changed.map((m) => [m.uid, m]));
  // Our own changes are reported below, not again as updates; a new keyword's FLAGS goes out first
  // (RFC 9051 §7.3.5). The other pending updates wait for the end of the command (even for UID STORE:
  // the FETCH responses carry the sequence numbers the client had when it sent the command, as
  // Dovecot, and a newer change of another session never precedes ours).
  for (const m of result.changed) {
    view.noteReported(m.uid, m.modSeq);
    view.noteFlags(m.flags);
  }
  for (const line of view.takeFlagsAnnouncement()) await ctx.untagged(line);
  const modified = new Set(result.modified);
  let current = new Map<number, MessageMeta>();
  if (!args.silent && changed.size + modified.size < targets.length && targets.length > 0) {
    const first = targets[0] as { uid: number };
    const last = targets[targets.length - 1] as { uid: number };
    const metas = await backend.listMessages(userId, view.folder, { fromUid: first.uid, toUid: last.uid });
    current = new Map(metas.map((m) => [m.uid, m]));
  }
  for (const t of targets) {
    if (modified.has(t.uid)) continue;
    const meta = changed.get(t.uid) ?? current.get(t.uid);
    if (!meta) continue;
    // Reported here: an older pending change of this message is not sent after it.
    if (!args.silent) view.noteReported(t.uid, meta.modSeq);
    const uid = byUid ? `UID ${t.uid} ` : '';
    const modseq = condstore ? ` MODSEQ (${meta.modSeq})` : '';
    if (args.silent) {
      if (condstore && changed.has(t.uid))
        await ctx.untagged(`${t.seq} FETCH (${uid}MODSEQ (${meta.modSeq}))`);
    } else {
      await ctx.untagged(`${t.seq} FETCH (${uid}FLAGS (${view.flagsText(t.uid, meta.flags)})${modseq})`);
    }
  }
  if (modified.size > 0) {
    const list = targets.filter((t) => modified.has(t.uid)).map((t) => (byUid ? t.uid : t.seq));
    return { code: `MODIFIED ${formatSequenceSet(list)}`, text: 'Conditional store failed.' };
  }
  return undefined;
}

export const store = command<StoreArgs>({
  name: 'STORE',
  states: ['selected'],
  holdExpunges: true,
  parse: parseStore,
  handle: (ctx, args) => storeFlags(ctx, args, false),
});

export const uidStore = command<StoreArgs>({
  name: 'UID STORE',
  states: ['selected'],
  parse: parseStore,
  handle: (ctx, args) => storeFlags(ctx, args, true),
});
