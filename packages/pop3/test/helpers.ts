/**
 * Test fixtures: a real `MailStore` in a temp dir, the testkit's in-memory `CredentialStore` (plain
 * comparisons; SCRAM keys derived with PBKDF2 as RFC 5802 §3 says), a `Pop3Server` on port 0 (POP3 and
 * POP3S) with a throwaway certificate, and a thin POP3 layer over the testkit's `LineClient`.
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
import type { Pop3Limits } from '../src/limits.js';
import { MaildropLocks } from '../src/maildrop-lock.js';
import { Pop3Server } from '../src/server.js';

/** Our name, in greetings and CRAM-MD5 challenges. */
export const HOSTNAME = 'pop.example.test';

export interface Harness {
  /** The mail store, or testkit's in-memory backend (`backend: 'memory'`). */
  store: MailStore | MemoryBackend;
  server: Pop3Server;
  port: number;
  tlsPort: number;
  dir: string;
  problems: unknown[];
  locks: MaildropLocks;
  deliver(user: TestAccount, message: Buffer | string): Promise<number>;
  inbox(user: TestAccount): Promise<number[]>;
  /** Closes the server and the store (keeps the directory). */
  stop(): Promise<void>;
  /** Stops and removes the directory. */
  cleanup(): Promise<void>;
}

export interface HarnessOptions extends MailServerTestOptions<Pop3Limits> {
  /** Reuse a store directory (restart tests). */
  dir?: string;
  /** `memory`: testkit's in-memory backend instead of a `MailStore` (no files). */
  backend?: 'mail-store' | 'memory';
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const temp = opts.dir === undefined ? tempDir('delegato-pop3-') : undefined;
  const dir = opts.dir ?? (temp?.path as string);
  const store = opts.backend === 'memory' ? new MemoryBackend() : await MailStore.open({ dir });
  for (const a of HARNESS_ACCOUNTS) await store.ensureUser(a.id);
  const { options, problems } = mailServerTestOptions(HOSTNAME, opts);
  const locks = new MaildropLocks();
  const server = new Pop3Server({ ...options, locks, backend: store });
  const { port, tlsPort } = await listenOnLoopback(server);
  const stop = closeOnce(server, store);
  return {
    store,
    server,
    port,
    tlsPort,
    dir,
    problems,
    locks,
    async deliver(user, message) {
      const source = Readable.from([typeof message === 'string' ? Buffer.from(message, 'latin1') : message]);
      const r = await store.deliver({ users: [user.id], source });
      return r.uids.get(user.id) as number;
    },
    async inbox(user) {
      return (await store.snapshot(user.id, 'INBOX')).messages.map((m) => m.uid);
    },
    stop,
    async cleanup() {
      await stop();
      temp?.remove();
    },
  };
}

/** A POP3 conversation over `LineClient`. */
export class Pop3Client {
  private constructor(readonly raw: LineClient) {}

  static async connect(
    port: number,
    opts: { tls?: boolean; localAddress?: string } = {},
  ): Promise<Pop3Client> {
    const raw = await LineClient.connect(port, '127.0.0.1', opts);
    const c = new Pop3Client(raw);
    const greeting = await raw.line();
    if (!greeting.startsWith('+OK')) throw new Error(`bad greeting: ${greeting}`);
    return c;
  }

  /** Sends one command line, returns the status line. */
  async cmd(line: string): Promise<string> {
    this.raw.write(`${line}\r\n`);
    return this.raw.line();
  }

  /** Reads the lines of a multi-line response up to (not including) ".", un-stuffing dots. */
  async body(): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const l = await this.raw.line();
      if (l === '.') return lines;
      lines.push(l.startsWith('.') ? l.slice(1) : l);
    }
  }

  /** A multi-line command: the status line and, on +OK, the body. */
  async multi(line: string): Promise<{ status: string; lines: string[] }> {
    const status = await this.cmd(line);
    return { status, lines: status.startsWith('+OK') ? await this.body() : [] };
  }

  /**
   * Reads exactly `length` bytes (latin1 string: one char per byte) of what the server sent, waiting for
   * them; consumes them. `length` must end on a line boundary.
   */
  async exact(length: number, timeoutMs = 20_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    while (this.raw.pending.length < length) {
      if (this.raw.closed) throw new Error(`closed after ${this.raw.pending.length} of ${length} bytes`);
      if (Date.now() > until)
        throw new Error(`timed out after ${this.raw.pending.length} of ${length} bytes`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const out = this.raw.pending.slice(0, length);
    const lines = out.split('\n').length - 1;
    for (let i = 0; i < lines; i++) await this.raw.line();
    return out;
  }

  async login(account: TestAccount = ALICE): Promise<string> {
    const u = await this.cmd(`USER ${account.login}`);
    if (!u.startsWith('+OK')) return u;
    return this.cmd(`PASS ${account.password}`);
  }

  async startTls(): Promise<void> {
    const r = await this.cmd('STLS');
    if (!r.startsWith('+OK')) throw new Error(`STLS refused: ${r}`);
    await this.raw.startTls();
  }

  close(): void {
    this.raw.close();
  }
}

/**
 * What the server must send for a message, computed independently of the server's encoder: dots doubled
 * at every line start, CRLF added when missing, then ".CRLF".
 */
export function expectedStuffed(message: string): string {
  if (message.length === 0) return '.\r\n';
  const stuffed = message.replace(/(^|\n)\./g, '$1..');
  return `${stuffed}${message.endsWith('\r\n') ? '' : '\r\n'}.\r\n`;
}
