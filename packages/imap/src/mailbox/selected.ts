/**
 * The session's view of its selected mailbox (RFC 9051 §2.3.1.2, §7.5.1): the UIDs the client knows, in
 * order (message sequence number n is `uids[n-1]`), and the store changes it has not been told yet.
 *
 * Every change in the store reaches every session of the user as a `StoreEvent`, its own changes
 * included. The view queues them and turns them into untagged responses at the points the protocol allows:
 * - new messages → `* n EXISTS` (the view grows);
 * - flag changes → `* n FETCH (UID u FLAGS (...) [MODSEQ (m)])`, once per MODSEQ: a change this session
 *   already reported (its own STORE) is not repeated;
 * - expunges → `* n EXPUNGE` (or `* VANISHED u` with QRESYNC, RFC 7162 §3.2.10), only when allowed: never
 *   while answering FETCH, STORE or SEARCH (RFC 9051 §7.5.1), so sequence numbers stay stable meanwhile.
 *
 * Events arriving while the SELECT's snapshot is read are buffered and applied after it, except those
 * the snapshot already includes (MODSEQ at most its HIGHESTMODSEQ: every change gets a new MODSEQ,
 * RFC 7162 §3.1).
 */
import type { FolderView, StoreEvent } from '../backend.js';
import { formatSequenceSet } from '../parser/sequence.js';
import type { Wire } from '../wire.js';
import type { RecentTracker } from './recent.js';

/** Recent messages are kept as UID ranges; beyond this many, the oldest ranges are forgotten. */
export const MAX_RECENT_RANGES = 1024;

/**
 * Something kept up to date with the mailbox (SEARCH RETURN (UPDATE), RFC 5267 §4.3): asked by the
 * session whenever it sends updates (after each command, during IDLE).
 */
export interface UpdateListener {
  readonly tag: string;
  /** The mailbox changed since the listener last looked (a new MODSEQ or another message count). */
  stale(): boolean;
  /** Responses to send before the pending updates (about messages being expunged now). */
  before(expunge: boolean): Wire[];
  /** Responses to send after them. */
  after(): Promise<Wire[]>;
}

/** \Recent for an IMAP4rev1 session (RFC 3501 §2.3.2); absent with IMAP4rev2 (RFC 9051 dropped it). */
export interface RecentOptions {
  tracker: RecentTracker;
  userId: string;
}

export interface UpdateOptions {
  expunge: boolean;
  /** QRESYNC enabled: VANISHED instead of EXPUNGE (RFC 7162 §3.2.10). */
  qresync: boolean;
  /** CONDSTORE enabled: MODSEQ in FETCH responses with FLAGS (RFC 7162 §3.1.4). */
  condstore: boolean;
}

export class SelectedMailbox {
  /** The folder's canonical name (follows renames). */
  folder: string;
  readonly readOnly: boolean;
  uidValidity = 0;
  highestModSeq = 0;
  /** The folder was deleted (by another session): the session must end. */
  deleted = false;
  /** Live searches on this view (RFC 5267 §4.2); they end with it. */
  readonly listeners: UpdateListener[] = [];

  #uids: number[] = [];
  /**
   * The MODSEQ of the flags last reported (or known from the snapshot) per UID: the snapshot's columns
   * (`#baseUids`, `#baseModSeqs`; no per-message map for a large folder), and what changed since.
   */
  #baseUids: readonly number[] = [];
  #baseModSeqs: readonly number[] = [];
  readonly #modSeqs = new Map<number, number>();
  #loaded = false;
  #buffered: StoreEvent[] = [];
  /** Expunged in the store, still in `#uids` (not announced). */
  readonly #expunged = new Set<number>();
  /** Arrived in the store, not announced yet. */
  #arrived: number[] = [];
  /** Flag changes not announced yet. */
  readonly #flagChanges = new Map<number, { flags: string[]; modSeq: number }>();
  /** Keywords known to the client (FLAGS response); a new one gets a new FLAGS response. */
  #flagsInUse: string[] = [];
  #flagsChanged = false;
  #uidNext = 1;
  readonly #recentOptions: RecentOptions | undefined;
  /** The UID ranges [from, to) recent in this session, ascending. */
  #recent: Array<[number, number]> = [];

