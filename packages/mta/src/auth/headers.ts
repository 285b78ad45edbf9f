/**
 * The header section of a message, as message authentication needs it: read from the top of a spooled
 * file (bounded), a field's unfolded values, the author domain of `From:` (RFC 5322 §3.6.2), and a stream
 * filter that removes `Authentication-Results:` fields claiming our authserv-id (RFC 8601 §5: forged
 * results must not reach the recipient as ours).
 */
import { open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';

/** Header sections larger than this are not looked into (no author domain; nothing removed). */
export const MAX_HEADER_BYTES = 256 * 1024;

/** The header section at the top of `file` (up to the blank line, or MAX_HEADER_BYTES). */
export async function readHeaderSection(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(MAX_HEADER_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('latin1');
    const end = /\r?\n\r?\n/.exec(text);
    return end ? text.slice(0, end.index + 1) : text;
  } finally {
    await fh.close();
  }
}

/** Every field of a header section as [lower-cased name, unfolded value]. */
export function headerFields(section: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const raw of section.split(/\r?\n(?![ \t])/)) {
    const colon = raw.indexOf(':');
    if (colon <= 0) continue;
    out.push([
      raw.slice(0, colon).trim().toLowerCase(),
      raw
        .slice(colon + 1)
        .replace(/\r?\n[ \t]/g, ' ')
        .trim(),
    ]);
  }
  return out;
}

/** The domain of the (first) address in `From:`, lower-cased; null when there is none. */
export function authorDomain(section: string): string | null {
  const from = headerFields(section).find(([name]) => name === 'from')?.[1];
  if (!from) return null;
  const angle = /<[^<>@\s]*@([^<>\s]+)>/.exec(from);
  const bare = /(?:^|[\s,:])[^\s<>"@,:]+@([A-Za-z0-9.-]+)/.exec(from);
  const domain = (angle?.[1] ?? bare?.[1] ?? '').replace(/\.$/, '').toLowerCase();
  return domain === '' ? null : domain;
}

/** The authserv-id of an `Authentication-Results:` value (RFC 8601 §2.2: the token before `;`). */
export function authservIdOf(value: string): string {
  const first = value.split(';')[0] ?? '';
  return (
    first
      .replace(/\([^)]*\)/g, '')
      .trim()
      .split(/\s+/)[0]
      ?.replace(/^"|"$/g, '')
      .toLowerCase() ?? ''
  );
}

/** The values of `Authentication-Results:` fields that carry `authservId`. */
export function ownResults(section: string, authservId: string): string[] {
  const id = authservId.toLowerCase();
  return headerFields(section)
    .filter(([name, value]) => name === 'authentication-results' && authservIdOf(value) === id)
    .map(([, value]) => value);
}

/**
 * Removes `Authentication-Results:` fields whose authserv-id is ours from the header section (RFC 8601 §5);
 * the body passes untouched. Header bytes are held until the blank line (at most MAX_HEADER_BYTES; a larger
 * section passes unchanged).
 */
export class StripForgedResults extends Transform {
  #head: Buffer[] = [];
  #size = 0;
  #done = false;
  constructor(private readonly authservId: string) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.#done) {
      cb(null, chunk);
      return;
    }
    this.#head.push(chunk);
    this.#size += chunk.length;
    const all = Buffer.concat(this.#head);
    const text = all.toString('latin1');
    const end = /\r?\n\r?\n/.exec(text);
    if (!end && this.#size < MAX_HEADER_BYTES) {
      this.#head = [all];
      cb();
      return;
    }
    this.#done = true;
    this.#head = [];
    if (!end) {
      cb(null, all);
      return;
    }
    const cut = end.index + 1;
    cb(null, Buffer.concat([Buffer.from(this.#filter(text.slice(0, cut)), 'latin1'), all.subarray(cut)]));
  }

  override _flush(cb: TransformCallback): void {
    if (!this.#done && this.#head.length > 0) {
      const text = Buffer.concat(this.#head).toString('latin1');
      this.push(Buffer.from(this.#filter(text), 'latin1'));
    }
    cb();
  }

  #filter(section: string): string {
    const id = this.authservId.toLowerCase();
    const fields = section.split(/(?<=\n)(?![ \t])/);
    return fields
      .filter((f) => {
        const m = /^authentication-results\s*:/i.exec(f);
        return !m || authservIdOf(f.slice(m[0].length)) !== id;
      })
      .join('');
  }
}
