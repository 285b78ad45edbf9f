/// <reference path="./types/mailsplit.d.ts" />
/**
 * First pass over a spooled message: walks its MIME tree with mailsplit (streaming, any depth, inside
 * message/rfc822 parts too), decodes every part that may qualify into a temporary file while hashing it,
 * and records where in the raw bytes each qualifying part starts and ends. The second pass (splice.ts)
 * copies the raw bytes around those ranges, so everything else stays byte-identical by construction.
 *
 * A qualifying part: a leaf inside a multipart (never the message's root, never a multipart or an
 * embedded message that mailsplit opens), whose media type is in the domain's list (empty: any), that is
 * not the message's own text (a `text/*` part without a file name or `attachment` disposition), and whose
 * decoded size is over the domain's threshold.
 *
 * Malformed MIME (a multipart without a boundary, one whose closing boundary never comes, a header over
 * mailsplit's 1 MiB limit, more than 1000 parts) gives `malformed`: the caller delivers the message
 * unmodified rather than guess.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type MimeNode, Splitter } from 'mailsplit';
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
  if (node.root || !node.parentNode || node.multipart || node.messageNode) return false;
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
  /** The first bytes of the part's header, as mailsplit gave them (checkOffsets). */
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
    this.#decoder = node.getDecoder();
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
  const splitter = new Splitter();
  input.on('error', (err) => splitter.destroy(err));
  input.pipe(splitter);
  let offset = 0;
  let current: Extraction | null = null;
  /** Boundaries of the multiparts still open. */
  const unclosed: string[] = [];
  /** The first header bytes of each kept part, by its offset (checkOffsets). */
  const heads = new Map<number, Buffer>();
  const finish = async () => {
    const x = current;
    current = null;
    if (!x) return;
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
  };
  try {
    for await (const obj of splitter) {
      if (obj.type === 'node') {
        await finish();
        const start = offset;
        const header = obj.getHeaders();
        offset += header.length;
        if (obj.root) {
          const tail = header.subarray(-4).toString('latin1');
          // Before the line break that ends the last field: the gateway's field goes after it.
          if (tail === '\r\n\r\n') result.headerEnd = offset - 4;
          else if (tail.endsWith('\n\n')) {
            result.eol = '\n';
            result.headerEnd = offset - 2;
          } else {
            stop('nothing', 'no body');
            break;
          }
          result.dkimSigned = obj.headers.get('dkim-signature').length > 0;
          if (opts.senders !== null) {
            const from = addressesIn([...obj.headers.get('return-path'), ...obj.headers.get('from')]);
            if (!senderMatches(opts.senders, from)) {
              stop('not-applicable');
              break;
            }
          }
        }
        if (obj.multipart) {
          if (!obj._boundary) {
            stop('malformed', 'multipart without boundary');
            break;
          }
          unclosed.push(obj._boundary.toString('latin1'));
        } else if (qualifies(obj, opts.rules)) {
          current = new Extraction(obj, start, offset, opts.tmpPath(), header);
        }
        continue;
      }
      const value = obj.value;
      if (!value || value.length === 0) continue;
      const x = current as Extraction | null;
      if (x && obj.type === 'body' && obj.node === x.node) {
        await x.write(value);
        offset += value.length;
        x.bodyEnd = offset;
        continue;
      }
      await finish();
      if (obj.type === 'data') closeBoundaries(value, unclosed);
      offset += value.length;
    }
    if (result.outcome === 'nothing' && !result.reason) {
      await finish();
      if (unclosed.length > 0) stop('malformed', `multipart not closed (boundary ${unclosed.at(-1)})`);
      else if (result.replacements.length > 0) {
        const problem = await checkOffsets(path, offset, heads);
        if (problem) stop('malformed', problem);
        else stop('transform');
      }
    }
  } catch (err) {
    stop('malformed', (err as Error).message);
  } finally {
    input.destroy();
    splitter.destroy();
    await (current as Extraction | null)?.abort();
  }
  if (result.outcome !== 'transform') {
    for (const r of result.replacements) await rm(r.part.tmp, { force: true });
    result.replacements = [];
  }
  return result;
}

/**
 * The offsets rest on mailsplit giving back every byte in order: the bytes counted must be the file's size,
 * and each kept part's header must be where its offset says. Otherwise (a shape mailsplit reorders) the
 * message counts as malformed and is delivered unmodified.
 */
async function checkOffsets(
  path: string,
  counted: number,
  heads: Map<number, Buffer>,
): Promise<string | null> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size !== counted) return `parser gave back ${counted} of ${size} bytes`;
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

/** Pops the multiparts whose closing delimiter (`--boundary--`, RFC 2046 §5.1.1) is among `data`'s lines. */
function closeBoundaries(data: Buffer, open: string[]): void {
  if (open.length === 0) return;
  for (const raw of data.toString('latin1').split('\n')) {
    const line = raw.replace(/\r$/, '').replace(/[ \t]+$/, '');
    if (!line.startsWith('--') || !line.endsWith('--') || line.length < 5) continue;
    const idx = open.lastIndexOf(line.slice(2, -2));
    if (idx >= 0) open.length = idx;
  }
}