  constructor(folder: string, readOnly: boolean, recent?: RecentOptions) {
    this.folder = folder;
    this.readOnly = readOnly;
    this.#recentOptions = recent;
  }

  /** The session reports \Recent (IMAP4rev1). */
  get tracksRecent(): boolean {
    return this.#recentOptions !== undefined;
  }

  /** Applies the SELECT snapshot, then the events that came in meanwhile and are newer. */
  load(snapshot: FolderView): void {
    this.folder = snapshot.name;
    this.uidValidity = snapshot.uidValidity;
    this.highestModSeq = snapshot.highestModSeq;
    this.#uidNext = snapshot.uidNext;
    this.#baseUids = snapshot.uids;
    this.#baseModSeqs = snapshot.modSeqs;
    // Shared with the base until changed: new UIDs are appended (above every base UID, so the base
    // stays sorted; their MODSEQs are in #modSeqs), expunges make a new array.
    this.#uids = snapshot.uids;
    this.#modSeqs.clear();
    this.#flagsInUse = [...snapshot.flagsInUse];
    this.#recent = [];
    this.#takeRecent(1, snapshot.uidNext);
    this.#loaded = true;
    const buffered = this.#buffered;
    this.#buffered = [];
    for (const e of buffered) {
      if (e.kind === 'folder' || e.modSeq > snapshot.highestModSeq) this.#apply(e);
    }
  }

  get flagsInUse(): readonly string[] {
    return this.#flagsInUse;
  }

  /** Messages the client knows of (EXISTS). */
  get count(): number {
    return this.#uids.length;
  }

  /** The known UIDs, ascending (sequence number n = index n-1). */
  get uids(): readonly number[] {
    return this.#uids;
  }

  get uidNext(): number {
    return this.#uidNext;
  }

  uidAt(seq: number): number | undefined {
    return this.#uids[seq - 1];
  }

