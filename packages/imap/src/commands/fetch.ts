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

import { logEventAt } from '@delegato/observability';
import { type BodyReader, type MessageMeta, StoreError } from '../backend.js';
import { type Completion, command, type ImapContext } from '../context.js';
import { badCommand, refused } from '../errors.js';
import { loadMessage, Prefetcher, readBody, readHead } from '../fetch/bodies.js';
import { type FetchItem, needsContent, parseFetchItems, sectionText, setsSeen } from '../fetch/items.js';
import { binaryBytes, sectionBytes } from '../fetch/section.js';
import {
  decodeSummary,
  encodeSummary,
  HEADER_READ,
  SUMMARY_ANNOTATION,
  type Summary,
  summaryOf,
  summaryOfHead,
} from '../fetch/summary.js';
import { enableCondstore } from '../mailbox/condstore.js';
import { resolveTargets } from '../mailbox/resolve.js';
import type { SelectedMailbox } from '../mailbox/selected.js';
import { CachedMessage } from '../mime/cache.js';
import { ArgReader } from '../parser/args.js';
import { formatDateTime } from '../parser/datetime.js';
import { formatSequenceSet, inSequenceSet, MAX_UINT32, SAVED, type SetArg } from '../parser/sequence.js';
import type { Arg } from '../parser/types.js';
import { literal, literal8 } from '../wire.js';

/** Messages read ahead of the one being answered (disk reads overlap with sending). */
const PREFETCH_COUNT = 256;
/** Octets read ahead at most (besides the one message being answered). */
const PREFETCH_BYTES = 4 * 1024 * 1024;
/** A body up to this size is read whole for BODY[]; larger ones are streamed in chunks. */
const MAX_BUFFERED_BODY = 256 * 1024;
/** Chunk of a streamed body. */
const STREAM_CHUNK = 256 * 1024;
/** Summaries stored per write transaction. */
const SAVE_BATCH = 2000;
/** Untagged responses gathered before a socket write. */
const BATCH_BYTES = 128 * 1024;
/** The buffers a FETCH reads groups of small bodies into (reused once written): how many, how large. */
const SLABS = 3;
const SLAB_BYTES = 2 * 1024 * 1024;

/**
 * Buffers for the bodies of BODY[] in bulk, reused once their bytes have reached the socket: 112 MB of
 * bodies then cost a few MiB of allocations rather than 112 MB of short-lived buffers for the garbage
 * collector. A group of bodies read together gets one (when one is free; otherwise the store allocates).
 */
class SlabPool {
  readonly #free: SharedArrayBuffer[] = [];
  #made = 0;

