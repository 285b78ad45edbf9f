/**
 * Reads of small bodies in bulk, off the event loop: a worker thread opens, reads and closes the files
 * with blocking calls, many per message from the main thread. A FETCH or SEARCH over 10,000 messages
 * otherwise costs 30,000 thread-pool round trips (open, read, close), several microseconds of main-thread
 * time each; here the requests made in the same turn of the event loop go to the worker as one message
 * (the paths as one string) and the bytes come back in one transferred buffer per batch (no copy; each
 * result is a view of it), larger reads in buffers of their own. `readMany` may give a SharedArrayBuffer
 * (a slab) that its results are read into as far as they fit: nothing allocated nor transferred, and a
 * caller that reuses its slabs spares the garbage collector (a bulk FETCH reads 100+ MB).
 *
 * Results of one batch share memory: a caller that keeps a small result for long (a cache) should copy
 * it, or it keeps the whole batch's buffer alive (`Buffer.byteLength` versus `buffer.buffer.byteLength`).
 *
 * The worker's code is plain JavaScript evaluated in the worker (no loader or build step involved).
 */
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const OWN_BUFFER = ${256 * 1024};
parentPort.on('message', (batch) => {
  const paths = batch.paths.split('\\0');
  const lengths = batch.lengths;
  const n = lengths.length;
  // The caller's shared buffers (slabs) first, as far as they go: nothing allocated, nothing transferred.
  // slabs[k] = [SharedArrayBuffer, first read, end of reads] (ascending, not overlapping).
  const slabs = batch.slabs;
  const slabOf = new Int32Array(n).fill(-1);
  const slabAt = new Float64Array(n);
  const slabViews = [];
  for (let k = 0; k < slabs.length; k++) {
    const [sab, from, to] = slabs[k];
    const view = Buffer.from(sab);
    slabViews.push(view);
    let used = 0;
    for (let i = from; i < to; i++) {
      if (used + lengths[i] > view.length) break;
      slabOf[i] = k;
      slabAt[i] = used;
      used += lengths[i];
    }
  }
  // Reads up to OWN_BUFFER octets share one buffer; longer ones get their own.
  let shared = 0;
  for (let i = 0; i < n; i++) if (slabOf[i] < 0 && lengths[i] <= OWN_BUFFER) shared += lengths[i];
  const buffers = [];
  const sharedBuf = shared > 0 ? Buffer.allocUnsafeSlow(shared) : null;
  if (sharedBuf) buffers.push(sharedBuf.buffer);
  // Per read: buffer index (-1: failed), offset, octets read.
  const where = new Float64Array(3 * n);
  const errors = [];
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const length = lengths[i];
    let buf = sharedBuf;
    let at = offset;
    let index = 0;
    if (slabOf[i] >= 0) {
      buf = slabViews[slabOf[i]];
      at = slabAt[i];
      index = -2 - slabOf[i];
    } else if (length > OWN_BUFFER) {
      buf = null;
      at = 0;
    } else {
      offset += length;
    }
    let fd = -1;
    try {
      fd = fs.openSync(paths[i], 'r');
      if (buf === null) {
        buf = Buffer.allocUnsafeSlow(length);
        index = buffers.length;
        buffers.push(buf.buffer);
      }
      let got = 0;
      while (got < length) {
        const r = fs.readSync(fd, buf, at + got, length - got, got);
        got += r;
        // A regular file reads short only at its end: no second call to see 0.
        if (r === 0 || got < length) break;
      }
      where[3 * i] = index;
      where[3 * i + 1] = at;
      where[3 * i + 2] = got;
    } catch (err) {
      where[3 * i] = -1;
      errors[i] = [err && err.code ? String(err.code) : 'EIO', String(err && err.message)];
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }
  parentPort.postMessage({ id: batch.id, buffers, where, errors }, buffers);
});
`;

interface Reply {
  id: number;
  buffers: ArrayBuffer[];
  where: Float64Array;
  errors: Array<[string, string] | undefined>;
}

/** Reads asked for together (one `read` or one `readMany`), answered together. */
interface Job {
  paths: readonly string[];
  lengths: readonly number[];
  /** Where the results go, as far as they fit (the rest as without it). */
  slab?: SharedArrayBuffer | undefined;
  done: (results: Array<Buffer | Error>) => void;
}

/** Most reads in one message to the worker (one job is never split). */
const MAX_BATCH = 256;

export class BulkReader {
  #worker: Worker | null = null;
  #queue: Job[] = [];
  #scheduled = false;
  readonly #inFlight = new Map<number, Job[]>();
  #nextId = 1;

  /** The first `length` octets of the file (fewer when it is shorter). Errors carry the errno `code`. */
  read(path: string, length: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.#push({
        paths: [path],
        lengths: [length],
        done: (results) => {
          const r = results[0];
          if (Buffer.isBuffer(r)) resolve(r);
          else reject(r ?? new Error('read failed'));
        },
      });
    });
  }

  /**
   * `read` for many files at once: one result per path, a Buffer or an Error (with the errno `code`);
   * rejects only when the reader itself fails.
   */
  readMany(
    paths: readonly string[],
    lengths: readonly number[],
    slab?: SharedArrayBuffer,
  ): Promise<Array<Buffer | Error>> {
    if (paths.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#push({
        paths,
        lengths,
        slab,
        done: (results) => {
          if (results.length === paths.length) resolve(results);
          else reject(results[0] ?? new Error('read failed'));
        },
      });
    });
  }

  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = null;
    if (w) await w.terminate();
    this.#failAll(new Error('the body reader is closed'));
  }

  #push(job: Job): void {
    this.#queue.push(job);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#send);
    }
  }

  readonly #send = (): void => {
    this.#scheduled = false;
    let i = 0;
    while (i < this.#queue.length) {
      // Jobs of this turn, merged up to MAX_BATCH reads per message.
      const jobs: Job[] = [];
      let count = 0;
      while (i < this.#queue.length) {
        const job = this.#queue[i] as Job;
        if (count > 0 && count + job.paths.length > MAX_BATCH) break;
        jobs.push(job);
        count += job.paths.length;
        i++;
      }
      let paths = '';
      const lengths = new Array<number>(count);
      const slabs: Array<[SharedArrayBuffer, number, number]> = [];
      let k = 0;
      for (const job of jobs) {
        if (job.slab) slabs.push([job.slab, k, k + job.paths.length]);
        for (let j = 0; j < job.paths.length; j++) {
          paths += k === 0 ? job.paths[j] : `\0${job.paths[j]}`;
          lengths[k++] = job.lengths[j] as number;
        }
      }
      const id = this.#nextId++;
      this.#inFlight.set(id, jobs);
      const worker = this.#ensureWorker();
      worker.ref();
      worker.postMessage({ id, paths, lengths, slabs });
    }
    this.#queue = [];
  };

  readonly #onReply = (msg: Reply): void => {
    const jobs = this.#inFlight.get(msg.id);
    this.#inFlight.delete(msg.id);
    if (this.#inFlight.size === 0) this.#worker?.unref();
    if (!jobs) return;
    const { buffers, where, errors } = msg;
    let k = 0;
    for (const job of jobs) {
      const results = new Array<Buffer | Error>(job.paths.length);
      for (let j = 0; j < results.length; j++, k++) {
        const index = where[3 * k] as number;
        if (index >= 0) {
          results[j] = Buffer.from(buffers[index] as ArrayBuffer, where[3 * k + 1], where[3 * k + 2]);
        } else if (index <= -2 && job.slab) {
          results[j] = Buffer.from(job.slab, where[3 * k + 1], where[3 * k + 2]);
        } else {
          const [code, message] = errors[k] ?? ['EIO', 'read failed'];
          results[j] = Object.assign(new Error(message), { code });
        }
      }
      job.done(results);
    }
  };

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', this.#onReply);
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
    for (const jobs of this.#inFlight.values()) for (const job of jobs) job.done([err]);
    this.#inFlight.clear();
  }
}
