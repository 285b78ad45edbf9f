/**
 * Test fixtures: a real `MailStore` in a temp dir, the testkit's in-memory `CredentialStore` (SCRAM keys
 * derived with PBKDF2 as RFC 5802 §3 says), an `ImapServer` on port 0 (IMAP and IMAPS) with a throwaway
 * certificate, and a thin IMAP layer over the testkit's `LineClient` that reads responses with literals
 * exactly.
 */
import { Readable } from 'node:stream';
import { MailStore } from '@delegato/mailstore';
import {
  ALICE,
  closeOnce,
  HARNESS_ACCOUNTS,
  LineClient,
  listenOnLoopback,
  type MailServerTestOptions,
  MemoryBackend,
  mailServerTestOptions,
  type TestAccount,
  tempDir,
} from '@delegato/testkit';
import type { ImapLimits } from '../src/limits.js';
import { ImapServer } from '../src/server.js';

/** Our name, in greetings and CRAM-MD5 challenges. */
export const HOSTNAME = 'imap.example.test';

export interface Harness {
  /** The mail store, or testkit's in-memory backend (`backend: 'memory'`). */
  store: MailStore | MemoryBackend;
  server: ImapServer;
  port: number;
  tlsPort: number;
  dir: string;
  problems: unknown[];
  /** Quota limits by user id (bytes), read by the store. */
  quotas: Map<string, number>;
  deliver(user: TestAccount, message: Buffer | string, folder?: string): Promise<number>;
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface HarnessOptions extends MailServerTestOptions<ImapLimits> {
  /** `memory`: testkit's in-memory backend instead of a `MailStore` in a temp dir (no quota limits). */
  backend?: 'mail-store' | 'memory';
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const temp = tempDir('delegato-imap-');
  const quotas = new Map<string, number>();
  const store =
    opts.backend === 'memory'
      ? new MemoryBackend()
      : await MailStore.open({ dir: temp.path, quotaLimit: async (id) => quotas.get(id) ?? null });
  for (const a of HARNESS_ACCOUNTS) await store.ensureUser(a.id);
  const { options, problems } = mailServerTestOptions(HOSTNAME, opts);
  const server = new ImapServer({ ...options, backend: store });
  const { port, tlsPort } = await listenOnLoopback(server);
  const stop = closeOnce(server, store);
  return {
    store,
    server,
    port,
    tlsPort,
    dir: temp.path,
    problems,
    quotas,
    async deliver(user, message, folder = 'INBOX') {
      const source = Readable.from([typeof message === 'string' ? Buffer.from(message, 'latin1') : message]);
      if (folder !== 'INBOX') return (await store.append(user.id, folder, source)).uid;
      const r = await store.deliver({ users: [user.id], source });
      return r.uids.get(user.id) as number;
    },
    stop,
    async cleanup() {
      await stop();
      temp.remove();
    },
  };
}

export interface Reply {
  /** The untagged responses (`* ...`), literals inlined as `{n}\r\n<bytes>`. */
  untagged: string[];
  /** The tagged response line. */
  tagged: string;
  /** Continuation requests received (`+ ...`). */
  continuations: string[];
}

/** An IMAP conversation over `LineClient`, reading responses with literals byte-exactly (latin1). */
export class ImapClient {
  #tag = 0;
  private constructor(readonly raw: LineClient) {}

  static async connect(
    port: number,
    opts: { tls?: boolean; localAddress?: string } = {},
  ): Promise<ImapClient> {
    const raw = await LineClient.connect(port, '127.0.0.1', opts);
    const c = new ImapClient(raw);
    const greeting = await c.response();
    if (!greeting.startsWith('* OK')) throw new Error(`bad greeting: ${greeting}`);
    c.greeting = greeting;
    return c;
  }

  greeting = '';

  nextTag(): string {
    return `A${++this.#tag}`;
  }

  /** Reads one response: a line, with any literals it announces included (inlined as `{n}\r\n<bytes>`). */
  async response(timeoutMs = 10_000): Promise<string> {
    let segment = await this.raw.line(timeoutMs);
    let out = segment;
    for (;;) {
      const m = /\{(\d+)\}$/.exec(segment);
      if (!m) return out;
      const n = Number(m[1]);
      const until = Date.now() + timeoutMs;
      // Wait for the literal and the rest of its line.
      for (;;) {
        const p = this.raw.pending;
        if (p.length >= n && p.indexOf('\n', n) >= 0) break;
        if (this.raw.closed) throw new Error('closed inside a literal');
        if (Date.now() > until) throw new Error('timed out inside a literal');
        await new Promise((r) => setTimeout(r, 2));
      }
      const p = this.raw.pending;
      const lf = p.indexOf('\n', n);
      const lines = p.slice(0, lf + 1).split('\n').length - 1;
      for (let i = 0; i < lines; i++) await this.raw.line();
      segment = p.slice(n, lf).replace(/\r$/, '');
      out += `\r\n${p.slice(0, n)}${segment}`;
    }
  }

  /** Sends `tag command` and reads until the tagged response. */
  async cmd(command: string, opts: { tag?: string; timeoutMs?: number } = {}): Promise<Reply> {
    const tag = opts.tag ?? this.nextTag();
    this.raw.write(`${tag} ${command}\r\n`);
    return this.until(tag, opts.timeoutMs);
  }

  /** Reads responses until the one tagged `tag`. */
  async until(tag: string, timeoutMs = 10_000): Promise<Reply> {
    const reply: Reply = { untagged: [], tagged: '', continuations: [] };
    for (;;) {
      const r = await this.response(timeoutMs);
      if (r.startsWith(`${tag} `)) {
        reply.tagged = r;
        return reply;
      }
      if (r.startsWith('+')) reply.continuations.push(r);
      else reply.untagged.push(r);
    }
  }

  /** LOGIN and expect OK. */
  async login(account: TestAccount = ALICE): Promise<Reply> {
    const r = await this.cmd(`LOGIN ${account.login} "${account.password}"`);
    if (!/^A\d+ OK/.test(r.tagged)) throw new Error(`login failed: ${r.tagged}`);
    return r;
  }

  async startTls(): Promise<void> {
    const r = await this.cmd('STARTTLS');
    if (!/ OK /.test(r.tagged)) throw new Error(`STARTTLS refused: ${r.tagged}`);
    await this.raw.startTls();
  }

  close(): void {
    this.raw.close();
  }
}

/** A new connection, logged in as `account`, with `folder` selected (read-write). */
export async function selectedSession(
  port: number,
  account: TestAccount,
  folder = 'INBOX',
): Promise<ImapClient> {
  const c = await ImapClient.connect(port);
  await c.login(account);
  const r = await c.cmd(`SELECT ${folder}`);
  if (!/^A\d+ OK/.test(r.tagged)) throw new Error(`SELECT ${folder} failed: ${r.tagged}`);
  return c;
}

/** A simple message. */
export function message(subject: string, body = 'Hello\r\n', extra = ''): string {
  return (
    `From: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>\r\nSubject: ${subject}\r\n` +
    `Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.test>\r\n${extra}\r\n${body}`
  );
}
