/**
 * The owner's side of a moderated list, over the post store alone: what is held, a held message as text,
 * approve, reject, and expiry. Each decision is a durable state change; the sending it causes (the copies,
 * or the notice to the poster) is done by the running MTA (`ListService.process`, woken by `kick`), or at
 * its next start when the decision was taken with no appliance running (the CLI on the data dir).
 *
 * These methods do no authorisation: the caller has already checked that its actor may manage the list
 * (the directory's `getList`, scoped to the domain) or is its owner (self-service), and names the list;
 * a post of another list is `not found`, never shown.
 */
import { createReadStream } from 'node:fs';
import { simpleParser } from 'mailparser';
import { type ListPost, type PostStore, type PostView, postView } from './post-store.js';

/** How much of a held message is read to show it (its text; the rest is cut). */
const SHOW_BYTES = 1024 * 1024;
const SHOW_TEXT_CHARS = 64 * 1024;

export class PostNotFound extends Error {
  constructor(list: string, id: string) {
    super(`no held message ${id} for ${list}`);
    this.name = 'PostNotFound';
  }
}

/** A held message as the owner reads it: header fields and the text only (no HTML, no attachments). */
export interface PostText extends PostView {
  to: string;
  date: string;
  text: string;
  attachments: Array<{ filename: string; contentType: string; size: number }>;
}

export class ListModeration {
  constructor(
    readonly store: PostStore,
    private readonly kick: () => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async #held(list: string, id: string): Promise<ListPost> {
    const post = await this.store.get(id.trim().toUpperCase());
    if (!post || post.list !== list.toLowerCase() || post.state !== 'held') throw new PostNotFound(list, id);
    return post;
  }

  /** The held posts of `list`, oldest first. */
  async pending(list: string): Promise<PostView[]> {
    const all = await this.store.all();
    return all.filter((p) => p.list === list.toLowerCase() && p.state === 'held').map(postView);
  }

  /** A held post's text, read safely: at most 1 MiB parsed, text only, HTML reduced to its text. */
  async show(list: string, id: string): Promise<PostText> {
    const post = await this.#held(list, id);
    const parsed = await simpleParser(
      createReadStream(this.store.messagePath(post.id), { start: 0, end: SHOW_BYTES - 1 }),
      { skipHtmlToText: false, skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true },
    );
    const to = parsed.to
      ? (Array.isArray(parsed.to) ? parsed.to : [parsed.to]).map((a) => a.text).join(', ')
      : '';
    const text = parsed.text ?? '';
    return {
      ...postView(post),
      to,
      date: parsed.date ? parsed.date.toISOString() : '',
      text: text.length > SHOW_TEXT_CHARS ? `${text.slice(0, SHOW_TEXT_CHARS)}\n[…]` : text,
      attachments: parsed.attachments.map((a) => ({
        filename: a.filename ?? '(no name)',
        contentType: a.contentType,
        size: a.size,
      })),
    };
  }

  /** Approves a held post: it goes to the members. */
  approve(list: string, id: string, by: string): Promise<PostView> {
    return this.#decide(list, id, 'pending', by);
  }

  /** Rejects a held post: the poster gets a notice; the members nothing. */
  reject(list: string, id: string, by: string): Promise<PostView> {
    return this.#decide(list, id, 'rejected', by);
  }

  async #decide(list: string, id: string, state: 'pending' | 'rejected', by: string): Promise<PostView> {
    const post = await this.#held(list, id);
    const decided: ListPost = { ...post, state, decidedBy: by };
    await this.store.save(decided);
    this.kick();
    return postView(decided);
  }

  /** Held posts past their time become `expired` (a notice to the poster follows). Returns how many. */
  async expire(): Promise<number> {
    const now = this.now().toISOString();
    let n = 0;
    for (const post of await this.store.all()) {
      if (post.state !== 'held' || !post.expiresAt || post.expiresAt > now) continue;
      await this.store.save({ ...post, state: 'expired', decidedBy: 'expiry' });
      n++;
    }
    if (n > 0) this.kick();
    return n;
  }
}
