/**
 * SELECT / EXAMINE mailbox [(CONDSTORE | QRESYNC (...))]: RFC 9051 §6.3.2–3, RFC 7162 §3.1.8 (CONDSTORE
 * parameter), §3.2.5 (QRESYNC parameter). A failed SELECT leaves no mailbox selected (RFC 9051 §6.3.2).
 *
 * Responses: FLAGS, PERMANENTFLAGS, EXISTS, RECENT (the messages no session saw before: they become
 * \Recent in this one, RFC 3501 §2.3.2, §6.3.1; EXAMINE does not claim them, §6.3.2),
 * UNSEEN (first unseen sequence number, RFC 3501) — with IMAP4rev2 enabled LIST instead of RECENT and
 * UNSEEN (RFC 9051 §6.3.2) —, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ (sent always: the
 * store keeps MODSEQs, RFC 7162 §3.1.2.1); with QRESYNC and a matching UIDVALIDITY, VANISHED (EARLIER) for
 * what was expunged since the client's MODSEQ and FETCH (UID FLAGS MODSEQ) for what changed.
 */
import type { FolderView } from '../backend.js';
import { type Completion, command, type ImapContext } from '../context.js';
import { badCommand } from '../errors.js';
import { SelectedMailbox } from '../mailbox/selected.js';
import { ArgReader, type ParseEnv, RFC3501_ENV } from '../parser/args.js';
import { formatSequenceSet, inSequenceSet, parseSequenceSet, type SequenceSet } from '../parser/sequence.js';
import type { Arg } from '../parser/types.js';

export interface QresyncParams {
  uidValidity: number;
  modSeq: number;
  knownUids: SequenceSet | null;
}

export interface SelectArgs {
  mailbox: string;
  condstore: boolean;
  qresync: QresyncParams | null;
}

function parseQresync(items: readonly Arg[]): QresyncParams {
  const r = new ArgReader(items, RFC3501_ENV, 'QRESYNC parameters');
  const uidValidity = r.number('UIDVALIDITY', { min: 1 });
  const modSeq = r.number('MODSEQ', { min: 1, max64: true });
  let knownUids: SequenceSet | null = null;
  if (r.peek()?.kind === 'atom') {
    const text = r.atom('known UIDs');
    knownUids = parseSequenceSet(text) ?? null;
    if (!knownUids) throw badCommand('Invalid known UIDs');
  }
  if (r.peek()?.kind === 'list') {
    // seq-match-data: the store keeps every expunged UID, so it is not needed (RFC 7162 §3.2.5.2).
    const m = new ArgReader(r.list('sequence match data'));
    m.sequenceSet('known sequence set');
    m.sequenceSet('known UID set');
    m.end();
  }
  r.end();
  return { uidValidity, modSeq, knownUids };
}

export function parseSelect(args: readonly Arg[], env?: ParseEnv): SelectArgs {
  const r = new ArgReader(args, env);
  const mailbox = r.mailbox();
  let condstore = false;
  let qresync: QresyncParams | null = null;
  if (r.remaining > 0) {
    const params = new ArgReader(r.list('select parameters'));
    while (params.remaining > 0) {
      const name = params.atom('select parameter').toUpperCase();
      if (name === 'CONDSTORE') condstore = true;
      else if (name === 'QRESYNC') qresync = parseQresync(params.list('QRESYNC parameters'));
      else throw badCommand(`Unknown select parameter ${name}`);
    }
  }
  r.end();
  return { mailbox, condstore, qresync };
}

/** The LIST attributes of a folder: children and special use. */
async function listAttributes(ctx: ImapContext, name: string): Promise<string> {
  const folders = await ctx.services.backend.listFolders(ctx.user.id);
  const attrs = [folders.some((f) => f.name.startsWith(`${name}/`)) ? '\\HasChildren' : '\\HasNoChildren'];
  const use = folders.find((f) => f.name === name)?.specialUse;
  if (use) attrs.push(use);
  return attrs.join(' ');
}

