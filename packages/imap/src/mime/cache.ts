/**
 * A bounded LRU of message bodies and their parsed MIME structures, shared by the sessions of a server.
 * Keyed by the body's blob id: copies of a message share their body (and so their cache entry), and a
 * blob's bytes never change.
 */
import { type MimePart, parseMime } from './parser.js';

export class CachedMessage {
  #structure: MimePart | undefined;
  constructor(readonly raw: Buffer) {}

  /** The MIME structure, parsed on first use. */
  get structure(): MimePart {
    this.#structure ??= parseMime(this.raw);
    return this.#structure;
  }
}

export class MessageCache {
  readonly #entries = new Map<string, CachedMessage>();
  readonly #loading = new Map<string, Promise<CachedMessage>>();
  #bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  /** The cached message for `key`, loading it with `load` when absent. */
  async get(key: string, load: () => Promise<Buffer>): Promise<CachedMessage> {
    const hit = this.#entries.get(key);
    if (hit) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const inFlight = this.#loading.get(key);
    if (inFlight) return inFlight;
    const p = (async () => {
      const entry = new CachedMessage(await load());
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
    // A parsed structure costs roughly as much again as the bytes.
    const cost = entry.raw.length * 2;
    if (cost > this.maxBytes) return;
    this.#entries.set(key, entry);
    this.#bytes += cost;
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= e.raw.length * 2;
    }
  }
}
