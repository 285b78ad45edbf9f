/// <reference path="./types/libmime.d.ts" />
/**
 * A streaming MIME splitter (RFC 2045, RFC 2046 §5.1) that gives exact byte offsets: chunks go in,
 * events come out synchronously (a whole chunk at a time, no per-line scheduling), and the caller handles
 * them before it feeds the next chunk. Memory: one chunk, the header of the part being read (at most 1 MiB),
 * and, of a line longer than a chunk, only what may still be a boundary.
 *
 * Events: `node` once a part's header is read (its offsets and parsed fields), `body` with slices of a leaf
 * part's body (exact bytes: the line break before the next boundary belongs to the boundary, §5.1.1, and is
 * never part of a body), `end` when a leaf part ends (the offset its body ends at).
 *
 * Embedded messages (`message/rfc822` with an identity encoding, not `Content-Disposition: attachment`) are
 * opened: their parts are parts too. Malformed structure is reported, never repaired: a multipart without
 * a boundary, an unclosed multipart at the end, a header over 1 MiB, more than 1000 parts.
 */
import libmime from 'libmime';

export interface MimeNode {
  parent: MimeNode | null;
  /** The message's root, or the root of an embedded message. */
  root: boolean;
  /** Offset of the part's first header byte. */
  start: number;
  /** Offset of the part's body (after the blank line). */
  bodyStart: number;
  /** Header fields, names in lower case, unfolded values in order. */
  headers: Map<string, string[]>;
  /** The raw header, as it is in the message (blank line included). */
  rawHeader: Buffer;
  contentType: string;
  disposition: string;
  filename: string;
  encoding: string;
  boundary: string | null;
  multipart: boolean;
  /** An embedded message whose parts are read as parts. */
  opened: boolean;
}

export type MimeEvent =
  | { type: 'node'; node: MimeNode }
  | { type: 'body'; node: MimeNode; data: Buffer }
  | { type: 'end'; node: MimeNode; bodyEnd: number };

const MAX_HEADER = 1024 * 1024;
const MAX_NODES = 1000;
/** A line that may still be a boundary delimiter is kept whole up to this length (RFC 2046: 70 + 4). */
const MAX_BOUNDARY_LINE = 256;

type State = 'head' | 'body' | 'skip';

const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from('\r\n');
const LF = Buffer.from('\n');

function parseHeader(raw: Buffer): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  // 8-bit header text is taken as UTF-8 (RFC 6532); encoded words and RFC 2231 values are ASCII anyway.
  const text = raw.toString('utf8').replace(/\r?\n[ \t]+/g, ' ');
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const list = fields.get(name) ?? [];
    list.push(line.slice(colon + 1).trim());
    fields.set(name, list);
  }
  return fields;
}

