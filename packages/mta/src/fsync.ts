/** Durable file writes: stream to a temp file, fsync, rename, fsync the directory (POSIX rename durability). */
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export class TooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`message larger than ${limit} bytes`);
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fd = await open(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/**
 * Streams `source` into `finalPath` durably; never buffers the whole message. Throws TooLargeError (and
 * leaves nothing behind) when more than `maxBytes` arrive.
 */
export async function writeDurably(
  source: Readable,
  tmpPath: string,
  finalPath: string,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<number> {
  await mkdir(dirname(tmpPath), { recursive: true });
  await mkdir(dirname(finalPath), { recursive: true });
  let size = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > maxBytes) cb(new TooLargeError(maxBytes));
      else cb(null, chunk);
    },
  });
  const out = createWriteStream(tmpPath, { flags: 'wx' });
  try {
    await pipeline(source, limiter, out);
    const fd = await open(tmpPath, 'r+');
    try {
      await fd.sync();
    } finally {
      await fd.close();
    }
    await rename(tmpPath, finalPath);
    await fsyncDir(dirname(finalPath));
    return size;
  } catch (err) {
    await rm(tmpPath, { force: true });
    throw err;
  }
}