  take(): SharedArrayBuffer | undefined {
    const slab = this.#free.pop();
    if (slab || this.#made >= SLABS) return slab;
    this.#made++;
    return new SharedArrayBuffer(SLAB_BYTES);
  }

  give(slab: SharedArrayBuffer): void {
    this.#free.push(slab);
  }
}

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

/** What `render` needs of a message besides its metadata (each present when some item needs it). */
interface Loaded {
  msg: CachedMessage | null;
  summary: Summary | null;
  /** The whole body in memory, for streamable items; null: it is streamed from `reader`. */
  body: Buffer | null;
  reader: BodyReader | null;
}

/** A literal whose octets follow from the body (in memory or streamed): `{size}` CRLF is already out. */
const BODY = Symbol('body');
/** Octets already as a latin1 string (a summary's wire text). */
class Latin1 {
  constructor(readonly text: string) {}
}
type Segment = string | Buffer | Latin1 | typeof BODY | readonly Segment[];

/**
 * BODY[] / BODY.PEEK[] / RFC822 without partial: the whole message as stored, a literal of RFC822.SIZE
 * octets (RFC 9051 §6.4.5: BODY[] is the entire message; RFC822 is BODY[] in RFC 3501 §6.4.5), sent
 * straight from the body (streamed for large ones) instead of from a parsed copy.
 */
function streamable(item: FetchItem): boolean {
  if (item.kind === 'RFC822') return true;
  return (
    item.kind === 'section' &&
    item.partial === null &&
    item.section.part.length === 0 &&
    item.section.text === ''
  );
}

function summaryItem(item: FetchItem): boolean {
  return item.kind === 'ENVELOPE' || item.kind === 'BODY' || item.kind === 'BODYSTRUCTURE';
}

function render(item: FetchItem, meta: MessageMeta, loaded: Loaded | null, view: SelectedMailbox): Segment {
  switch (item.kind) {
    case 'UID':
      return `UID ${meta.uid}`;
    case 'FLAGS':
      return `FLAGS (${view.flagsText(meta.uid, meta.flags)})`;
    case 'INTERNALDATE':
      return `INTERNALDATE ${formatDateTime(meta.internalDate)}`;
    case 'RFC822.SIZE':
      return `RFC822.SIZE ${meta.size}`;
    case 'MODSEQ':
      return `MODSEQ (${meta.modSeq})`;
  }
  const l = loaded as Loaded;
  if (streamable(item)) {
    const name = item.kind === 'RFC822' ? 'RFC822' : 'BODY[]';
    return [`${name} {${l.body ? l.body.length : meta.size}}\r\n`, BODY];
  }
  switch (item.kind) {
    case 'ENVELOPE':
      return ['ENVELOPE ', new Latin1((l.summary as Summary).envelope)];
    case 'BODY':
      return ['BODY ', new Latin1((l.summary as Summary).body as string)];
    case 'BODYSTRUCTURE':
      return ['BODYSTRUCTURE ', new Latin1((l.summary as Summary).bodyStructure as string)];
  }
  const m = l.msg as CachedMessage;
  const root = m.structure;
  switch (item.kind) {
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
  throw new Error(`unexpected fetch item ${item.kind}`);
}

/** Not 7-bit: such a string goes out as its UTF-8 octets. */
const NON_ASCII = /[\u0080-\uffff]/;
/** Buffers shorter than this are copied into the batch's text; longer ones are written as they are. */
const COPY_BELOW = 1024;

/**
 * Untagged responses gathered into larger socket writes (one corked write per ~128 KiB rather than one
 * per message). Text is kept as a latin1 string (one character per octet) and encoded once per write.
 */
class ResponseBatch {
  #chunks: Buffer[] = [];
  #text = '';
  #bytes = 0;
  /** Called once what was flushed so far has been written (run after the next flush's write). */
  #afterWrite: Array<() => void> = [];
  /** Resolves once the last flush's chunks have been written. */
  #written: Promise<void> = Promise.resolve();
  constructor(private readonly ctx: ImapContext) {}

  /** Runs `fn` once every octet added so far has been written to the socket. */
  whenWritten(fn: () => void): void {
    this.#afterWrite.push(fn);
  }

  get full(): boolean {
    return this.#bytes >= BATCH_BYTES;
  }

  /** Text known to be 7-bit. */
  ascii(s: string): void {
    this.#text += s;
    this.#bytes += s.length;
  }

  /** Response text: ASCII (as FETCH's own items are), or UTF-8 sent as its octets. */
  text(s: string): void {
    const octets = NON_ASCII.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
    this.#text += octets;
    this.#bytes += octets.length;
  }

  latin1(octets: string): void {
    this.#text += octets;
    this.#bytes += octets.length;
  }

  buffer(b: Buffer): void {
    if (b.length < COPY_BELOW) {
      this.latin1(b.toString('latin1'));
      return;
    }
    this.#cutText();
    this.#chunks.push(b);
    this.#bytes += b.length;
  }

  async flush(): Promise<void> {
    this.#cutText();
    const after = this.#afterWrite;
    this.#afterWrite = [];
    const run = () => {
      for (const fn of after) fn();
    };
    if (this.#chunks.length === 0) {
      if (after.length > 0) void this.#written.then(run);
      return;
    }
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#bytes = 0;
    let done: () => void = () => undefined;
    this.#written = new Promise<void>((resolve) => {
      done = resolve;
    });
    await this.ctx.sendRaw(chunks, () => {
      run();
      done();
    });
  }

