/**
 * Built-in lists in the MTA (issue 19). The MX pipeline (inbound.ts) calls two hooks:
 *
 * - `atRcpt`: a list address of this region, or one of its control addresses (`<list>-request@`,
 *   `<list>-bounces@`), is taken here instead of the recipient policy. The envelope sender is checked
 *   against the list's sender rule (rules.ts): `550 5.7.1` with the reason. A list takes a transaction of
 *   its own (`452 4.5.3` to any other recipient, which the client sends again in a new transaction, RFC 5321
 *   §4.5.3.1.10). A list of another region is checked here too, then left to the policy, which queues it to
 *   its region; refused there (a change not yet replicated here), the sender gets a DSN from this region.
 * - `atData`: the message is stored durably in the post store before the 250 (post-store.ts); its From:
 *   must pass the sender rule as well, and a message that carries this list's List-Id or X-Loop already
 *   is refused (`554 5.4.6`, a loop). A moderated list holds the post and notifies the owner; otherwise,
 *   and once approved, `process` sends one copy per member (deliver.ts) with the List-* headers and the
 *   envelope sender `<list>-bounces@`, which takes the members' bounces (logged, never passed on to the
 *   poster). A reply to a moderation notice to `<list>-request@` approves or rejects the post it names, when
 *   it comes from the owner and quotes the notice's secret token.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { type Logger, logEvent, logEventAt } from '@delegato/observability';
import { simpleParser } from 'mailparser';
import { ulid } from 'ulid';
import { TooLargeError } from '../fsync.js';
import type { Destination } from '../policy.js';
import type { DeliveryStore } from '../ports.js';
import type { OutboundQueue } from '../queue/outbound-queue.js';
import { replyError } from '../replies.js';
import { type DeliveryDeps, deliverTo } from './deliver.js';
import {
  addressIn,
  controlAddress,
  decodeWords,
  header,
  listHeaders,
  loopsThrough,
  readHeaders,
} from './headers.js';
import { ListModeration } from './moderation.js';
import { MODERATION_TAG, moderationNotice, type Notice, posterNotice } from './notices.js';
import type { ListDirectory, MailingList } from './ports.js';
import { type ListPost, PostStore } from './post-store.js';
import { refusalFor } from './rules.js';

export interface ListServiceOptions {
  /** The post store's directory (`<data dir>/lists`). */
  dir: string;
  region: string;
  /** The host name in the notices' Message-IDs. */
  hostname: string;
  directory: ListDirectory;
  store: DeliveryStore;
  queue: OutboundQueue;
  logger: Logger;
  /** Days a held post waits for the owner before it expires (default 7). */
  holdDays?: number;
  now?: () => Date;
}

/** What a RCPT of a list address is. */
export interface ListTarget {
  kind: 'post' | 'request' | 'bounces';
  list: MailingList;
}

/** The part of the MX transaction the hooks see (inbound.ts's Transaction has these fields). */
export interface ListTransaction {
  destinations: Array<{ rcpt: string; dest: Destination }>;
  /** The keys of the accepted RCPTs (the list's is added when the hook takes it). */
  rcpts: Set<string>;
  lists?: ListTarget[];
}

/** What `atData` needs from the MX besides the message. */
export interface ListDataContext {
  sender: string;
  maxBytes: number;
  /** Reads and drops the rest of the DATA stream (after a failure). */
  drain: () => Promise<void>;
  /** The From: guard's refusal of an authenticated sender, when it fired. */
  violation: () => Error | undefined;
}

/** The hooks inbound.ts calls. */
export interface ListHooks {
  /** True when the hook took the recipient (`key`: its RCPT key, added to `tx.rcpts`). */
  atRcpt(rcpt: string, sender: string, tx: ListTransaction, key: string): Promise<boolean>;
  atData(targets: ListTarget[], source: Readable, ctx: ListDataContext): Promise<string>;
}

const CONTROL = /^(.+)-(request|bounces)(@[^@]+)$/;
const DAY_MS = 24 * 60 * 60 * 1000;

export class ListService implements ListHooks {
  readonly moderation: ListModeration;
  readonly #store: PostStore;
  readonly #now: () => Date;
  readonly #deps: DeliveryDeps;
  #running: Promise<void> | null = null;
  #again = false;
  #closed = false;

  private constructor(private readonly opts: ListServiceOptions) {
    this.#now = opts.now ?? (() => new Date());
    this.#store = PostStore.open(opts.dir);
    this.moderation = new ListModeration(this.#store, () => void this.process(), this.#now);
    this.#deps = {
      region: opts.region,
      directory: opts.directory,
      store: opts.store,
      queue: opts.queue,
      now: this.#now,
    };
  }

  /** Opens the post store and sends what was accepted or decided before a restart. */
  static open(opts: ListServiceOptions): ListService {
    const service = new ListService(opts);
    void service.process();
    return service;
  }

