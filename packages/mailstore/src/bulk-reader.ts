/**
 * Reads of small bodies in bulk, off the event loop: a worker thread opens, reads and closes the files
 * with blocking calls, many per message from the main thread. A FETCH or SEARCH over 10,000 messages
 * otherwise costs 30,000 thread-pool round trips (open, read, close), several microseconds of main-thread
 * time each; here the requests made in the same turn of the event loop go to the worker as one message and
 * the bytes come back as transferred buffers (no copy).
 *
 * The worker's code is plain JavaScript evaluated in the worker (no loader or build step involved).
 */
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
parentPort.on('message', (batch) => {
  const results = [];
  const transfer = [];
  for (const { path, length } of batch.reads) {
    let fd = -1;
    try {
      fd = fs.openSync(path, 'r');
      const buf = Buffer.allocUnsafeSlow(length);
      let n = 0;
      while (n < length) {
        const got = fs.readSync(fd, buf, n, length - n, n);
        if (got === 0) break;
        n += got;
      }
      results.push({ bytes: buf.buffer, length: n });
      transfer.push(buf.buffer);
    } catch (err) {
      results.push({ code: err && err.code ? String(err.code) : 'EIO', message: String(err && err.message) });
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }
  parentPort.postMessage({ id: batch.id, results }, transfer);
});
`;

interface Result {
  bytes?: ArrayBuffer;
  length?: number;
  code?: string;
  message?: string;
}

interface Request {
  path: string;
  length: number;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

/** Most reads in one message to the worker. */
const MAX_BATCH = 64;

export class BulkReader {
  #worker: Worker | null = null;
  #queue: Request[] = [];
  #scheduled = false;
  readonly #inFlight = new Map<number, Request[]>();
  #nextId = 1;

  /** The first `length` octets of the file (fewer when it is shorter). Errors carry the errno `code`. */
  read(path: string, length: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.#queue.push({ path, length, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#send());
      }
    });
  }

  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = null;
    if (w) await w.terminate();
    this.#failAll(new Error('the body reader is closed'));
  }

  #send(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      const id = this.#nextId++;
      this.#inFlight.set(id, batch);
      const worker = this.#ensureWorker();
      worker.ref();
      worker.postMessage({ id, reads: batch.map((r) => ({ path: r.path, length: r.length })) });
    }
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', (msg: { id: number; results: Result[] }) => {
      const batch = this.#inFlight.get(msg.id);
      this.#inFlight.delete(msg.id);
      if (this.#inFlight.size === 0) worker.unref();
      batch?.forEach((req, i) => {
        const r = msg.results[i] as Result;
        if (r.bytes) req.resolve(Buffer.from(r.bytes, 0, r.length ?? 0));
        else req.reject(Object.assign(new Error(r.message ?? 'read failed'), { code: r.code }));
      });
    });
    worker.on('error', (err) => {
      if (this.#worker === worker) this.#worker = null;
      this.#failAll(err);
    });
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = null;
      this.#failAll(new Error('the body reader stopped'));
    });
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #failAll(err: Error): void {
    for (const batch of this.#inFlight.values()) for (const r of batch) r.reject(err);
    this.#inFlight.clear();
  }
}
