/**
 * SEARCH evaluation over the selected mailbox's messages. Flags, dates, sizes, sets and MODSEQ come from
 * the metadata; header and body keys load the message (through the shared cache) only when reached.
 * String keys match case-insensitively as substrings of the decoded text (RFC 9051 §6.4.4): encoded words
 * and transfer encodings decoded, charsets converted.
 */
import type { MessageMeta } from '../backend.js';
import { Prefetcher } from '../fetch/bodies.js';
import { MISSING_HOST, parseAddressList } from '../mime/address.js';
import type { CachedMessage } from '../mime/cache.js';
import {
  decodeCharset,
  decodeEncodedWords,
  decodeHeaderValue,
  decodeTransfer,
  unfold,
} from '../mime/decode.js';
import { fieldValue, findField } from '../mime/header.js';
import { paramValue } from '../mime/params.js';
import type { MimePart } from '../mime/parser.js';
import { parseHeaderDay, utcDay } from '../parser/datetime.js';
import { inSequenceSet } from '../parser/sequence.js';
import type { SearchKey } from './parse.js';

export interface Candidate {
  seq: number;
  meta: MessageMeta;
}

export interface SearchEnv {
  /** Messages the client knows (for `*` in sequence sets). */
  count: number;
  maxUid: number;
  /** UIDs of the saved search result (`$`). */
  saved: ReadonlySet<number>;
  /** \Recent in this session (always false with IMAP4rev2). */
  isRecent(uid: number): boolean;
  load(meta: MessageMeta): Promise<CachedMessage>;
}

/** Case folding for matching (simple: lower case, as most servers do beyond i;unicode-casemap). */
function fold(text: string): string {
  return text.toLowerCase();
}

/** Whether any key needs the message bytes. */
export function needsContent(key: SearchKey): boolean {
  switch (key.k) {
    case 'header':
    case 'body':
    case 'text':
    case 'sent':
      return true;
    case 'not':
      return needsContent(key.key);
    case 'or':
      return needsContent(key.a) || needsContent(key.b);
    case 'and':
      return key.keys.some(needsContent);
    default:
      return false;
  }
}

/** Fields whose SEARCH also matches the parsed addresses (FROM, TO, CC, BCC keys and HEADER on them). */
const ADDRESS_FIELDS = new Set(['from', 'to', 'cc', 'bcc', 'sender', 'reply-to']);

/**
 * An address field as `Name <mailbox@host>, ...`, comments and routes dropped: `FROM user@host` finds
 * `<user (comment)@ (comment) host>` (as Dovecot, which searches the parsed addresses; RFC 9051 §6.4.4
 * leaves the matching to the server).
 */
function addressText(raw: Buffer): string {
  return parseAddressList(unfold(raw.toString('latin1')))
    .filter((a) => a.mailbox !== null)
    .map((a) => {
      const addr = a.host && a.host !== MISSING_HOST ? `${a.mailbox}@${a.host}` : `${a.mailbox}`;
      const name = a.name ? decodeEncodedWords(Buffer.from(a.name, 'latin1').toString('utf8')) : '';
      return name ? `${name} <${addr}>` : addr;
    })
    .join(', ');
}

/** Per-message lazily computed text. */
class MessageText {
  #headers: Map<string, string[]> | undefined;
  #body: string | undefined;
  #headerText: string | undefined;
  constructor(readonly msg: CachedMessage) {}

  headerValues(field: string): string[] {
    if (!this.#headers) {
      const map = new Map<string, string[]>();
      const { raw, structure } = this.msg;
      for (const f of structure.fields) {
        if (f.key === '') continue;
        const list = map.get(f.key) ?? [];
        const value = fieldValue(raw, f);
        list.push(fold(decodeHeaderValue(value)));
        if (ADDRESS_FIELDS.has(f.key)) list.push(fold(addressText(value)));
        map.set(f.key, list);
      }
      this.#headers = map;
    }
    return this.#headers.get(field) ?? [];
  }

  get headerText(): string {
    this.#headerText ??= fold(
      decodeHeaderValue(this.msg.raw.subarray(this.msg.structure.start, this.msg.structure.bodyStart)),
    );
    return this.#headerText;
  }

  get body(): string {
    this.#body ??= fold(bodyText(this.msg.raw, this.msg.structure, 0));
    return this.#body;
  }
}

/**
 * message/* types whose content is text (header-like fields) rather than a message: delivery and
 * disposition reports (RFC 3464 §2.1 message/delivery-status, RFC 8098 message/disposition-notification,
 * and their RFC 6533 global forms) and RFC 6532 message/global-headers. A client finds its own DSN by the
 * Original-Envelope-Id or Final-Recipient in them (as with Dovecot).
 */
const TEXTUAL_MESSAGE_SUBTYPES = new Set([
  'delivery-status',
  'disposition-notification',
  'global-delivery-status',
  'global-disposition-notification',
  'global-headers',
]);

/** Whether SEARCH BODY / TEXT look into a leaf part: text/* (text/rfc822-headers included) and the above. */
function isTextual(part: MimePart): boolean {
  return part.type === 'text' || (part.type === 'message' && TEXTUAL_MESSAGE_SUBTYPES.has(part.subtype));
}

/**
 * The decoded text of every textual part (transfer encoding and charset decoded), and of encapsulated
 * messages (message/rfc822, RFC 2046 §5.2.1) their decoded header and their textual parts.
 */
