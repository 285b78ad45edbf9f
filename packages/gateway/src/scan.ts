/**
 * First pass over a spooled message: walks its MIME tree with the streaming splitter of mime-scanner.ts
 * (any depth, inside embedded messages too), decodes every part that may qualify into a temporary file
 * while hashing it, and records where in the raw bytes each qualifying part starts and ends. The second
 * pass (splice.ts) copies the raw bytes around those ranges, so everything else stays byte-identical by
 * construction.
 *
 * A qualifying part: a leaf inside a multipart (never the message's root, never a multipart or an
 * embedded message that the splitter opens), whose media type is in the domain's list (empty: any), that is
 * not the message's own text (a `text/*` part without a file name or `attachment` disposition), and whose
 * decoded size is over the domain's threshold.
 *
 * Malformed MIME (a multipart without a boundary, one whose closing boundary never comes, a header over
 * 1 MiB, more than 1000 parts) gives `malformed`: the caller delivers the message unmodified rather than
 * guess.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decoderFor } from './decode.js';
import { type MimeEvent, type MimeNode, MimeScanner } from './mime-scanner.js';
import { type GatewayRules, mediaTypeMatches, senderMatches } from './policy.js';

export interface ExtractedPart {
  /** The decoded content, in tmp/ until kept (store.keepFile) or dropped. */
  tmp: string;
  sha256: string;
  size: number;
  fileName: string;
  mediaType: string;
}

export interface Replacement {
  /** Raw byte range of the part (its header and body; not the line break before the next boundary). */
  start: number;
  end: number;
  part: ExtractedPart;
}

export interface ScanResult {
  /**
   * transform: replacements found; nothing: no part qualifies; not-applicable: a sender-only registration
   * and the message is not from a registered sender; malformed: see above.
   */
  outcome: 'transform' | 'nothing' | 'not-applicable' | 'malformed';
  reason?: string;
  /** The line ending of the root header (the replacement parts use it). */
  eol: '\r\n' | '\n';
  /** Offset of the line break ending the root header's last field: the gateway's field is inserted there. */
  headerEnd: number;
  replacements: Replacement[];
  /** The original carries a DKIM-Signature (which the change breaks). */
  dkimSigned: boolean;
}

export interface ScanOptions {
  rules: GatewayRules;
  /** Null: the recipient is registered for every message; otherwise only mail from these senders. */
  senders: readonly string[] | null;
  tmpPath: () => string;
}

const ADDRESS = /<([^<>\s@]+@[^<>\s@]+)>|([^\s<>,;:"()]+@[^\s<>,;:"()]+)/g;

function addressesIn(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) for (const m of v.matchAll(ADDRESS)) out.push((m[1] ?? m[2] ?? '').toLowerCase());
  return out.filter((a) => a.length > 0);
}

function qualifies(node: MimeNode, rules: GatewayRules): boolean {
  if (node.root || !node.parent || node.multipart || node.opened) return false;
  const type = node.contentType || 'text/plain';
  if (!mediaTypeMatches(rules.mediaTypes, type)) return false;
  // The message's own text stays: the reader would otherwise get an empty message.
  if (type.startsWith('text/') && node.disposition !== 'attachment' && !node.filename) return false;
  return true;
}

/** A part being decoded into a temporary file. */
class Extraction {
  size = 0;
  readonly #hash = createHash('sha256');
  readonly #decoder: Transform;
  readonly #done: Promise<void>;
  bodyEnd: number;
  /** The first bytes of the part's header, as the splitter gave them (checkOffsets). */
  readonly head: Buffer;