async function selectMailbox(ctx: ImapContext, args: SelectArgs, readOnly: boolean): Promise<Completion> {
  if (args.qresync && !ctx.enabled.has('QRESYNC')) {
    // RFC 7162 §3.2.5: the client must ENABLE QRESYNC first.
    throw badCommand('QRESYNC is not enabled');
  }
  if (args.condstore) ctx.enable('CONDSTORE');
  const { backend } = ctx.services;
  const userId = ctx.user.id;
  // \Recent only for IMAP4rev1 sessions (RFC 9051 §2.3.2 dropped it).
  const view = new SelectedMailbox(
    args.mailbox,
    readOnly,
    ctx.rev2 ? undefined : { tracker: ctx.services.recent, userId },
  );
  await ctx.select(view);
  let snapshot: FolderView;
  try {
    // Columns (UIDs, MODSEQs), not an object per message: SELECT of a large folder stays cheap.
    snapshot = await backend.folderView(userId, args.mailbox);
  } catch (error) {
    await ctx.select(null);
    throw error;
  }
  view.load(snapshot);
  const flags = snapshot.flagsInUse.join(' ');
  await ctx.untagged(`FLAGS (${flags})`);
  await ctx.untagged(
    readOnly
      ? 'OK [PERMANENTFLAGS ()] Read-only mailbox.'
      : `OK [PERMANENTFLAGS (${flags} \\*)] Flags permitted.`,
  );
  await ctx.untagged(`${view.count} EXISTS`);
  if (ctx.rev2) {
    // RFC 9051 §6.3.2: IMAP4rev2 has no RECENT nor UNSEEN here, but a LIST response for the mailbox.
    await ctx.untagged([
      `LIST (${await listAttributes(ctx, snapshot.name)}) "/" `,
      ctx.mailboxName(snapshot.name),
    ]);
  } else {
    await ctx.untagged(`${view.recentCount} RECENT`);
    const firstUnseen = snapshot.firstUnseen;
    if (firstUnseen > 0) await ctx.untagged(`OK [UNSEEN ${firstUnseen}] First unseen.`);
  }
  await ctx.untagged(`OK [UIDVALIDITY ${snapshot.uidValidity}] UIDs valid`);
  await ctx.untagged(`OK [UIDNEXT ${snapshot.uidNext}] Predicted next UID`);
  await ctx.untagged(`OK [HIGHESTMODSEQ ${snapshot.highestModSeq}] Highest`);

  const q = args.qresync;
  if (q && q.uidValidity === snapshot.uidValidity) {
    const known = new Set(view.uids);
    const max = snapshot.uidNext - 1;
    const expunged = (await backend.expungedSince(userId, view.folder, q.modSeq)).filter(
      (uid) => !known.has(uid) && (!q.knownUids || inSequenceSet(q.knownUids, uid, max)),
    );
    if (expunged.length > 0) await ctx.untagged(`VANISHED (EARLIER) ${formatSequenceSet(expunged)}`);
    // What changed since the client's MODSEQ, as of the snapshot (later changes come as updates).
    const changed = await backend.listMessages(userId, view.folder, { changedSince: q.modSeq });
    for (const m of changed) {
      if (m.modSeq > snapshot.highestModSeq || view.seqOf(m.uid) === 0) continue;
      await ctx.untagged(
        `${view.seqOf(m.uid)} FETCH (UID ${m.uid} FLAGS (${view.flagsText(m.uid, m.flags)}) MODSEQ (${m.modSeq}))`,
      );
    }
  }
  return {
    code: readOnly ? 'READ-ONLY' : 'READ-WRITE',
    text: `${readOnly ? 'Examine' : 'Select'} completed.`,
  };
}

export const select = command<SelectArgs>({
  name: 'SELECT',
  states: ['authenticated', 'selected'],
  parse: parseSelect,
  handle: (ctx, args) => selectMailbox(ctx, args, false),
});

export const examine = command<SelectArgs>({
  name: 'EXAMINE',
  states: ['authenticated', 'selected'],
  parse: parseSelect,
  handle: (ctx, args) => selectMailbox(ctx, args, true),
});