function bodyText(raw: Buffer, part: MimePart, depth: number): string {
  if (depth > 32) return '';
  if (part.children.length > 0) return part.children.map((c) => bodyText(raw, c, depth + 1)).join('\n');
  if (part.message) {
    const m = part.message;
    return `${decodeHeaderValue(raw.subarray(m.start, m.bodyStart))}\n${bodyText(raw, m, depth + 1)}`;
  }
  if (!isTextual(part)) return '';
  const body = decodeTransfer(raw.subarray(part.bodyStart, part.end), part.encoding ?? '7bit');
  return decodeCharset(body, paramValue(part.params, 'charset'));
}

function compareDay(op: 'before' | 'on' | 'since', day: number, target: number): boolean {
  return op === 'before' ? day < target : op === 'on' ? day === target : day >= target;
}

export async function matches(
  key: SearchKey,
  c: Candidate,
  env: SearchEnv,
  text: () => Promise<MessageText>,
): Promise<boolean> {
  switch (key.k) {
    case 'not':
      return !(await matches(key.key, c, env, text));
    case 'or':
      return (await matches(key.a, c, env, text)) || (await matches(key.b, c, env, text));
    case 'and':
      for (const k of key.keys) if (!(await matches(k, c, env, text))) return false;
      return true;
    case 'header': {
      const t = await text();
      const values = t.headerValues(key.field);
      const needle = fold(key.value);
      // RFC 9051 §6.4.4: an empty string matches every message that has the field.
      return values.some((v) => v.includes(needle));
    }
    case 'body':
      return (await text()).body.includes(fold(key.value));
    case 'text': {
      const t = await text();
      const needle = fold(key.value);
      return t.headerText.includes(needle) || t.body.includes(needle);
    }
    case 'sent': {
      const t = await text();
      const date = findField(t.msg.structure.fields, 'date');
      const day = date ? parseHeaderDay(fieldValue(t.msg.raw, date).toString('latin1')) : undefined;
      // Without a usable Date:, the internal date stands in (as Dovecot does).
      return compareDay(key.op, day ?? utcDay(c.meta.internalDate), key.day);
    }
    default:
      return matchesMeta(key, c, env);
  }
}

/**
 * What `key` says about a candidate from its metadata alone: true or false, or undefined when a header or
 * body key decides (three-valued: NOT undefined is undefined, OR with a true side is true, AND with a
 * false one is false).
 */
export function matchesWithoutContent(key: SearchKey, c: Candidate, env: SearchEnv): boolean | undefined {
  switch (key.k) {
    case 'header':
    case 'body':
    case 'text':
    case 'sent':
      return undefined;
    case 'not': {
      const v = matchesWithoutContent(key.key, c, env);
      return v === undefined ? undefined : !v;
    }
    case 'or': {
      const a = matchesWithoutContent(key.a, c, env);
      if (a === true) return true;
      const b = matchesWithoutContent(key.b, c, env);
      if (b === true) return true;
      return a === false && b === false ? false : undefined;
    }
    case 'and': {
      let unknown = false;
      for (const k of key.keys) {
        const v = matchesWithoutContent(k, c, env);
        if (v === false) return false;
        if (v === undefined) unknown = true;
      }
      return unknown ? undefined : true;
    }
    default:
      return matchesMeta(key, c, env);
  }
}

/** The metadata keys (the caller handles the others). */
function matchesMeta(key: SearchKey, c: Candidate, env: SearchEnv): boolean {
  switch (key.k) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'flag': {
      const f = key.flag.toLowerCase();
      return c.meta.flags.some((x) => x.toLowerCase() === f) === key.set;
    }
    case 'size':
      return key.op === 'larger' ? c.meta.size > key.n : c.meta.size < key.n;
    case 'internal':
      return compareDay(key.op, utcDay(c.meta.internalDate), key.day);
    case 'seq':
      return inSequenceSet(key.set, c.seq, env.count);
    case 'uid':
      return inSequenceSet(key.set, c.meta.uid, env.maxUid);
    case 'saved':
      return env.saved.has(c.meta.uid);
    case 'recent':
      return env.isRecent(c.meta.uid);
    case 'modseq':
      return c.meta.modSeq >= key.modSeq;
    default:
      return false;
  }
}

/** Messages read ahead of the one being evaluated (disk reads overlap with decoding and matching). */
const PREFETCH_COUNT = 16;
/** Octets read ahead at most. */
const PREFETCH_BYTES = 4 * 1024 * 1024;

/**
 * The candidates matching `key`, in order. Candidates the metadata decides are settled without reading
 * them; the others are read ahead of their turn, a bounded number at a time.
 */
export async function search(
  key: SearchKey,
  candidates: readonly Candidate[],
  env: SearchEnv,
): Promise<Candidate[]> {
  const known = candidates.map((c) => matchesWithoutContent(key, c, env));
  const toRead = candidates.filter((_, i) => known[i] === undefined).map((c) => c.meta);
  const prefetch = new Prefetcher(
    toRead,
    (meta: MessageMeta) => env.load(meta),
    (meta) => meta.size,
    PREFETCH_COUNT,
    PREFETCH_BYTES,
  );
  const out: Candidate[] = [];
  let taken = 0;
  try {
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i] as Candidate;
      const k = known[i];
      if (k !== undefined) {
        if (k) out.push(c);
        continue;
      }
      const text = prefetch.take(taken++).then((m) => new MessageText(m));
      // Observed by `matches` when a content key is reached (always, as `known` was undefined).
      text.catch(() => undefined);
      if (await matches(key, c, env, () => text)) out.push(c);
    }
  } finally {
    prefetch.abandon();
  }
  return out;
}
