/**
 * SEARCH RETURN (UPDATE) (RFC 5267 §4.2-4.3, CONTEXT=SEARCH): a search whose result the server keeps up
 * to date. After every command (and during IDLE) the session asks each live search whether the mailbox
 * changed since it was evaluated; if so the search runs again and the difference goes out as
 * `* ESEARCH (TAG "t") [UID] ADDTO (0 set)` / `REMOVEFROM (0 set)` — position 0: an unsorted result has
 * no positions (RFC 5267 §4.3). Messages being expunged are removed before their EXPUNGE responses, with
 * the sequence numbers the client still has. CANCELUPDATE ends it; SELECT, EXAMINE, CLOSE and UNSELECT
 * drop it with the mailbox view.
 */
import type { SelectedMailbox, UpdateListener } from '../mailbox/selected.js';
import { formatSequenceSet } from '../parser/sequence.js';
import { quoted, type Wire } from '../wire.js';
import type { Candidate } from './evaluate.js';

/** Live searches one session may keep (RFC 5267 §4.2 lets the server refuse more: `NO [LIMIT]`). */
export const MAX_LIVE_SEARCHES = 16;

export class LiveSearch implements UpdateListener {
  readonly #uids: Set<number>;
  #evaluatedModSeq: number;
  #evaluatedCount: number;

  constructor(
    readonly tag: string,
    readonly byUid: boolean,
    private readonly view: SelectedMailbox,
    private readonly run: () => Promise<Candidate[]>,
    found: readonly Candidate[],
  ) {
    this.#uids = new Set(found.map((c) => c.meta.uid));
    this.#evaluatedModSeq = view.highestModSeq;
    this.#evaluatedCount = view.count;
  }

  stale(): boolean {
    return this.view.highestModSeq !== this.#evaluatedModSeq || this.view.count !== this.#evaluatedCount;
  }

  before(expunge: boolean): Wire[] {
    if (!expunge) return [];
    const gone = [...this.#uids].filter((uid) => this.view.isExpunged(uid));
    if (gone.length === 0) return [];
    for (const uid of gone) this.#uids.delete(uid);
    return [this.#line('REMOVEFROM', gone)];
  }

  async after(): Promise<Wire[]> {
    if (!this.stale()) return [];
    this.#evaluatedModSeq = this.view.highestModSeq;
    this.#evaluatedCount = this.view.count;
    const now = new Set((await this.run()).map((c) => c.meta.uid));
    const removed = [...this.#uids].filter((uid) => !now.has(uid));
    const added = [...now].filter((uid) => !this.#uids.has(uid));
    for (const uid of removed) this.#uids.delete(uid);
    for (const uid of added) this.#uids.add(uid);
    const out: Wire[] = [];
    // A message already expunged from the view has no sequence number any more: only UIDs can name it.
    const named = (uids: number[]) => (this.byUid ? uids : uids.filter((u) => this.view.seqOf(u) > 0));
    if (named(removed).length > 0) out.push(this.#line('REMOVEFROM', named(removed)));
    if (named(added).length > 0) out.push(this.#line('ADDTO', named(added)));
    return out;
  }

  #line(what: 'ADDTO' | 'REMOVEFROM', uids: number[]): string {
    const numbers = this.byUid ? uids : uids.map((u) => this.view.seqOf(u));
    return `ESEARCH (TAG ${quoted(this.tag)})${this.byUid ? ' UID' : ''} ${what} (0 ${formatSequenceSet(numbers)})`;
  }
}
