/**
 * A bounded LRU of message bodies and their parsed MIME structures, shared by the sessions of a server.
 * Keyed by the body's blob id: copies of a message share their body (and so their cache entry), and a
 * blob's bytes never change. Sized by what an entry really holds: its bytes plus a fixed allowance for the
 * parsed structure (a few hundred octets per part for ordinary mail), not a multiple of the size.
 */
import { type MimePart, parseMime } from './parser.js';

/** Estimated heap cost of an entry besides its bytes: the object, the key, the parsed structure. */
export const CACHE_ENTRY_OVERHEAD = 1024;

export class CachedMessage {
  #structure: MimePart | undefined;
  constructor(readonly raw: Buffer) {}

  /** The MIME structure, parsed on first use. */
  get structure(): MimePart {
    this.#structure ??= parseMime(this.raw);
    return this.#structure;
  }
}

function costOf(entry: CachedMessage): number {
  return entry.raw.length + CACHE_ENTRY_OVERHEAD;
}

export class MessageCache {
  readonly #entries = new Map<string, CachedMessage>();
  readonly #loading = new Map<string, Promise<CachedMessage>>();
  #bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  /** Whether `key` is cached (without marking it as used). */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** The cached message for `key` if present (marked as recently used), without loading. */
  peek(key: string): CachedMessage | undefined {
    const hit = this.#entries.get(key);
    if (hit) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
    }
    return hit;
  }

  /** The cached message for `key`, loading it with `load` when absent. */
  async get(key: string, load: () => Promise<Buffer>): Promise<CachedMessage> {
    const hit = this.peek(key);
    if (hit) return hit;
    const inFlight = this.#loading.get(key);
    if (inFlight) return inFlight;
    const p = (async () => {
      const entry = new CachedMessage(compact(await load()));
      this.#insert(key, entry);
      return entry;
    })();
    this.#loading.set(key, p);
    try {
      return await p;
    } finally {
      this.#loading.delete(key);
    }
  }

  #insert(key: string, entry: CachedMessage): void {
    const cost = costOf(entry);
    if (cost > this.maxBytes) return;
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      this.#bytes -= costOf(old);
    }
    this.#entries.set(key, entry);
    this.#bytes += cost;
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= costOf(e);
    }
  }
}

/**
 * A buffer that is a small view of a larger allocation (the mail store's bulk reads share one buffer per
 * batch) is copied before it is kept, so the cache holds, and counts, only its own octets.
 */
function compact(raw: Buffer): Buffer {
  return raw.buffer.byteLength > 2 * raw.length + 8192 ? Buffer.from(raw) : raw;
}