function decodedName(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

export class MimeScanner {
  #state: State = 'head';
  #node: MimeNode;
  /** Open multiparts, innermost last. */
  readonly #stack: MimeNode[] = [];
  #headerParts: Buffer[] = [];
  #headerBytes = 0;
  #nodes = 1;
  /** Bytes not yet scanned (an incomplete line), and the offset of their first byte. */
  #rest: Buffer = Buffer.alloc(0);
  #restStart = 0;
  /** The current line started in an earlier chunk and is too long to be a boundary. */
  #midLine = false;
  /** The line break of the last body line, held back until the next line shows it is not a boundary's. */
  #heldEol: Buffer = EMPTY;
  /** Offset where the current leaf's body data seen so far ends (its held line break not counted). */
  #bodyEnd = 0;
  #malformed: string | null = null;
  #events: MimeEvent[] = [];

  constructor() {
    this.#node = this.#newNode(null, 0, true);
  }

  /** Why the structure is malformed, or null. Scanning stops at the first problem. */
  get malformed(): string | null {
    return this.#malformed;
  }

  #newNode(parent: MimeNode | null, start: number, root: boolean): MimeNode {
    return {
      parent,
      root,
      start,
      bodyStart: start,
      headers: new Map(),
      rawHeader: Buffer.alloc(0),
      contentType: 'text/plain',
      disposition: '',
      filename: '',
      encoding: '',
      boundary: null,
      multipart: false,
      opened: false,
    };
  }

  /** Scans `chunk` (the bytes after everything fed so far); returns the events it produced. */
  write(chunk: Buffer): MimeEvent[] {
    this.#events = [];
    if (this.#malformed) return this.#events;
    const buf = this.#rest.length > 0 ? Buffer.concat([this.#rest, chunk]) : chunk;
    const base = this.#restStart;
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) break;
      this.#line(buf, pos, nl + 1, base);
      if (this.#malformed) return this.#events;
      pos = nl + 1;
    }
    this.#carry(buf, pos, base);
    this.#flushBody(buf, base);
    return this.#events;
  }

  /** The end of the input: the last line, the last part's end, the structure's check. */
  end(): MimeEvent[] {
    this.#events = [];
    if (this.#malformed) return this.#events;
    const buf = this.#rest;
    const base = this.#restStart;
    if (buf.length > 0) this.#line(buf, 0, buf.length, base);
    this.#rest = Buffer.alloc(0);
    if (this.#malformed) return this.#events;
    this.#flushBody(buf, base);
    if (this.#state === 'head' && this.#headerBytes > 0 && !this.#node.root)
      this.#finishHeader(base + buf.length);
    if (this.#state === 'body') {
      // At the end of the input the held line break is the body's own (nothing follows it).
      if (this.#heldEol.length > 0) this.#emit(this.#heldEol);
      this.#bodyEnd += this.#heldEol.length;
      this.#heldEol = EMPTY;
      this.#endLeaf();
    }
    if (this.#stack.length > 0)
      this.#malformed = `multipart not closed (boundary ${this.#stack.at(-1)?.boundary ?? ''})`;
    return this.#events;
  }

  /** Keeps an incomplete line for the next chunk, or passes on what can no longer be a boundary. */
  #carry(buf: Buffer, pos: number, base: number): void {
    const rest = buf.subarray(pos);
    const mayBeBoundary =
      !this.#midLine && rest.length <= MAX_BOUNDARY_LINE && (rest.length < 2 || rest[0] === 0x2d);
    if (this.#state === 'head' || mayBeBoundary || (rest.length < 2 && !this.#midLine)) {
      this.#rest = Buffer.from(rest);
      this.#restStart = base + pos;
      if (this.#state === 'head' && this.#headerBytes + rest.length > MAX_HEADER)
        this.#malformed = 'header over 1 MiB';
      return;
    }
    // A long line (or the rest of one): not a boundary; body bytes go on now, but a last CR waits for its
    // LF (a line break split between two chunks).
    const cut = buf[buf.length - 1] === 0x0d ? buf.length - 1 : buf.length;
    if (this.#state === 'body' && cut > pos) this.#bodyLine(buf, pos, cut, base, true);
    this.#midLine = true;
    this.#rest = Buffer.from(buf.subarray(cut));
    this.#restStart = base + cut;
  }

  #line(buf: Buffer, from: number, to: number, base: number): void {
    const continuing = this.#midLine;
    this.#midLine = false;
    if (!continuing && buf[from] === 0x2d && buf[from + 1] === 0x2d && this.#stack.length > 0) {
      const hit = this.#boundary(buf.toString('latin1', from, Math.min(to, from + MAX_BOUNDARY_LINE)));
      if (hit) {
        this.#delimiter(hit.index, hit.close, base + from, base + to, buf, base);
        return;
      }
    }
    if (this.#state === 'skip') return;
    if (this.#state === 'body') {
      this.#bodyLine(buf, from, to, base, false);
      return;
    }
    // The header: up to the blank line.
    const blank = buf[to - 1] === 0x0a && (to - from === 1 || (to - from === 2 && buf[from] === 0x0d));
    if (!blank || continuing) {
      this.#headerParts.push(Buffer.from(buf.subarray(from, to)));
      this.#headerBytes += to - from;
      if (this.#headerBytes > MAX_HEADER) this.#malformed = 'header over 1 MiB';
      return;
    }
    this.#headerParts.push(Buffer.from(buf.subarray(from, to)));
    this.#headerBytes += to - from;
    this.#finishHeader(base + to);
  }

  /** Which open multipart's delimiter `line` is (innermost first), and whether it is the closing one. */
  #boundary(line: string): { index: number; close: boolean } | null {
    const text = line.replace(/[ \t\r\n]+$/, '');
    for (let i = this.#stack.length - 1; i >= 0; i--) {
      const b = this.#stack[i]?.boundary as string;
      if (text === `--${b}`) return { index: i, close: false };
      if (text === `--${b}--`) return { index: i, close: true };
    }
    return null;
  }

  #delimiter(
    index: number,
    close: boolean,
    lineStart: number,
    lineEnd: number,
    buf: Buffer,
    base: number,
  ): void {
    this.#flushBody(buf, base);
    if (this.#state === 'body') {
      // The held line break belongs to this delimiter (RFC 2046 §5.1.1).
      this.#heldEol = EMPTY;
      this.#endLeaf();
    } else if (this.#state === 'head' && this.#headerBytes > 0) {
      // A part whose header runs into the delimiter: a header without a body.
      this.#finishHeader(lineStart);
      if ((this.#state as State) === 'body') this.#endLeaf();
    }
    const parent = this.#stack[index] as MimeNode;
    this.#stack.length = close ? index : index + 1;
    if (close) {
      this.#state = 'skip';
      return;
    }
    if (++this.#nodes > MAX_NODES) {
      this.#malformed = `more than ${MAX_NODES} parts`;
      return;
    }
    this.#node = this.#newNode(parent, lineEnd, false);
    this.#state = 'head';
    this.#headerParts = [];
    this.#headerBytes = 0;
  }

  #finishHeader(bodyStart: number): void {
    const node = this.#node;
    node.rawHeader = Buffer.concat(this.#headerParts);
    node.bodyStart = bodyStart;
    node.headers = parseHeader(node.rawHeader);
    this.#headerParts = [];
    this.#headerBytes = 0;
    const type = libmime.parseHeaderValue(node.headers.get('content-type')?.[0] ?? 'text/plain');
    const disposition = libmime.parseHeaderValue(node.headers.get('content-disposition')?.[0] ?? '');
    node.contentType = (type.value || 'text/plain').toLowerCase().trim();
    node.disposition = (disposition.value || '').toLowerCase().trim();
    const name = disposition.params.filename ?? type.params.name ?? '';
    node.filename = name ? decodedName(name) : '';
    node.encoding = (node.headers.get('content-transfer-encoding')?.[0] ?? '')
      .replace(/\(.*\)/g, '')
      .trim()
      .toLowerCase();
    node.multipart = node.contentType.startsWith('multipart/');
    this.#events.push({ type: 'node', node });
    if (node.multipart) {
      const boundary = type.params.boundary;
      if (!boundary) {
        this.#malformed = 'multipart without boundary';
        return;
      }
      node.boundary = boundary;
      this.#stack.push(node);
      this.#state = 'skip'; // the preamble
      return;
    }
    const identity = ['', '7bit', '8bit', 'binary'].includes(node.encoding);
    if (node.contentType === 'message/rfc822' && identity && node.disposition !== 'attachment') {
      node.opened = true;
      if (++this.#nodes > MAX_NODES) {
        this.#malformed = `more than ${MAX_NODES} parts`;
        return;
      }
      this.#node = this.#newNode(node, bodyStart, true);
      this.#state = 'head';
      return;
    }
    this.#state = 'body';
    this.#bodyEnd = bodyStart;
    this.#heldEol = EMPTY;
    this.#pending = null;
  }

  /** Body bytes of the current chunk not yet emitted: [from, to) of the chunk being scanned. */
  #pending: { from: number; to: number } | null = null;

  #bodyLine(buf: Buffer, from: number, to: number, base: number, partial: boolean): void {
    // The line's own break is held back; the one held before is the body's after all.
    let eol = 0;
    if (!partial && buf[to - 1] === 0x0a) eol = buf[to - 2] === 0x0d && to - 2 >= from ? 2 : 1;
    if (this.#heldEol.length > 0) {
      const held = this.#heldEol;
      this.#heldEol = EMPTY;
      if (this.#pending && this.#pending.to === from - held.length) this.#pending.to = from;
      else {
        this.#flushBody(buf, base);
        this.#emit(held);
      }
      this.#bodyEnd += held.length;
    }
    const contentEnd = to - eol;
    if (this.#pending && this.#pending.to === from) this.#pending.to = contentEnd;
    else {
      this.#flushBody(buf, base);
      this.#pending = { from, to: contentEnd };
    }
    this.#bodyEnd = base + contentEnd;
    if (eol > 0) this.#heldEol = eol === 2 ? CRLF : LF;
  }

  #flushBody(buf: Buffer, _base: number): void {
    const p = this.#pending;
    this.#pending = null;
    if (p && p.to > p.from) this.#emit(buf.subarray(p.from, p.to));
  }

  #emit(data: Buffer): void {
    this.#events.push({ type: 'body', node: this.#node, data });
  }

  #endLeaf(): void {
    this.#events.push({ type: 'end', node: this.#node, bodyEnd: this.#bodyEnd });
    this.#state = 'skip';
  }
}
