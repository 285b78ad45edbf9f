/**
 * Second pass: the spooled message again, with the gateway's header inserted at the end of the root
 * header and each replaced part's raw bytes swapped for its replacement. Every other byte is copied from
 * the spool file as it is, in ranges, so memory stays bounded whatever the message's size.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

export interface Edit {
  /** Raw byte range replaced by `bytes` (start === end: an insertion). */
  start: number;
  end: number;
  bytes: Buffer;
}

export function spliceFile(path: string, edits: readonly Edit[]): Readable {
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  async function* bytes() {
    let pos = 0;
    for (const e of sorted) {
      if (e.start < pos) throw new Error('gateway: overlapping edits');
      if (e.start > pos) yield* createReadStream(path, { start: pos, end: e.start - 1 });
      yield e.bytes;
      pos = e.end;
    }
    yield* createReadStream(path, { start: pos });
  }
  return Readable.from(bytes(), { objectMode: false });
}
