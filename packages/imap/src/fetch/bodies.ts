/**
 * Reading message bodies for FETCH and SEARCH: by body id (`ImapBackend.openBody`, no metadata query per
 * message once the range is listed), whole for the shared cache, the first octets for a header, or in
 * chunks for a literal streamed to the client.
 */
import type { ImapBackend, MessageMeta } from '../backend.js';
import type { ImapContext } from '../context.js';
import type { CachedMessage } from '../mime/cache.js';

/**
 * The whole body. Reads one octet more than the metadata's size, so a body longer than announced is still
 * read to its end (the size is the file's by construction; this only guards).
 */
export async function readBody(backend: ImapBackend, userId: string, meta: MessageMeta): Promise<Buffer> {
  const first = await backend.readBody(userId, meta.blobId, meta.size + 1);
  if (first.length <= meta.size) return first;
  const reader = await backend.openBody(userId, meta.blobId);
  try {
    const parts = [first];
    let pos = first.length;
    for (;;) {
      const more = await reader.read(pos, 256 * 1024);
      if (more.length === 0) break;
      parts.push(more);
      pos += more.length;
    }
    return Buffer.concat(parts);
  } finally {
    await reader.close();
  }
}

/** The first `length` octets of a body (fewer when it is shorter). */
export function readHead(
  backend: ImapBackend,
  userId: string,
  meta: MessageMeta,
  length: number,
): Promise<Buffer> {
  return backend.readBody(userId, meta.blobId, length);
}

/** The cached bytes and structure of a message (loaded into the shared cache when absent). */
export function loadMessage(ctx: ImapContext, meta: MessageMeta): Promise<CachedMessage> {
  const { backend, cache } = ctx.services;
  const userId = ctx.user.id;
  return cache.get(meta.blobId, () => readBody(backend, userId, meta));
}

/**
 * Runs `load` for the items of a list ahead of their use, at most `count` at a time and at most `bytes`
 * of their estimated cost (`cost`), so disk reads overlap with the work on earlier items while memory
 * stays bounded. `take(i)` must be called in order, once per item.
 */
export class Prefetcher<T, R> {
  readonly #pending = new Map<number, Promise<R>>();
  readonly #costs = new Map<number, number>();
  #next = 0;
  #inFlightBytes = 0;

  constructor(
    private readonly items: readonly T[],
    private readonly load: (item: T) => Promise<R>,
    private readonly cost: (item: T) => number,
    private readonly count: number,
    private readonly bytes: number,
    /** Starts the loads of several items at once (one backend call for all), instead of `load` each. */
    private readonly loadGroup?: (items: T[]) => Promise<R>[],
  ) {}

  /** The result for item `i` (started now if it was not yet). */
  take(i: number): Promise<R> {
    this.#fill(i);
    const p = this.#pending.get(i) ?? this.#start(i);
    this.#pending.delete(i);
    this.#inFlightBytes -= this.#costs.get(i) ?? 0;
    this.#costs.delete(i);
    this.#fill(i + 1);
    return p;
  }

  /** The results started but not taken (to release what they hold when the caller stops early). */
  abandon(): Promise<R>[] {
    const rest = [...this.#pending.values()];
    this.#pending.clear();
    this.#costs.clear();
    this.#inFlightBytes = 0;
    this.#next = this.items.length;
    return rest;
  }

  #fill(from: number): void {
    if (this.#next < from) this.#next = from;
    // Refilled in groups (once half the window is used), so reads started together can be served
    // together by the backend (`readBody` batches the calls of one turn of the event loop).
    if (this.#pending.size > 0 && this.#pending.size > this.count / 2) return;
    const group: number[] = [];
    while (
      this.#next < this.items.length &&
      this.#pending.size + group.length < this.count &&
      (this.#pending.size + group.length === 0 || this.#inFlightBytes < this.bytes)
    ) {
      const i = this.#next++;
      group.push(i);
      this.#account(i);
    }
    if (group.length === 0) return;
    if (this.loadGroup && group.length > 1) {
      const ps = this.loadGroup(group.map((i) => this.items[i] as T));
      for (let k = 0; k < group.length; k++) {
        this.#pending.set(group[k] as number, settle(ps[k] as Promise<R>));
      }
    } else {
      for (const i of group) this.#pending.set(i, settle(this.load(this.items[i] as T)));
    }
  }

  #account(i: number): void {
    const c = this.cost(this.items[i] as T);
    this.#costs.set(i, c);
    this.#inFlightBytes += c;
  }

  #start(i: number): Promise<R> {
    this.#account(i);
    return settle(this.load(this.items[i] as T));
  }
}

/** Observed later by take(); never an unhandled rejection meanwhile. */
function settle<R>(p: Promise<R>): Promise<R> {
  p.catch(() => undefined);
  return p;
}
