/** A FIFO of received chunks: find a byte, take or drop a prefix, without copying the whole buffer. */
export class ByteQueue {
  #chunks: Buffer[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  clear(): void {
    this.#chunks = [];
    this.#length = 0;
  }

  /** Index of the first `byte` at or after `from`, searching at most up to `limit` (exclusive); or -1. */
  indexOf(byte: number, from: number, limit = Number.POSITIVE_INFINITY): number {
    let base = 0;
    for (const chunk of this.#chunks) {
      const end = base + chunk.length;
      if (end > from) {
        const start = Math.max(0, from - base);
        const i = chunk.indexOf(byte, start);
        if (i >= 0) return base + i < limit ? base + i : -1;
      }
      base = end;
      if (base >= limit) return -1;
    }
    return -1;
  }

  /** A copy of the first `n` bytes (fewer when fewer are buffered), without consuming them. */
  peek(n: number): Buffer {
    const want = Math.min(n, this.#length);
    const out = Buffer.allocUnsafe(want);
    let filled = 0;
    for (const chunk of this.#chunks) {
      if (filled >= want) break;
      const part = Math.min(chunk.length, want - filled);
      chunk.copy(out, filled, 0, part);
      filled += part;
    }
    return out;
  }

  /** Removes and returns the first `n` bytes (n <= length). */
  take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.#chunks[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      this.#dropFront(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0] as Buffer;
      const part = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, part);
      filled += part;
      this.#dropFront(part);
    }
    return out;
  }

  /** Drops up to `n` bytes; returns how many were dropped. */
  skip(n: number): number {
    const dropped = Math.min(n, this.#length);
    let left = dropped;
    while (left > 0) {
      const chunk = this.#chunks[0] as Buffer;
      const part = Math.min(chunk.length, left);
      this.#dropFront(part);
      left -= part;
    }
    return dropped;
  }

  #dropFront(n: number): void {
    const first = this.#chunks[0] as Buffer;
    if (n >= first.length) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#length -= n;
  }
}
