/**
 * FETCH / UID FETCH sequence-set items [(CHANGEDSINCE modseq [VANISHED])]: RFC 9051 §6.4.5, §6.4.9,
 * RFC 3516 (BINARY), RFC 7162 §3.1.4 (CHANGEDSINCE, MODSEQ), §3.2.6 (VANISHED).
 *
 * - UID FETCH always includes UID (RFC 9051 §6.4.9); CHANGEDSINCE adds MODSEQ.
 * - BODY[...] without PEEK, RFC822 and RFC822.TEXT set \Seen in a read-write mailbox; the new FLAGS are
 *   then included (RFC 9051 §6.4.5).
 * - A message the client knows but that was expunged meanwhile (not announced yet) is left out; a
 *   non-UID FETCH then ends with `NO [EXPUNGEISSUED]` (RFC 5530 §3), as Dovecot does.
 * - No EXPUNGE is sent during a non-UID FETCH (RFC 9051 §7.5.1); the session holds them.
 */
import type { Readable } from 'node:stream';
import type { MessageMeta } from '@delegato/mailstore';
import { type Completion, command, type ImapContext } from '../context.js';
import { badCommand, refused } from '../errors.js';
import { type FetchItem, needsContent, parseFetchItems, sectionText, setsSeen } from '../fetch/items.js';
import { binaryBytes, sectionBytes } from '../fetch/section.js';
import { resolveTargets } from '../mailbox/resolve.js';
import { bodyStructure } from '../mime/bodystructure.js';
import type { CachedMessage } from '../mime/cache.js';
import { envelopeOf, envelopeWire } from '../mime/envelope.js';
import { ArgReader } from '../parser/args.js';
import { formatDateTime } from '../parser/datetime.js';
import { formatSequenceSet, inSequenceSet, MAX_UINT32, SAVED, type SetArg } from '../parser/sequence.js';
import type { Arg } from '../parser/types.js';
import { literal, literal8, type Wire } from '../wire.js';

export interface FetchArgs {
  set: SetArg;
  items: FetchItem[];
  changedSince: number | null;
  vanished: boolean;
}

function parseFetch(args: readonly Arg[]): FetchArgs {
  const r = new ArgReader(args);
  const set = r.sequenceSet();
  const items = parseFetchItems(r.any('fetch items'));
  let changedSince: number | null = null;
  let vanished = false;
  if (r.remaining > 0) {
    const mods = new ArgReader(r.list('fetch modifiers'));
    while (mods.remaining > 0) {
      const name = mods.atom('fetch modifier').toUpperCase();
      if (name === 'CHANGEDSINCE') changedSince = mods.number('CHANGEDSINCE', { max64: true });
      else if (name === 'VANISHED') vanished = true;
      else throw badCommand(`Unknown fetch modifier ${name}`);
    }
  }
  r.end();
  if (vanished && changedSince === null) throw badCommand('VANISHED needs CHANGEDSINCE');
  return { set, items, changedSince, vanished };
}

/** Reads a stream to one buffer. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The cached bytes and structure of a message. */
export function loadMessage(ctx: ImapContext, meta: MessageMeta): Promise<CachedMessage> {
  const { backend, cache } = ctx.services;
  const folder = ctx.selected.folder;
  return cache.get(meta.blobId, async () =>
    readAll(await backend.openMessage(ctx.user.id, folder, meta.uid)),
  );
}

function partial(p: { offset: number; length: number } | null): string {
  return p ? `<${p.offset}.${p.length}>` : '';
}

function itemKey(item: FetchItem): string {
  if (item.kind === 'binary') return `BINARY[${item.part.join('.')}]${partial(item.partial)}`;
  if (item.kind === 'binary.size') return `BINARY.SIZE[${item.part.join('.')}]`;
  if (item.kind !== 'section') return item.kind;
  return `BODY[${sectionText(item.section)}]${item.partial ? `<${item.partial.offset}.${item.partial.length}>` : ''}`;
}