  #cutText(): void {
    if (this.#text === '') return;
    this.#chunks.push(Buffer.from(this.#text, 'latin1'));
    this.#text = '';
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
  if (args.changedSince !== null) await enableCondstore(ctx);
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
    await enableCondstore(ctx);
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
        // Reported by this FETCH: not again as an update (the flush below would, before the responses).
        view.noteReported(m.uid, m.modSeq);
      }
    }
  }

  // A keyword this session has not been told of yet (set by another session, its event not applied yet)
  // gets its FLAGS response before a FETCH shows it (RFC 9051 §7.3.5, RFC 3501 §7.2.6).
  if (items.some((i) => i.kind === 'FLAGS') || flagsChanged.size > 0) {
    for (const m of metas.values()) view.noteFlags(m.flags);
    for (const line of view.takeFlagsAnnouncement()) await ctx.untagged(line);
  }

  // What the items need of each message: the summary (ENVELOPE, BODY, BODYSTRUCTURE; from the store's
  // cache, computed from the header or the whole message on a miss), the whole body (BODY[] and RFC822,
  // sent as stored), or the parsed message (every other section).
  const wantSummary = items.some(summaryItem);
  const wantStructure = items.some((i) => i.kind === 'BODY' || i.kind === 'BODYSTRUCTURE');
  const wantBody = items.some(streamable);
  const wantMessage = items.some((i) => needsContent(i) && !summaryItem(i) && !streamable(i));
  const content = wantSummary || wantBody || wantMessage;
  // Summaries: from memory, else from the store (one query for the whole range), else computed below.
  const { summaries } = ctx.services;
  let stored = new Map<string, string>();
  if (wantSummary && targets.some((t) => !summaries.has(metas.get(t.uid)?.blobId ?? ''))) {
    stored = await backend.blobAnnotations(userId, view.folder, SUMMARY_ANNOTATION, {
      fromUid: first.uid,
      toUid: last.uid,
    });
    for (const [blobId, text] of stored) summaries.set(blobId, text);
  }
  const summaryText = (blobId: string): string | undefined =>
    summaries.get(blobId) ?? stored.get(blobId) ?? fresh.get(blobId);
  // Summaries computed here, stored for the next FETCH in batches while the responses go out (a failure
  // only costs computing them again).
  let fresh = new Map<string, string>();
  let saving: Promise<void> = Promise.resolve();
  const save = (): void => {
    if (fresh.size === 0) return;
    const entries = [...fresh].map(([blobId, value]) => ({ blobId, value }));
    fresh = new Map();
    saving = saving
      .then(() => backend.setBlobAnnotations(userId, view.folder, SUMMARY_ANNOTATION, entries))
      .catch((error: unknown) =>
        logEventAt(ctx.log, 'warn', 'imap.error', { err: error }, 'imap summary cache update failed'),
      );
  };
  const { cache } = ctx.services;

  /** Without I/O when possible: the summary from the store, the message from the shared cache. */
  const quick = (meta: MessageMeta): Loaded | null => {
    const msg = cache.peek(meta.blobId) ?? null;
    let summary: Summary | null = null;
    if (wantSummary) {
      summary = decodeSummary(summaryText(meta.blobId));
      if (!summary || (wantStructure && !summary.body)) return null;
    }
    if ((wantMessage || wantBody) && !msg) return null;
    return { msg, summary, body: wantBody && msg ? msg.raw : null, reader: null };
  };
  /** `read`: the body's bytes when read together with others' (`loadGroup`), null when it is gone. */
  const load = async (meta: MessageMeta, read?: Promise<Buffer | null>): Promise<Loaded> => {
    const loaded: Loaded = { msg: cache.peek(meta.blobId) ?? null, summary: null, body: null, reader: null };
    try {
      if (wantSummary) loaded.summary = decodeSummary(summaryText(meta.blobId));
      if (!loaded.msg && wantMessage) loaded.msg = await loadMessage(ctx, meta);
      if (wantBody) {
        if (loaded.msg) loaded.body = loaded.msg.raw;
        else if (read) {
          const bytes = await read;
          if (!bytes) throw new StoreError('no-such-message', `message ${meta.uid} is gone`);
          // Longer than announced (never, by construction): read to its end as readBody does.
          loaded.body = bytes.length <= meta.size ? bytes : await readBody(backend, userId, meta);
        } else if (meta.size <= MAX_BUFFERED_BODY) loaded.body = await readBody(backend, userId, meta);
        // Opened now, so a message expunged before its turn is left out cleanly (nothing of it sent).
        else loaded.reader = await backend.openBody(userId, meta.blobId);
      }
      if (wantSummary && (!loaded.summary || (wantStructure && !loaded.summary.body))) {
        let summary: Summary | null = null;
        if (loaded.msg) summary = summaryOf(loaded.msg);
        else if (loaded.body) summary = summaryOf(new CachedMessage(loaded.body));
        else if (!wantStructure) {
          // ENVELOPE only: the header block is enough (all of a short message is read anyway).
          const ask = Math.min(meta.size + 1, HEADER_READ);
          const head = await readHead(backend, userId, meta, ask);
          summary = head.length < ask ? summaryOf(new CachedMessage(head)) : summaryOfHead(head, false);
        }
        if (!summary) {
          loaded.msg = await loadMessage(ctx, meta);
          summary = summaryOf(loaded.msg);
        }
        loaded.summary = summary;
        const text = encodeSummary(summary);
        fresh.set(meta.blobId, text);
        summaries.set(meta.blobId, text);
      }
      return loaded;
    } catch (error) {
      await loaded.reader?.close();
      throw error;
    }
  };

  // First pass: what can be answered at once; the rest is read from disk ahead of its turn.
  const work = targets.map((t) => {
    const meta = metas.get(t.uid);
    return { t, meta, ready: meta && content ? quick(meta) : null };
  });
  const slow = work.filter((w) => w.meta && content && !w.ready).map((w) => w.meta as MessageMeta);
  const slabs = new SlabPool();
  /** The last message of a group read into a slab → the slab. */
  const groupEnds = new Map<MessageMeta, SharedArrayBuffer>();
  // BODY[]: the small bodies of a group read in one backend call (no promise and call per message).
  const loadGroup = (metas: MessageMeta[]): Promise<Loaded>[] => {
    const reads: Array<{ blobId: string; length: number }> = [];
    const at = new Array<number>(metas.length);
    for (let k = 0; k < metas.length; k++) {
      const m = metas[k] as MessageMeta;
      at[k] = -1;
      if (m.size <= MAX_BUFFERED_BODY && !cache.has(m.blobId)) {
        at[k] = reads.length;
        // One octet more than announced, to notice a longer body.
        reads.push({ blobId: m.blobId, length: m.size + 1 });
      }
    }
    // The group's buffer goes back to the pool once its last message has been answered and written.
    const slab = reads.length > 0 ? slabs.take() : undefined;
    if (slab) groupEnds.set(metas[metas.length - 1] as MessageMeta, slab);
    const all = reads.length > 0 ? backend.readBodies(userId, reads, { into: slab }) : null;
    all?.catch(() => undefined);
    return metas.map((m, k) => {
      const i = at[k] as number;
      return all && i >= 0
        ? load(
            m,
            all.then((bodies) => bodies[i] ?? null),
          )
        : load(m);
    });
  };
  const prefetch = new Prefetcher(
    slow,
    (meta: MessageMeta) => load(meta),
    // What a prefetched message holds in memory until its turn.
    (meta) => (wantBody || wantMessage ? Math.min(meta.size, MAX_BUFFERED_BODY) : HEADER_READ),
    PREFETCH_COUNT,
    PREFETCH_BYTES,
    wantBody && !wantMessage ? loadGroup : undefined,
  );

  const batch = new ResponseBatch(ctx);
  const hasFlags = items.some((i) => i.kind === 'FLAGS');
  const hasModSeq = items.some((i) => i.kind === 'MODSEQ');
  let missing = false;
  let taken = 0;
  /** After the last message of a group read into a slab: the slab is reused once that is written. */
  const groupDone = (meta: MessageMeta): void => {
    const slab = groupEnds.get(meta);
    if (!slab) return;
    groupEnds.delete(meta);
    batch.whenWritten(() => slabs.give(slab));
  };
  try {
    for (const { t, meta, ready } of work) {
      if (!meta) {
        if (args.changedSince === null) missing = true;
        continue;
      }
      let loaded = ready;
      if (content && !loaded) {
        try {
          loaded = await prefetch.take(taken++);
        } catch (error) {
          if ((error as { code?: string }).code === 'no-such-message') {
            missing = true;
            groupDone(meta);
            continue;
          }
          throw error;
        }
      }
      const out: Segment[] = items.map((item) => render(item, meta, loaded, view));
      if (flagsChanged.has(t.uid) && !hasFlags) out.push(`FLAGS (${view.flagsText(t.uid, meta.flags)})`);
      if ((hasFlags || flagsChanged.has(t.uid)) && condstore && !hasModSeq) {
        out.push(`MODSEQ (${meta.modSeq})`);
      }
      if (hasFlags || flagsChanged.has(t.uid)) view.noteReported(t.uid, meta.modSeq);
      let at = writeItems(batch, t.seq, out, 0, loaded);
      if (at < out.length) {
        const l = loaded as Loaded;
        try {
          while (at < out.length) {
            await streamBody(ctx, batch, meta, l);
            at = writeItems(batch, t.seq, out, at + 1, loaded);
          }
        } finally {
          await l.reader?.close();
        }
      }
      groupDone(meta);
      if (batch.full) await batch.flush();
      if (fresh.size >= SAVE_BATCH) save();
    }
    await batch.flush();
  } finally {
    // Readers opened ahead for messages not reached (the connection went away, or an error).
    for (const p of prefetch.abandon()) {
      p.then(
        (l) => l.reader?.close(),
        () => undefined,
      ).catch(() => undefined);
    }
  }
  save();
  await saving;
  if (missing && !byUid) throw refused('EXPUNGEISSUED', 'Some of the requested messages no longer exist.');
  return undefined;
}

