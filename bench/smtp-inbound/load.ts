/**
 * The load: MESSAGES messages of MESSAGE_BYTES each to one recipient, SESSIONS at a time, plain SMTP without
 * STARTTLS for both systems, in one of two modes:
 *
 * - `persistent`: SESSIONS connections, each sending its share (200 messages) one after another;
 * - `per-connection`: one message per connection (what an MX mostly sees), SESSIONS connections at a time.
 *
 * and from one of two clients:
 *
 * - `smtp-source`: Postfix's load generator (`/usr/sbin/smtp-source -s SESSIONS -m MESSAGES -l MESSAGE_BYTES`,
 *   `-d` for persistent sessions), a separate process; its body is MESSAGE_BYTES of `X` lines after a
 *   four-line header. It aborts at the first reply that is not positive. Its CPU time is read from the
 *   shell that waits for it (`cutime`/`cstime` in /proc/<shell>/stat).
 * - `nodemailer`: in the benchmark's own process, prebuilt raw RFC 5322 messages (no MIME building in
 *   the timed loop). Persistent: one pooled transport per session with a single connection that is never
 *   recycled, so the split is exact. Per connection: one unpooled transport per session (every sendMail
 *   opens, greets, sends and quits).
 */
import { spawn } from 'node:child_process';
import nodemailer from 'nodemailer';

export const MESSAGES = 2000;
export const SESSIONS = 10;
export const MESSAGE_BYTES = 10 * 1024;
export const SENDER = 'loadgen@sender.test';
export const SMTP_SOURCE = '/usr/sbin/smtp-source';

export type LoadMode = 'persistent' | 'per-connection';
export type LoadClient = 'smtp-source' | 'nodemailer';

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
  /** CPU seconds of a load generator that ran as a separate process (smtp-source). */
  externalCpuSeconds?: number;
  /** The load generator's command line, when it was a separate process. */
  command?: string;
}

/** Sends the load to 127.0.0.1:port; resolves when every message got its final reply. */
export function sendLoad(
  port: number,
  recipient: string,
  messages: Buffer[],
  opts: { mode: LoadMode; client: LoadClient },
): Promise<LoadResult> {
  return opts.client === 'smtp-source'
    ? smtpSource(port, recipient, messages.length, opts.mode)
    : nodemailerLoad(port, recipient, messages, opts.mode);
}

/** The smtp-source arguments for a run. */
export function smtpSourceArgs(port: number, recipient: string, count: number, mode: LoadMode): string[] {
  return [
    ...(mode === 'persistent' ? ['-d'] : []),
    '-s',
    String(SESSIONS),
    '-m',
    String(count),
    '-l',
    String(MESSAGE_BYTES),
    '-M',
    'loadgen.sender.test',
    '-f',
    SENDER,
    '-t',
    recipient,
    `127.0.0.1:${port}`,
  ];
}

const CLK_TCK = 100;

async function smtpSource(
  port: number,
  recipient: string,
  count: number,
  mode: LoadMode,
): Promise<LoadResult> {
  const args = smtpSourceArgs(port, recipient, count, mode);
  // The shell waits for smtp-source, then prints its own /proc stat: cutime + cstime are smtp-source's CPU.
  const script = `"$0" "$@"; rc=$?; echo "stat $(cat /proc/$$/stat)" >&2; exit $rc`;
  const startedAt = performance.now();
  const child = spawn('sh', ['-c', script, SMTP_SOURCE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c ?? -1));
  });
  const lastAcceptedAt = performance.now();
  const statLine = /^stat (.*)$/m.exec(output)?.[1] ?? '';
  const fields = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 (cutime, cstime) are at 13 and 14 after the command name.
  const externalCpuSeconds = (Number(fields[13] ?? 0) + Number(fields[14] ?? 0)) / CLK_TCK;
  const complaints = output.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('stat '));
  const failures =
    code === 0
      ? complaints.map((l) => `smtp-source: ${l}`)
      : [`smtp-source exited ${code}: ${complaints.join(' / ')}`];
  return {
    startedAt,
    lastAcceptedAt,
    accepted: code === 0 ? count : 0,
    failures,
    externalCpuSeconds,
    command: `smtp-source ${args.join(' ')}`,
  };
}

async function nodemailerLoad(
  port: number,
  recipient: string,
  messages: Buffer[],
  mode: LoadMode,
): Promise<LoadResult> {
  const perSession = Math.ceil(messages.length / SESSIONS);
  const transports = Array.from({ length: SESSIONS }, () =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      ...(mode === 'persistent'
        ? { pool: true, maxConnections: 1, maxMessages: Number.POSITIVE_INFINITY }
        : { pool: false }),
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
