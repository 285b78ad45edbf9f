/**
 * The per-body summary kept in the mail store (like Dovecot's dovecot.index.cache): the wire text of
 * ENVELOPE, BODY and BODYSTRUCTURE (RFC 9051 §7.5.2) and the length of the message header, computed once
 * from a body's bytes and stored as an opaque annotation of the body (`ImapBackend.setBlobAnnotations`).
 * A body never changes, and none of these values depend on the session (IMAP4rev2 or not: ENVELOPE and
 * BODYSTRUCTURE carry the raw header bytes either way), so one summary serves every session and every copy
 * of the message. `FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE)` then reads one query for the whole range.
 *
 * ENVELOPE needs the header only: a summary made from the header block has no BODY/BODYSTRUCTURE; these
 * are added the first time the whole message is parsed.
 */
import { bodyStructure } from '../mime/bodystructure.js';
import type { CachedMessage } from '../mime/cache.js';
import { envelopeOf, envelopeWire } from '../mime/envelope.js';
import { parseHeader } from '../mime/header.js';
import { toBuffer } from '../wire.js';

/** The annotation name; a change of what is computed (or how) takes a new version. */
export const SUMMARY_ANNOTATION = 'imap.summary.1';

/** Octets read from the start of a body for a header-only summary (most headers are shorter). */
export const HEADER_READ = 16 * 1024;

/** Wire text as a latin1 string: one character per octet (8-bit header bytes kept as they are). */
export type Octets = string;

export interface Summary {
  /** Octets of the top-level header, the empty line included (where BODY[TEXT] starts). */
  headerLength: number;
  /** The ENVELOPE value as sent. */
  envelope: Octets;
  /** BODY and BODYSTRUCTURE as sent; absent in a summary made from the header only. */
  body?: Octets;
  bodyStructure?: Octets;
}

/**
 * The annotation text: `<header length> <envelope length>[ <body length> <bodystructure length>]` LF, then
 * the three texts back to back. Lengths, not JSON: nothing to escape, and 10,000 of them cut apart in a
 * few milliseconds.
 */
export function encodeSummary(s: Summary): string {
  if (s.body !== undefined && s.bodyStructure !== undefined) {
    return `${s.headerLength} ${s.envelope.length} ${s.body.length} ${s.bodyStructure.length}\n${s.envelope}${s.body}${s.bodyStructure}`;
  }
  return `${s.headerLength} ${s.envelope.length}\n${s.envelope}`;
}

/** The summary of an annotation text; null for anything unexpected (recomputed then). */
export function decodeSummary(text: string | undefined): Summary | null {
  if (text === undefined) return null;
  const nl = text.indexOf('\n');
  if (nl < 0 || nl > 64) return null;
  // Up to four decimal numbers separated by single spaces (no split/map: this runs once per message).
  const n = [0, 0, 0, 0];
  let count = 0;
  let digits = 0;
  for (let i = 0; i <= nl; i++) {
    const c = i === nl ? 0x20 : text.charCodeAt(i);
    if (c === 0x20) {
      if (digits === 0 || count === 4) return null;
      count++;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      n[count] = (n[count] as number) * 10 + (c - 0x30);
      digits++;
    } else return null;
  }
  if (count !== 2 && count !== 4) return null;
  const [h, e, b, st] = n as [number, number, number, number];
  let at = nl + 1;
  const out: Summary = { headerLength: h, envelope: text.slice(at, at + e) };
  at += e;
  if (count === 4) {
    out.body = text.slice(at, at + b);
    at += b;
    out.bodyStructure = text.slice(at, at + st);
    at += st;
  }
  return at === text.length ? out : null;
}

const latin1 = (w: Parameters<typeof toBuffer>[0]): Octets => toBuffer(w).toString('latin1');

/** Everything, from the parsed message. */
export function summaryOf(msg: CachedMessage): Summary {
  const root = msg.structure;
  return {
    headerLength: root.bodyStart - root.start,
    envelope: latin1(envelopeWire(envelopeOf(msg.raw, root))),
    body: latin1(bodyStructure(msg.raw, root, false)),
    bodyStructure: latin1(bodyStructure(msg.raw, root, true)),
  };
}

/**
 * ENVELOPE and the header length from the first octets of a body (`complete`: they are the whole body).
 * Null when the header goes on past them (no empty line yet): the caller reads the whole body then. The
 * fields found before the empty line are exactly those a parse of the whole message finds (RFC 5322
 * §2.1: the header ends at the first empty line).
 */
export function summaryOfHead(head: Buffer, complete: boolean): Summary | null {
  const header = parseHeader(head, 0, head.length);
  if (!header.hasSeparator && !complete) return null;
  return {
    headerLength: header.bodyStart,
    envelope: latin1(envelopeWire(envelopeOf(head, header))),
  };
}

/** Estimated heap cost of a cached summary besides its text (the entry, the key). */
const SUMMARY_ENTRY_OVERHEAD = 128;

/**
 * The summaries last read from or written to the store, in memory, by body id (a bounded LRU shared by the
 * sessions): a repeated `FETCH 1:* ENVELOPE` needs no query for them at all. The store stays the
 * reference: what is not here is read from it.
 */
export class SummaryCache {
  readonly #entries = new Map<string, string>();
  #bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  has(blobId: string): boolean {
    return this.#entries.has(blobId);
  }

  /** The annotation text (see `encodeSummary`), not marked as recently used (a bulk FETCH reads many). */
  get(blobId: string): string | undefined {
    return this.#entries.get(blobId);
  }

  set(blobId: string, text: string): void {
    const cost = text.length + SUMMARY_ENTRY_OVERHEAD;
    if (cost > this.maxBytes) return;
    const old = this.#entries.get(blobId);
    if (old !== undefined) {
      this.#entries.delete(blobId);
      this.#bytes -= old.length + SUMMARY_ENTRY_OVERHEAD;
    }
    this.#entries.set(blobId, text);
    this.#bytes += cost;
    for (const [k, v] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= v.length + SUMMARY_ENTRY_OVERHEAD;
    }
  }
}