/**
 * Items of one `* n FETCH (...)` response into the batch, from item `from` on (0: the response starts).
 * A body literal (BODY[], RFC822) in memory goes in as it is; returns the index of an item whose literal
 * is to be streamed from its file (its `{n}` CRLF is then the batch's last text; a body literal is always
 * the last segment of its item), or `items.length` when the response is complete.
 */
function writeItems(
  batch: ResponseBatch,
  seq: number,
  items: readonly Segment[],
  from: number,
  loaded: Loaded | null,
): number {
  if (from === 0) batch.ascii(`* ${seq} FETCH (`);
  for (let i = from; i < items.length; i++) {
    if (i > 0) batch.ascii(' ');
    if (addSegment(batch, items[i] as Segment, loaded)) return i;
  }
  batch.ascii(')\r\n');
  return items.length;
}

/** Adds a segment; true when it ends with a body literal to stream. */
function addSegment(batch: ResponseBatch, seg: Segment, loaded: Loaded | null): boolean {
  if (typeof seg === 'string') batch.text(seg);
  else if (Buffer.isBuffer(seg)) batch.buffer(seg);
  else if (seg instanceof Latin1) batch.latin1(seg.text);
  else if (seg === BODY) {
    const body = (loaded as Loaded).body;
    if (!body) return true;
    batch.buffer(body);
  } else for (const s of seg as readonly Segment[]) if (addSegment(batch, s, loaded)) return true;
  return false;
}

async function streamBody(
  ctx: ImapContext,
  batch: ResponseBatch,
  meta: MessageMeta,
  loaded: Loaded,
): Promise<void> {
  const reader = loaded.reader as BodyReader;
  await batch.flush();
  let pos = 0;
  while (pos < meta.size) {
    const chunk = await reader.read(pos, Math.min(STREAM_CHUNK, meta.size - pos));
    if (chunk.length === 0) {
      // RFC 9051 §4.3: the client reads exactly the octets announced; nothing valid can follow now.
      ctx.abort(`body ${meta.blobId} is shorter than its ${meta.size} octets`);
      throw new Error(`body ${meta.blobId} is shorter than announced`);
    }
    pos += chunk.length;
    await ctx.sendRaw([chunk]);
  }
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