  /** The list target `rcpt` names, and whether the list is homed in this region; null: not a list's. */
  async #target(rcpt: string): Promise<{ target: ListTarget; region: string } | null> {
    const address = rcpt.toLowerCase();
    const found = await this.opts.directory.lookupRecipient(address);
    let base = address;
    let kind: ListTarget['kind'] = 'post';
    if (found.kind !== 'mailing-list') {
      const m = found.kind === 'unknown' ? CONTROL.exec(address) : null;
      if (!m) return null;
      base = `${m[1]}${m[3]}`;
      kind = m[2] as 'request' | 'bounces';
    }
    const home = kind === 'post' ? found : await this.opts.directory.lookupRecipient(base);
    if (home.kind !== 'mailing-list') return null;
    const list = await this.opts.directory.lookupList(base);
    return list ? { target: { kind, list }, region: home.region } : null;
  }

  async atRcpt(rcpt: string, sender: string, tx: ListTransaction, key: string): Promise<boolean> {
    // A list of this region takes the transaction alone: every other recipient waits for the next one.
    if (tx.lists?.length) throw replyError('listAlone');
    const found = await this.#target(rcpt);
    if (!found) return false;
    const { target, region } = found;
    if (target.kind === 'post') {
      const refusal = refusalFor(target.list, sender);
      if (refusal) {
        logEvent(this.opts.logger, 'lists.refused', { list: target.list.address, sender, reason: refusal });
        throw replyError('listSenderRefused', refusal);
      }
    }
    if (region !== this.opts.region) {
      // Another region's list: checked, then queued to its region by the recipient policy; its control
      // addresses (replies to notices, members' bounces) are queued there as they are.
      if (target.kind === 'post') return false;
      const address = rcpt.toLowerCase();
      tx.destinations.push({ rcpt: address, dest: { kind: 'queue', route: 'region', address, region } });
      tx.rcpts.add(key);
      return true;
    }
    if (tx.destinations.length > 0) throw replyError('listAlone');
    tx.lists = [target];
    tx.rcpts.add(key);
    return true;
  }

  async atData(targets: ListTarget[], source: Readable, ctx: ListDataContext): Promise<string> {
    const target = targets[0];
    if (!target) throw replyError('unknownUser');
    const id = ulid();
    let size: number;
    try {
      size = await this.#store.writeMessage(id, source, ctx.maxBytes);
    } catch (err) {
      await ctx.drain();
      const violation = ctx.violation();
      if (violation) throw violation;
      if (err instanceof TooLargeError) throw replyError('messageTooBig');
      throw err;
    }
    let keep = false;
    try {
      if (target.kind === 'bounces') {
        const fields = await readHeaders(this.#store.messagePath(id));
        logEvent(this.opts.logger, 'lists.bounce', {
          list: target.list.address,
          id,
          subject: decodeWords(header(fields, 'subject') ?? '').slice(0, 200),
        });
        return `2.6.0 Bounce for ${target.list.address} received as ${id}`;
      }
      if (target.kind === 'request') return await this.#reply(target.list, id, ctx.sender);
      const reply = await this.#post(target.list, id, size, ctx.sender);
      keep = true;
      return reply;
    } finally {
      if (!keep) await this.#store.remove(id);
    }
  }

  async #post(list: MailingList, id: string, size: number, sender: string): Promise<string> {
    const fields = await readHeaders(this.#store.messagePath(id));
    if (loopsThrough(fields, list)) {
      logEvent(this.opts.logger, 'lists.refused', { list: list.address, sender, reason: 'loop' });
      throw replyError('listLoop');
    }
    const from = addressIn(header(fields, 'from'));
    const refusal = list.senders === 'anyone' ? null : refusalFor(list, from);
    if (refusal) {
      logEvent(this.opts.logger, 'lists.refused', { list: list.address, sender, from, reason: refusal });
      throw replyError('listSenderRefused', `From: ${refusal}`);
    }
    const now = this.#now();
    const post: ListPost = {
      id,
      list: list.address,
      sender: sender.toLowerCase(),
      from,
      subject: decodeWords(header(fields, 'subject') ?? '').slice(0, 500),
      size,
      state: list.moderated ? 'held' : 'pending',
      receivedAt: now.toISOString(),
      expiresAt: list.moderated
        ? new Date(now.getTime() + (this.opts.holdDays ?? 7) * DAY_MS).toISOString()
        : null,
      token: randomBytes(16).toString('hex'),
    };
    await this.#store.save(post);
    logEvent(this.opts.logger, list.moderated ? 'lists.held' : 'lists.accepted', {
      list: list.address,
      id,
      sender: post.sender,
      size,
    });
    if (!list.moderated) {
      void this.process();
      return `2.6.0 Message accepted for ${list.address} as ${id}`;
    }
    await this.#notice(moderationNotice(list, post, this.opts.hostname, now), list.address, id);
    return `2.6.0 Message accepted as ${id}, held for the approval of the owner of ${list.address}`;
  }

  /** A reply to a moderation notice: from the owner, quoting the post's id and token; approve or reject. */
  async #reply(list: MailingList, id: string, sender: string): Promise<string> {
    const parsed = await simpleParser(
      createReadStream(this.#store.messagePath(id), { start: 0, end: 256 * 1024 - 1 }),
      { skipHtmlToText: false, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true },
    );
    const refuse = (why: string): never => {
      logEvent(this.opts.logger, 'lists.refused', { list: list.address, sender, reason: `reply: ${why}` });
      throw replyError('moderationReply', why);
    };
    const from = parsed.from?.value[0]?.address?.toLowerCase() ?? '';
    if (!(await this.#isOwner(list, sender)) && !(await this.#isOwner(list, from)))
      refuse('only the list owner may moderate');
    const tag = MODERATION_TAG.exec(parsed.subject ?? '');
    if (!tag?.[1] || !tag[2]) refuse('the subject must keep the [moderate ...] tag of the notice');
    const postId = (tag?.[1] ?? '').toUpperCase();
    const post = await this.#store.get(postId);
    const token = Buffer.from(tag?.[2]?.toLowerCase() ?? '');
    if (
      !post ||
      post.list !== list.address ||
      post.state !== 'held' ||
      token.length !== post.token.length ||
      !timingSafeEqual(token, Buffer.from(post.token))
    )
      refuse('no such held message (decided or expired already?)');
    const first = (parsed.text ?? '')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l.length > 0 && !l.startsWith('>'));
    const word = /^(approve|reject)\b/i.exec(first ?? '')?.[1]?.toLowerCase();
    if (!word) refuse('write "approve" or "reject" on the first line');
    const by = `reply:${list.owner}`;
    if (word === 'approve') await this.moderation.approve(list.address, postId, by);
    else await this.moderation.reject(list.address, postId, by);
    return `2.6.0 ${word === 'approve' ? 'Approved' : 'Rejected'}: ${postId}`;
  }

  /** The owner's address, or another address of the owner's mailbox (renamed since the list was made). */
  async #isOwner(list: MailingList, address: string): Promise<boolean> {
    const who = address.toLowerCase();
    if (who === list.owner) return true;
    if (who === '') return false;
    const [a, b] = await Promise.all([
      this.opts.directory.lookupRecipient(who),
      this.opts.directory.lookupRecipient(list.owner),
    ]);
    return a.kind === 'mailbox' && b.kind === 'mailbox' && a.mailboxId === b.mailboxId;
  }

  async #notice(notice: Notice, list: string, id: string): Promise<void> {
    try {
      await deliverTo(this.#deps, [notice.to], '', '', { text: notice.text });
    } catch (err) {
      logEventAt(
        this.opts.logger,
        'error',
        'lists.error',
        { list, id, err: (err as Error).message },
        'list notice not sent',
      );
    }
  }

  /** Sends what is due: approved or unmoderated posts to the members, notices for rejected and expired ones. */
  process(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        for (const post of await this.#store.all()) {
          if (post.state === 'held' || this.#closed) continue;
          try {
            await this.#settle(post);
          } catch (err) {
            logEventAt(
              this.opts.logger,
              'error',
              'lists.error',
              { list: post.list, id: post.id, err: (err as Error).message },
              'list post not sent; retried at the next change or start',
            );
          }
        }
      } while (this.#again && !this.#closed);
    })().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #settle(post: ListPost): Promise<void> {
    const list = await this.opts.directory.lookupList(post.list);
    if (post.state === 'pending' && list) {
      const members = list.members.filter((m) => m !== list.address);
      const done = await deliverTo(this.#deps, members, controlAddress(list, 'bounces'), listHeaders(list), {
        file: this.#store.messagePath(post.id),
      });
      logEvent(this.opts.logger, 'lists.released', {
        list: list.address,
        id: post.id,
        local: done.local,
        queued: done.queued,
        skipped: done.skipped.length,
        ...(post.decidedBy ? { by: post.decidedBy } : {}),
      });
    } else if (post.state === 'rejected' || post.state === 'expired' || !list) {
      const why = post.state === 'expired' ? 'expired' : 'rejected';
      logEvent(this.opts.logger, why === 'expired' ? 'lists.expired' : 'lists.rejected', {
        list: post.list,
        id: post.id,
        ...(post.decidedBy ? { by: post.decidedBy } : { by: 'list removed' }),
      });
      if (post.sender !== '') {
        await this.#notice(
          posterNotice({ address: post.list }, post, why, this.opts.hostname, this.#now()),
          post.list,
          post.id,
        );
      }
    }
    await this.#store.remove(post.id);
  }

  /** Stops sending; waits for the round in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#running;
  }
}
