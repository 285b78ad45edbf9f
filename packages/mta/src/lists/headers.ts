/**
 * Reading the header block of a stored message (bounded: the first 64 KiB) and writing the headers a list
 * adds to each copy: RFC 2919 List-Id, RFC 2369 List-Post/List-Owner/List-Unsubscribe, and X-Loop (with the
 * List-Id, how a copy that comes back to its own list is recognised and refused).
 */
import { open } from 'node:fs/promises';
import type { MailingList } from './ports.js';
import { listId } from './rules.js';

const HEAD_LIMIT = 64 * 1024;

/** The unfolded header fields of the file's header block, names lower-cased, in order. */
export async function readHeaders(file: string): Promise<Array<[string, string]>> {
  const fd = await open(file, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(HEAD_LIMIT);
    const { bytesRead } = await fd.read(buf, 0, HEAD_LIMIT, 0);
    text = buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fd.close();
  }
  const end = text.search(/\r?\n\r?\n/);
  const block = end >= 0 ? text.slice(0, end) : text;
  const out: Array<[string, string]> = [];
  for (const line of block.split(/\r?\n/)) {
    const last = out[out.length - 1];
    if (/^[ \t]/.test(line) && last) last[1] += ` ${line.trim()}`;
    else {
      const colon = line.indexOf(':');
      if (colon > 0) out.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
    }
  }
  return out;
}

export function header(fields: Array<[string, string]>, name: string): string | undefined {
  return fields.find(([n]) => n === name)?.[1];
}

/** The addr-spec of a From:-like value: the one in angle brackets, else the bare address; lower-cased. */
export function addressIn(value: string | undefined): string {
  if (!value) return '';
  const angled = /<([^<>\s]+@[^<>\s]+)>/.exec(value);
  if (angled?.[1]) return angled[1].toLowerCase();
  const bare = /([^\s<>,;:"]+@[^\s<>,;:"]+)/.exec(value);
  return bare?.[1]?.toLowerCase() ?? '';
}

/** Whether the message went through `list` already (its X-Loop or its List-Id): a loop. */
export function loopsThrough(fields: Array<[string, string]>, list: MailingList): boolean {
  const id = `<${listId(list)}>`;
  return fields.some(
    ([n, v]) =>
      (n === 'x-loop' && v.toLowerCase().includes(list.address)) ||
      (n === 'list-id' && v.toLowerCase().includes(id)),
  );
}

/** A list's control addresses: `<local>-request@` (moderation replies) and `<local>-bounces@` (bounces). */
export function controlAddress(list: Pick<MailingList, 'address'>, kind: 'request' | 'bounces'): string {
  const at = list.address.lastIndexOf('@');
  return `${list.address.slice(0, at)}-${kind}${list.address.slice(at)}`;
}

/** The header fields a list adds at the top of every copy it sends to its members. */
export function listHeaders(list: MailingList): string {
  return [
    `List-Id: <${listId(list)}>`,
    `List-Post: <mailto:${list.address}>`,
    `List-Owner: <mailto:${list.owner}>`,
    `List-Unsubscribe: <mailto:${list.owner}?subject=unsubscribe%20${list.address}>`,
    'Precedence: list',
    `X-Loop: ${list.address}`,
    '',
  ].join('\r\n');
}

/**
 * RFC 2047 encoded-words for a header value that is not plain ASCII: whole characters in chunks of at
 * most 45 bytes, so that each word stays within the 75 characters of §2, folded onto continuation lines.
 */
export function encodeWord(value: string): string {
  if (/^[ -~]*$/.test(value)) return value;
  const words: string[] = [];
  let chunk = '';
  for (const ch of value) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}

/** RFC 2047 encoded-words (B and Q) decoded, for showing a Subject; undecodable ones stay as they are. */
export function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([bqBQ])\?([^?]*)\?=/g, (whole, charset: string, enc: string, text: string) => {
      try {
        const bytes =
          enc.toLowerCase() === 'b'
            ? Buffer.from(text, 'base64')
            : Buffer.from(
                text
                  .replace(/_/g, ' ')
                  .replace(/=([0-9a-f]{2})/gi, (_m, h: string) =>
                    String.fromCharCode(Number.parseInt(h, 16)),
                  ),
                'latin1',
              );
        return new TextDecoder(charset.toLowerCase().split('*')[0], { fatal: false }).decode(bytes);
      } catch {
        return whole;
      }
    });
}