function partialOf(bytes: Buffer, partial: { offset: number; length: number } | null): Buffer {
  if (!partial) return bytes;
  if (partial.offset >= bytes.length) return Buffer.alloc(0);
  return bytes.subarray(partial.offset, partial.offset + partial.length);
}

function render(item: FetchItem, meta: MessageMeta, msg: CachedMessage | null): Wire {
  switch (item.kind) {
    case 'UID':
      return `UID ${meta.uid}`;
    case 'FLAGS':
      return `FLAGS (${meta.flags.join(' ')})`;
    case 'INTERNALDATE':
      return `INTERNALDATE ${formatDateTime(meta.internalDate)}`;
    case 'RFC822.SIZE':
      return `RFC822.SIZE ${meta.size}`;
    case 'MODSEQ':
      return `MODSEQ (${meta.modSeq})`;
  }
  const m = msg as CachedMessage;
  const root = m.structure;
  switch (item.kind) {
    case 'ENVELOPE':
      return ['ENVELOPE ', envelopeWire(envelopeOf(m.raw, root))];
    case 'BODY':
      return ['BODY ', bodyStructure(m.raw, root, false)];
    case 'BODYSTRUCTURE':
      return ['BODYSTRUCTURE ', bodyStructure(m.raw, root, true)];
    case 'RFC822':
      return ['RFC822 ', literal(m.raw)];
    case 'RFC822.HEADER':
      return ['RFC822.HEADER ', literal(m.raw.subarray(root.start, root.bodyStart))];
    case 'RFC822.TEXT':
      return ['RFC822.TEXT ', literal(m.raw.subarray(root.bodyStart, root.end))];
    case 'binary': {
      const bytes = binaryBytes(m.raw, root, item.part);
      const origin = item.partial ? `<${item.partial.offset}>` : '';
      const name = `BINARY[${item.part.join('.')}]${origin} `;
      return [name, bytes === null ? 'NIL' : literal8(partialOf(bytes, item.partial))];
    }
    case 'binary.size': {
      const bytes = binaryBytes(m.raw, root, item.part);
      return `BINARY.SIZE[${item.part.join('.')}] ${bytes === null ? 'NIL' : bytes.length}`;
    }
    case 'section': {
      const bytes = sectionBytes(m.raw, root, item.section);
      const origin = item.partial ? `<${item.partial.offset}>` : '';
      const name = `BODY[${sectionText(item.section)}]${origin} `;
      return [name, bytes === null ? 'NIL' : literal(partialOf(bytes, item.partial))];
    }
  }
}