  /** The sequence number of a UID, or 0 when the client does not know it. */
  seqOf(uid: number): number {
    let lo = 0;
    let hi = this.#uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.#uids[mid] as number;
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** Whether the message is \Recent in this session (RFC 3501 §2.3.2). */
  isRecent(uid: number): boolean {
    for (const [from, to] of this.#recent) if (uid >= from && uid < to) return true;
    return false;
  }

  /** Known messages recent in this session (the RECENT response, RFC 3501 §7.3.2). */
  get recentCount(): number {
    let n = 0;
    for (const [from, to] of this.#recent) n += lowerBound(this.#uids, to) - lowerBound(this.#uids, from);
    return n;
  }

  /** A message's flags for a FETCH response: the stored ones, and \Recent when it is recent here. */
  flagsText(uid: number, flags: readonly string[]): string {
    const text = flags.join(' ');
    if (!this.isRecent(uid)) return text;
    return text === '' ? '\\Recent' : `${text} \\Recent`;
  }

  /**
   * Keywords about to be shown in a FETCH (read from the store, perhaps before this session got their
   * event): a new one gets a FLAGS response first (RFC 9051 §7.3.5, RFC 3501 §7.2.6).
   */
  noteFlags(flags: readonly string[]): void {
    this.#learnFlags(flags);
  }

  /**
   * Only the FLAGS (and PERMANENTFLAGS) responses for keywords the client has not been told of, without
   * the other pending updates: FETCH and STORE send them before their own responses, while flag changes
   * of other sessions wait for the end of the command (sent earlier, a change newer than what the
   * command read would precede it, and the client would see a MODSEQ go backwards).
   */
  takeFlagsAnnouncement(): Wire[] {
    if (!this.#flagsChanged) return [];
    this.#flagsChanged = false;
    const out: Wire[] = [`FLAGS (${this.#flagsInUse.join(' ')})`];
    if (!this.readOnly) out.push(`OK [PERMANENTFLAGS (${this.#flagsInUse.join(' ')} \\*)] Flags permitted.`);
    return out;
  }

  /** Whether a known message was expunged in the store (not announced yet). */
  isExpunged(uid: number): boolean {
    return this.#expunged.has(uid);
  }

  /** A store event for this user; ignored unless it concerns this folder. */
  onEvent(e: StoreEvent): void {
    if (e.folder !== this.folder) return;
    if (!this.#loaded) this.#buffered.push(e);
    else this.#apply(e);
  }

  /** Whether there is anything to tell the client (with expunges or without). */
  hasUpdates(expunge: boolean): boolean {
    return (
      this.#arrived.length > 0 ||
      this.#flagChanges.size > 0 ||
      this.#flagsChanged ||
      (expunge && this.#expunged.size > 0) ||
      this.deleted
    );
  }

  /** The session reported these flags (STORE, FETCH FLAGS): the same change is not reported again. */
  noteReported(uid: number, modSeq: number): void {
    if (this.#modSeqOf(uid) < modSeq) this.#modSeqs.set(uid, modSeq);
    const pending = this.#flagChanges.get(uid);
    if (pending && pending.modSeq <= modSeq) this.#flagChanges.delete(uid);
  }

  /** The session expunged these (EXPUNGE, MOVE): they go out with the next updates. */
  noteExpunged(uids: readonly number[]): void {
    for (const uid of uids) {
      if (this.seqOf(uid) > 0) this.#expunged.add(uid);
      this.#arrived = this.#arrived.filter((u) => u !== uid);
      this.#flagChanges.delete(uid);
    }
  }

  /** Removes every known message without telling the client (CLOSE, RFC 9051 §6.4.1). */
  dropExpunged(): void {
    this.#uids = this.#uids.filter((u) => !this.#expunged.has(u));
    this.#expunged.clear();
  }

  /**
   * The untagged responses (without `* `) that bring the client up to date, in a safe order: expunges
   * (when allowed), then EXISTS, then flag changes and the FLAGS list when keywords were added.
   */
  takeUpdates(opts: UpdateOptions): Wire[] {
    const out: Wire[] = [];
    if (opts.expunge && this.#expunged.size > 0) {
      const gone = [...this.#expunged].sort((a, b) => a - b);
      if (opts.qresync) {
        out.push(`VANISHED ${formatSequenceSet(gone)}`);
      } else {
        // Highest sequence number first: each EXPUNGE then refers to numbers the client still has.
        const seqs = gone.map((u) => this.seqOf(u)).filter((s) => s > 0);
        seqs.sort((a, b) => b - a);
        for (const s of seqs) out.push(`${s} EXPUNGE`);
      }
      this.dropExpunged();
      for (const uid of gone) this.#modSeqs.delete(uid);
    }
    if (this.#flagsChanged) {
      this.#flagsChanged = false;
      out.push(`FLAGS (${this.#flagsInUse.join(' ')})`);
      if (!this.readOnly)
        out.push(`OK [PERMANENTFLAGS (${this.#flagsInUse.join(' ')} \\*)] Flags permitted.`);
    }
    if (this.#arrived.length > 0) {
      const last = this.#uids[this.#uids.length - 1] ?? 0;
      for (const uid of this.#arrived) if (uid > last) this.#uids.push(uid);
      this.#arrived = [];
      out.push(`${this.#uids.length} EXISTS`);
      const newest = this.#uids[this.#uids.length - 1] ?? 0;
      if (this.#recentOptions && newest > last) {
        // This session is the first to announce them: they are recent here unless another session
        // claimed them first (RFC 3501 §2.3.2); RECENT follows EXISTS (RFC 3501 §7.3.2).
        this.#takeRecent(last + 1, newest + 1);
        out.push(`${this.recentCount} RECENT`);
      }
    }
    if (this.#flagChanges.size > 0) {
      const changes = [...this.#flagChanges].sort((a, b) => a[0] - b[0]);
      this.#flagChanges.clear();
      for (const [uid, change] of changes) {
        const seq = this.seqOf(uid);
        if (seq === 0 || this.#expunged.has(uid)) continue;
        this.#modSeqs.set(uid, change.modSeq);
        const modseq = opts.condstore ? ` MODSEQ (${change.modSeq})` : '';
        out.push(`${seq} FETCH (UID ${uid} FLAGS (${this.flagsText(uid, change.flags)})${modseq})`);
      }
    }
    return out;
  }

  #apply(e: StoreEvent): void {
    switch (e.kind) {
      case 'exists': {
        const last = this.#arrived[this.#arrived.length - 1] ?? this.#uids[this.#uids.length - 1] ?? 0;
        if (e.uid > last) this.#arrived.push(e.uid);
        this.#modSeqs.set(e.uid, e.modSeq);
        this.#uidNext = Math.max(this.#uidNext, e.uid + 1);
        break;
      }
      case 'flags': {
        this.#learnFlags(e.flags);
        if (e.modSeq > this.#modSeqOf(e.uid)) {
          const arrived = this.#arrived.includes(e.uid);
          if (arrived) this.#modSeqs.set(e.uid, e.modSeq);
          else if (this.seqOf(e.uid) > 0 && !this.#expunged.has(e.uid))
            this.#flagChanges.set(e.uid, { flags: e.flags, modSeq: e.modSeq });
        }
        break;
      }
      case 'expunge': {
        if (this.seqOf(e.uid) > 0) this.#expunged.add(e.uid);
        this.#arrived = this.#arrived.filter((u) => u !== e.uid);
        this.#flagChanges.delete(e.uid);
        break;
      }
      case 'folder': {
        if (e.change === 'deleted') this.deleted = true;
        else if (e.change === 'renamed' && e.to) this.folder = e.to;
        return;
      }
    }
    this.highestModSeq = Math.max(this.highestModSeq, e.modSeq);
  }

  /**
   * Takes the unclaimed UIDs in [from, to) as recent here: claims them (SELECT), or, read-only (EXAMINE),
   * only looks at which nobody claimed yet.
   */
  #takeRecent(from: number, to: number): void {
    const r = this.#recentOptions;
    if (!r || from >= to) return;
    const unclaimed = this.readOnly
      ? r.tracker.unclaimedFrom(r.userId, this.uidValidity)
      : r.tracker.claim(r.userId, this.uidValidity, to);
    const lo = Math.max(from, unclaimed);
    if (lo >= to) return;
    const last = this.#recent[this.#recent.length - 1];
    if (last && last[1] === lo) last[1] = to;
    else this.#recent.push([lo, to]);
    if (this.#recent.length > MAX_RECENT_RANGES) this.#recent.shift();
  }

  /** The MODSEQ last reported for `uid`, 0 when unknown. */
  #modSeqOf(uid: number): number {
    const known = this.#modSeqs.get(uid);
    if (known !== undefined) return known;
    const base = this.#baseUids;
    let lo = 0;
    let hi = base.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = base[mid] as number;
      if (v === uid) return this.#baseModSeqs[mid] ?? 0;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  #learnFlags(flags: readonly string[]): void {
    for (const f of flags) {
      const key = f.toLowerCase();
      if (!this.#flagsInUse.some((k) => k.toLowerCase() === key)) {
        this.#flagsInUse.push(f);
        this.#flagsChanged = true;
      }
    }
  }
}

/** The index of the first element of ascending `sorted` that is >= `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