  constructor(
    readonly node: MimeNode,
    readonly start: number,
    headerEnd: number,
    readonly tmp: string,
    header: Buffer,
  ) {
    this.bodyEnd = headerEnd;
    this.head = Buffer.from(header.subarray(0, 64));
    this.#decoder = decoderFor(node.encoding);
    const hash = this.#hash;
    const count = (n: number) => {
      this.size += n;
    };
    this.#done = pipeline(
      this.#decoder,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          hash.update(chunk);
          count(chunk.length);
          yield chunk;
        }
      },
      createWriteStream(tmp),
    );
    // Awaited in end(); a failure before that is seen there, not as an unhandled rejection.
    this.#done.catch(() => undefined);
  }

  async write(chunk: Buffer): Promise<void> {
    if (!this.#decoder.write(chunk)) {
      await Promise.race([new Promise((r) => this.#decoder.once('drain', r)), this.#done]);
    }
  }

  async end(): Promise<{ sha256: string; size: number }> {
    this.#decoder.end();
    await this.#done;
    return { sha256: this.#hash.digest('hex'), size: this.size };
  }

  abort(): Promise<void> {
    this.#decoder.destroy();
    return rm(this.tmp, { force: true });
  }
}

/** Scans the message at `path`; see the module comment. Temporary files of a non-`transform` result are gone. */
export async function scanMessage(path: string, opts: ScanOptions): Promise<ScanResult> {
  const result: ScanResult = {
    outcome: 'nothing',
    eol: '\r\n',
    headerEnd: 0,
    replacements: [],
    dkimSigned: false,
  };
  const input = createReadStream(path);
  const scanner = new MimeScanner();
  let current: Extraction | null = null;
  let stopped = false;
  /** The first header bytes of each kept part, by its offset (checkOffsets). */
  const heads = new Map<number, Buffer>();
  const finish = async (bodyEnd: number) => {
    const x = current;
    current = null;
    if (!x) return;
    x.bodyEnd = bodyEnd;
    const { sha256, size } = await x.end();
    if (size <= opts.rules.thresholdBytes) {
      await rm(x.tmp, { force: true });
      return;
    }
    heads.set(x.start, x.head);
    result.replacements.push({
      start: x.start,
      end: x.bodyEnd,
      part: {
        tmp: x.tmp,
        sha256,
        size,
        fileName: x.node.filename || 'attachment',
        mediaType: x.node.contentType || 'application/octet-stream',
      },
    });
  };
  const stop = (outcome: ScanResult['outcome'], reason?: string) => {
    result.outcome = outcome;
    if (reason) result.reason = reason;
    stopped = true;
  };
  const handle = async (ev: MimeEvent) => {
    const x = current as Extraction | null;
    if (ev.type === 'body') {
      if (x && ev.node === x.node) await x.write(ev.data);
      return;
    }
    if (ev.type === 'end') {
      if (x && ev.node === x.node) await finish(ev.bodyEnd);
      return;
    }
    const node = ev.node;
    if (node.root && !node.parent) {
      // Before the line break that ends the last field: the gateway's field goes after it.
      const raw = node.rawHeader;
      const tail = raw.subarray(-4).toString('latin1');
      if (tail === '\r\n\r\n') result.headerEnd = raw.length - 4;
      else if (tail.endsWith('\n\n')) {
        result.eol = '\n';
        result.headerEnd = raw.length - 2;
      } else return stop('nothing', 'no body');
      result.dkimSigned = node.headers.has('dkim-signature');
      if (opts.senders !== null) {
        const from = addressesIn([
          ...(node.headers.get('return-path') ?? []),
          ...(node.headers.get('from') ?? []),
        ]);
        if (!senderMatches(opts.senders, from)) return stop('not-applicable');
      }
    }
    if (qualifies(node, opts.rules))
      current = new Extraction(node, node.start, node.bodyStart, opts.tmpPath(), node.rawHeader);
  };
  try {
    for await (const chunk of input) {
      for (const ev of scanner.write(chunk as Buffer)) {
        await handle(ev);
        if (stopped) break;
      }
      if (stopped || scanner.malformed) break;
    }
    if (!stopped && !scanner.malformed) for (const ev of scanner.end()) if (!stopped) await handle(ev);
    if (!stopped) {
      if (scanner.malformed) stop('malformed', scanner.malformed);
      else if (result.replacements.length > 0) {
        const problem = await checkOffsets(path, heads);
        stop(problem ? 'malformed' : 'transform', problem ?? undefined);
      }
    }
  } catch (err) {
    stop('malformed', (err as Error).message);
  } finally {
    input.destroy();
    await (current as Extraction | null)?.abort();
  }
  if (result.outcome !== 'transform') {
    for (const r of result.replacements) await rm(r.part.tmp, { force: true });
    result.replacements = [];
  }
  return result;
}

/**
 * A last check before anything is replaced: each kept part's header is where its offset says (a splitter
 * bug must not corrupt mail). Otherwise the message counts as malformed and is delivered unmodified.
 */
async function checkOffsets(path: string, heads: Map<number, Buffer>): Promise<string | null> {
  const fh = await open(path, 'r');
  try {
    for (const [at, head] of heads) {
      const buf = Buffer.alloc(head.length);
      await fh.read(buf, 0, head.length, at);
      if (!buf.equals(head)) return `part at byte ${at} is not where the parser put it`;
    }
    return null;
  } finally {
    await fh.close();
  }
}
