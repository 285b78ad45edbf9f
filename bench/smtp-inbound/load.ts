/**
 * The load: MESSAGES messages of MESSAGE_BYTES each, over SESSIONS persistent SMTP sessions that each send
 * their share one after another, to one recipient. Every session is its own nodemailer pooled transport
 * with a single connection that is never recycled, so the work split is exact (200 messages per session)
 * and each session stays open for its whole share. Messages are prebuilt raw RFC 5322 text (no MIME
 * building in the timed loop), plain SMTP without STARTTLS for both systems.
 */
import nodemailer from 'nodemailer';

export const MESSAGES = 2000;
export const SESSIONS = 10;
export const MESSAGE_BYTES = 10 * 1024;
export const SENDER = 'loadgen@sender.test';

const WORDS = (
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et ' +
  'dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea ' +
  'commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla pariatur'
).split(' ');

/** A deterministic pseudo-random generator (mulberry32), so every run sends the same bytes. */
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

/** One message of exactly MESSAGE_BYTES bytes (CRLF line ends), unique per index. */
export function buildMessage(index: number, recipient: string): Buffer {
  const rnd = prng(index + 1);
  const head = [
    `From: Load Generator <${SENDER}>`,
    `To: <${recipient}>`,
    `Subject: bench message ${index}`,
    `Date: ${new Date(Date.UTC(2025, 0, 1, 0, 0, index % 60)).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <bench-${index}-${Date.now()}@sender.test>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    '',
  ].join('\r\n');
  const lines: string[] = [];
  let size = Buffer.byteLength(head);
  const last = `-- end of message ${index} --\r\n`;
  while (size < MESSAGE_BYTES - 200 - last.length) {
    let line = '';
    while (line.length < 70) line += `${WORDS[Math.floor(rnd() * WORDS.length)]} `;
    line = `${line.trimEnd()}\r\n`;
    lines.push(line);
    size += line.length;
  }
  // Pad with one line (under 200 characters) so the message is exactly MESSAGE_BYTES.
  const pad = MESSAGE_BYTES - size - last.length - 2;
  if (pad > 0) lines.push(`${'x'.repeat(pad)}\r\n`);
  lines.push(last);
  const msg = Buffer.from(head + lines.join(''));
  if (msg.length !== MESSAGE_BYTES) throw new Error(`message ${index} is ${msg.length} bytes`);
  return msg;
}

export interface LoadResult {
  /** performance.now() just before the first session connects. */
  startedAt: number;
  /** performance.now() of the last 250 after DATA. */
  lastAcceptedAt: number;
  accepted: number;
  failures: string[];
}

/** Sends the load to 127.0.0.1:port; resolves when every message got its final reply. */
export async function sendLoad(port: number, recipient: string, messages: Buffer[]): Promise<LoadResult> {
  const perSession = Math.ceil(messages.length / SESSIONS);
  const transports = Array.from({ length: SESSIONS }, () =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 1,
      maxMessages: Number.POSITIVE_INFINITY,
      name: 'loadgen.sender.test',
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 120_000,
    }),
  );
  const failures: string[] = [];
  let accepted = 0;
  let lastAcceptedAt = 0;
  const startedAt = performance.now();
  try {
    await Promise.all(
      transports.map(async (transport, s) => {
        for (let i = s * perSession; i < Math.min((s + 1) * perSession, messages.length); i++) {
          try {
            const info = await transport.sendMail({
              envelope: { from: SENDER, to: [recipient] },
              raw: messages[i],
            });
            if (info.accepted.length === 1) {
              accepted++;
              lastAcceptedAt = performance.now();
            } else failures.push(`message ${i}: ${info.response}`);
          } catch (err) {
            failures.push(`message ${i}: ${(err as Error).message}`);
          }
        }
      }),
    );
  } finally {
    for (const t of transports) t.close();
  }
  return { startedAt, lastAcceptedAt, accepted, failures };
}
