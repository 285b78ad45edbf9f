/**
 * Posts to built-in lists, kept durably in the local data dir (`<data dir>/lists/`) from the SMTP 250
 * until they are released to the members, or rejected or expired with a notice to the poster: one message
 * file (`<id>.eml`, fsynced) and one state file (`<id>.json`, written to a temp file, fsynced, renamed).
 * Held posts are local data of the region whose MX took them (the list's home region), not directory
 * data. A message file without its state file (a crash between the two) is removed at open.
 *
 * States: `held` (waiting for the owner), `pending` (accepted or approved: to be sent to the members),
 * `rejected` and `expired` (a notice to the poster is due); a post is removed once it is done.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { fsyncDir, writeDurably } from '../fsync.js';

export type PostState = 'held' | 'pending' | 'rejected' | 'expired';

export interface ListPost {
  id: string;
  /** The list's address. */
  list: string;
  /** The envelope sender (the poster; notices go there). */
  sender: string;
  /** The From: address. */
  from: string;
  /** The Subject:, decoded. */
  subject: string;
  size: number;
  state: PostState;
  receivedAt: string;
  /** When a held post expires (null: not held). */
  expiresAt: string | null;
  /** Who decided (`owner:<address>`, `cli:<user>`, `admin:<name>`, `reply`), once decided. */
  decidedBy?: string;
  /** The secret a reply to the moderation notice quotes (never shown by the interfaces). */
  token: string;
}

/** What the interfaces show of a post (no token). */
export type PostView = Omit<ListPost, 'token'>;

export function postView(p: ListPost): PostView {
  const { token: _token, ...view } = p;
  return view;
}

const ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Drops a leading `Return-Path:` line: the copies get the list's own envelope sender. */
function withoutReturnPath(): Transform {
  let first = true;
  let pending = '';
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!first) return cb(null, chunk);
      pending += chunk.toString('latin1');
      const nl = pending.indexOf('\n');
      if (nl < 0 && pending.length < 1024) return cb();
      first = false;
      const out = /^return-path:/i.test(pending) && nl >= 0 ? pending.slice(nl + 1) : pending;
      cb(null, Buffer.from(out, 'latin1'));
    },
    flush(cb) {
      cb(null, first && pending.length > 0 ? Buffer.from(pending, 'latin1') : undefined);
    },
  });
}

export class PostStore {
  private constructor(readonly dir: string) {}

  static open(dir: string): PostStore {
    mkdirSync(join(dir, 'posts'), { recursive: true, mode: 0o700 });
    mkdirSync(join(dir, 'tmp'), { recursive: true, mode: 0o700 });
    for (const f of readdirSync(join(dir, 'tmp'))) rmSync(join(dir, 'tmp', f), { force: true });
    const names = new Set(readdirSync(join(dir, 'posts')));
    for (const f of names) {
      if (f.endsWith('.eml') && !names.has(f.replace(/\.eml$/, '.json')))
        rmSync(join(dir, 'posts', f), { force: true });
    }
    return new PostStore(dir);
  }

  messagePath(id: string): string {
    if (!ID.test(id)) throw new Error(`not a post id: ${id}`);
    return join(this.dir, 'posts', `${id}.eml`);
  }

  /** Writes the message bytes durably (at most `maxBytes`); returns the size. */
  writeMessage(id: string, source: Readable, maxBytes: number): Promise<number> {
    return writeDurably(
      source.pipe(withoutReturnPath()),
      join(this.dir, 'tmp', `${id}.eml`),
      this.messagePath(id),
      maxBytes,
    );
  }

  /** Writes (or replaces) the post's state durably. */
  async save(post: ListPost): Promise<void> {
    const path = this.messagePath(post.id).replace(/\.eml$/, '.json');
    await writeDurably(
      Readable.from([JSON.stringify(post)]),
      join(this.dir, 'tmp', `${post.id}.${randomBytes(6).toString('hex')}.json`),
      path,
    );
  }

  async get(id: string): Promise<ListPost | null> {
    if (!ID.test(id)) return null;
    try {
      return JSON.parse(await readFile(this.messagePath(id).replace(/\.eml$/, '.json'), 'utf8')) as ListPost;
    } catch {
      return null;
    }
  }

  /** Every post, oldest first. */
  async all(): Promise<ListPost[]> {
    const out: ListPost[] = [];
    for (const f of readdirSync(join(this.dir, 'posts')).sort()) {
      if (!f.endsWith('.json')) continue;
      const post = await this.get(f.slice(0, -5));
      if (post) out.push(post);
    }
    return out;
  }

  /** Removes a post (state file first: a message file alone is removed at the next open). */
  async remove(id: string): Promise<void> {
    await rm(this.messagePath(id).replace(/\.eml$/, '.json'), { force: true });
    await rm(this.messagePath(id), { force: true });
    await fsyncDir(join(this.dir, 'posts'));
  }
}