async function fetchMessages(
  ctx: ImapContext,
  args: FetchArgs,
  byUid: boolean,
): Promise<Completion | undefined> {
  if (args.vanished && (!byUid || !ctx.enabled.has('QRESYNC'))) {
    // RFC 7162 §3.2.6: VANISHED only in UID FETCH, with QRESYNC enabled.
    throw badCommand('VANISHED needs UID FETCH and QRESYNC enabled');
  }
  if (args.changedSince !== null) ctx.enable('CONDSTORE');
  const view = ctx.selected;
  const userId = ctx.user.id;
  const { backend } = ctx.services;
  const targets = resolveTargets(view, args.set, byUid, ctx.savedSearch);

  // Item list: requested order, duplicates dropped, UID first for UID FETCH, MODSEQ with CHANGEDSINCE.
  const items: FetchItem[] = [];
  const seen = new Set<string>();
  const add = (item: FetchItem) => {
    const key = itemKey(item);
    if (!seen.has(key)) {
      seen.add(key);
      items.push(item);
    }
  };
  if (byUid) add({ kind: 'UID' });
  for (const item of args.items) add(item);
  if (args.changedSince !== null || items.some((i) => i.kind === 'MODSEQ')) {
    ctx.enable('CONDSTORE');
    add({ kind: 'MODSEQ' });
  }
  const condstore = ctx.enabled.has('CONDSTORE');

  if (args.vanished && args.changedSince !== null) {
    const known = new Set(view.uids);
    // `*` here means "and above": UIDs expunged above the last known one are still vanished for the client.
    const max = MAX_UINT32;
    const set = args.set;
    const saved = new Set(ctx.savedSearch);
    const gone = (await backend.expungedSince(userId, view.folder, args.changedSince)).filter(
      (uid) => !known.has(uid) && (set === SAVED ? saved.has(uid) : inSequenceSet(set, uid, max)),
    );
    if (gone.length > 0) await ctx.untagged(`VANISHED (EARLIER) ${formatSequenceSet(gone)}`);
  }
  if (targets.length === 0) return undefined;

  const first = targets[0] as { uid: number };
  const last = targets[targets.length - 1] as { uid: number };
  const metas = new Map<number, MessageMeta>();
  for (const m of await backend.listMessages(userId, view.folder, {
    fromUid: first.uid,
    toUid: last.uid,
    changedSince: args.changedSince ?? undefined,
  })) {
    metas.set(m.uid, m);
  }

  // Implicit \Seen (read-write only), before the responses so they carry the new flags.
  const flagsChanged = new Set<number>();
  if (!view.readOnly && items.some(setsSeen)) {
    const unseen = targets
      .map((t) => metas.get(t.uid))
      .filter((m): m is MessageMeta => m !== undefined && !m.flags.includes('\\Seen'))
      .map((m) => m.uid);
    if (unseen.length > 0) {
      const r = await backend.storeFlags(userId, view.folder, unseen, 'add', ['\\Seen']);
      for (const m of r.changed) {
        metas.set(m.uid, { ...(metas.get(m.uid) as MessageMeta), flags: m.flags, modSeq: m.modSeq });
        flagsChanged.add(m.uid);
      }
    }
  }

  const content = items.some(needsContent);
  let missing = false;
  for (const t of targets) {
    const meta = metas.get(t.uid);
    if (!meta) {
      if (args.changedSince === null) missing = true;
      continue;
    }
    let msg: CachedMessage | null = null;
    if (content) {
      try {
        msg = await loadMessage(ctx, meta);
      } catch (error) {
        if ((error as { code?: string }).code === 'no-such-message') {
          missing = true;
          continue;
        }
        throw error;
      }
    }
    const out: Wire[] = items.map((item) => render(item, meta, msg));
    const hasFlags = items.some((i) => i.kind === 'FLAGS');
    if (flagsChanged.has(t.uid) && !hasFlags) out.push(`FLAGS (${meta.flags.join(' ')})`);
    if ((hasFlags || flagsChanged.has(t.uid)) && condstore && !items.some((i) => i.kind === 'MODSEQ')) {
      out.push(`MODSEQ (${meta.modSeq})`);
    }
    if (hasFlags || flagsChanged.has(t.uid)) view.noteReported(t.uid, meta.modSeq);
    await ctx.untagged([`${t.seq} FETCH (`, joinItems(out), ')']);
  }
  if (missing && !byUid) throw refused('EXPUNGEISSUED', 'Some of the requested messages no longer exist.');
  return undefined;
}

function joinItems(items: Wire[]): Wire {
  const out: Wire[] = [];
  items.forEach((w, i) => {
    if (i > 0) out.push(' ');
    out.push(w);
  });
  return out;
}

export const fetch = command<FetchArgs>({
  name: 'FETCH',
  states: ['selected'],
  holdExpunges: true,
  parse: parseFetch,
  handle: (ctx, args) => fetchMessages(ctx, args, false),
});

export const uidFetch = command<FetchArgs>({
  name: 'UID FETCH',
  states: ['selected'],
  parse: parseFetch,
  handle: (ctx, args) => fetchMessages(ctx, args, true),
});
