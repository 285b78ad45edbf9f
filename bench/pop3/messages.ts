/**
 * The maildrop: MESSAGES deterministic RFC 5322 messages (CRLF line ends, plain text) of 2-20 KiB, the
 * same bytes for both systems and in every process that builds them (the fill script builds them again).
 * Every fifth message has a body line that starts with a dot and every 25th a line that is a lone dot,
 * so both servers byte-stuff some lines (RFC 1939 §3).
 */

export const MESSAGES = 10_000;
export const MIN_BYTES = 2 * 1024;
export const MAX_BYTES = 20 * 1024;
export const RECIPIENT = 'bench.user@bench.example';
const SEED = 0x9e3779b9;
const DOT = 0x2e;

/** mulberry32: a small, fast, seeded PRNG (uniform in [0, 1)). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the of and to in is that for it as with was on be by this are or from at an which but not have has ' +
  'mail server message delivery mailbox queue header body client session retrieve protocol octet line ' +
  'benchmark maildrop appliance region domain alias quota folder index storage network socket buffer'
).split(' ');

function messageId(i: number): string {
  return `<pop3-bench-${String(i).padStart(5, '0')}@bench.example>`;
}

/** Message i (0-based) of the maildrop. */
export function buildMessage(i: number): Buffer {
  const rnd = prng(SEED ^ Math.imul(i + 1, 0x85ebca6b));
  const size = MIN_BYTES + Math.floor(rnd() * (MAX_BYTES - MIN_BYTES + 1));
  const date = new Date(Date.UTC(2026, 10, 1) + i * 60_000).toUTCString().replace('GMT', '+0000');
  const header =
    `From: Bench Sender <sender${i % 97}@example.org>\r\n` +
    `To: Bench User <${RECIPIENT}>\r\n` +
    `Subject: POP3 benchmark message ${i + 1} of ${MESSAGES}\r\n` +
    `Date: ${date}\r\n` +
    `Message-ID: ${messageId(i)}\r\n` +
    'MIME-Version: 1.0\r\n' +
    'Content-Type: text/plain; charset=us-ascii\r\n' +
    '\r\n';
  const lines: string[] = [];
  let used = header.length;
  const add = (line: string) => {
    lines.push(`${line}\r\n`);
    used += line.length + 2;
  };
  if (i % 5 === 0) add('.dot at the start of this line: stuffed on the wire');
  if (i % 25 === 0) add('.');
  // Lines of 50-76 characters until less than 84 octets remain, then one line (at least 5 characters)
  // that fills the message up to its size exactly.
  while (size - used >= 84) {
    const target = 50 + Math.floor(rnd() * 27);
    let line = '';
    while (line.length < target) {
      const word = WORDS[Math.floor(rnd() * WORDS.length)] as string;
      line = line.length === 0 ? word : `${line} ${word}`;
    }
    add(line.slice(0, target));
  }
  const rest = size - used - 2;
  add('-'.repeat(rest));
  const buf = Buffer.from(header + lines.join(''), 'latin1');
  if (buf.length !== size) throw new Error(`message ${i}: built ${buf.length} bytes, wanted ${size}`);
  return buf;
}

/** Message index from the Message-ID header (in the first KiB of a message); -1 if there is none. */
export function messageIndexOf(message: Buffer): number {
  const m = /Message-ID: <pop3-bench-(\d{5})@bench\.example>/.exec(message.toString('latin1', 0, 1024));
  return m?.[1] ? Number(m[1]) : -1;
}

/** Octets a message takes on the wire in a RETR response (stuffed dots included, terminator not). */
export function wireBytes(message: Buffer): number {
  let n = message.length + (message[0] === DOT ? 1 : 0);
  for (let j = message.indexOf('\n.'); j >= 0; j = message.indexOf('\n.', j + 2)) n++;
  return n;
}

/** Undoes RFC 1939 byte-stuffing of a RETR response body (terminator already removed). */
export function unstuff(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = body[0] === DOT ? 1 : 0;
  for (let j = body.indexOf('\n.', start); j >= 0; j = body.indexOf('\n.', j + 2)) {
    parts.push(body.subarray(start, j + 1));
    start = j + 2;
  }
  parts.push(body.subarray(start));
  return Buffer.concat(parts);
}

export interface Maildrop {
  messages: Buffer[];
  totalBytes: number;
  totalWireBytes: number;
}

export function buildMaildrop(count = MESSAGES): Maildrop {
  const messages = Array.from({ length: count }, (_, i) => buildMessage(i));
  let totalBytes = 0;
  let totalWireBytes = 0;
  for (const m of messages) {
    totalBytes += m.length;
    totalWireBytes += wireBytes(m);
  }
  return { messages, totalBytes, totalWireBytes };
}
