/**
 * Test fixtures: a real `MailStore` in a temp dir, an in-memory `CredentialStore` (plain comparisons;
 * SCRAM keys derived with PBKDF2 as RFC 5802 §3 says), a `Pop3Server` on port 0 (POP3 and POP3S), and a
 * thin POP3 layer over the testkit's `LineClient`.
 *
 * fixtures/cert.pem + key.pem: a self-signed test-only certificate for localhost / 127.0.0.1.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { MailStore } from '@delegato/mailstore';
import type { AuthenticatedUser, CredentialStore, LoginRateLimiter, SaslMechanismName } from '@delegato/sasl';
import { LineClient, tempDir } from '@delegato/testkit';
import type { Logger } from 'pino';
import type { Pop3Limits } from '../src/limits.js';
import { MaildropLocks } from '../src/maildrop-lock.js';
import { Pop3Server } from '../src/server.js';

export const TLS = {
  key: readFileSync(fileURLToPath(new URL('./fixtures/key.pem', import.meta.url)), 'utf8'),
  cert: readFileSync(fileURLToPath(new URL('./fixtures/cert.pem', import.meta.url)), 'utf8'),
};

export const HOSTNAME = 'pop.example.test';
export const ALL_MECHANISMS: SaslMechanismName[] = ['SCRAM-SHA-256', 'CRAM-MD5', 'PLAIN', 'LOGIN'];

export interface TestAccount {
  login: string;
  password: string;
  id: string;
  address: string;
}

export const ALICE: TestAccount = {
  login: 'alice',
  password: 'wonder land',
  id: 'u-alice',
  address: 'alice@example.test',
};
export const BOB: TestAccount = {
  login: 'bob',
  password: 'builder',
  id: 'u-bob',
  address: 'bob@example.test',
};
export const CAROL: TestAccount = {
  login: 'carol',
  password: 'c4rol!',
  id: 'u-carol',
  address: 'carol@example.test',
};

const SCRAM_ITERATIONS = 4096;

function hmac(key: Buffer, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** A `CredentialStore` over a fixed list of accounts (login or address). */
export function memoryCredentials(accounts: TestAccount[]): CredentialStore {
  const scram = new Map(
    accounts.map((a) => {
      const salt = randomBytes(16);
      const salted = pbkdf2Sync(a.password, salt, SCRAM_ITERATIONS, 32, 'sha256');
      const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
      return [a.id, { salt, iterations: SCRAM_ITERATIONS, storedKey, serverKey: hmac(salted, 'Server Key') }];
    }),
  );
  const find = (login: string) =>
    accounts.find((a) => a.login === login.toLowerCase() || a.address === login.toLowerCase());
  const user = (a: TestAccount): AuthenticatedUser => ({ id: a.id, address: a.address });
  return {
    async verifyPassword(login, password) {
      const a = find(login);
      return a && a.password === password ? user(a) : null;
    },
    async cramSecret(login) {
      const a = find(login);
      return a ? { user: user(a), secret: a.password } : null;
    },
    async scramKeys(login) {
      const a = find(login);
      const keys = a && scram.get(a.id);
      return a && keys ? { user: user(a), ...keys } : null;
    },
  };
}

/** A logger that records warnings and errors (the server must log none on hostile input). */
export function recordingLogger(): { logger: Logger; problems: unknown[] } {
  const problems: unknown[] = [];
  const logger = {
    level: 'debug',
    child: () => logger,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (...args: unknown[]) => problems.push(['warn', ...args]),
    error: (...args: unknown[]) => problems.push(['error', ...args]),
    fatal: (...args: unknown[]) => problems.push(['fatal', ...args]),
  };
  return { logger: logger as unknown as Logger, problems };
}

export interface Harness {
  store: MailStore;
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

export interface HarnessOptions {
  trustLocalConnections?: boolean;
  rateLimiter?: LoginRateLimiter;
  limits?: Partial<Pop3Limits>;
  mechanisms?: SaslMechanismName[];
  /** Reuse a store directory (restart tests). */
  dir?: string;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const temp = opts.dir === undefined ? tempDir('delegato-pop3-') : undefined;
  const dir = opts.dir ?? (temp?.path as string);
  const store = await MailStore.open({ dir });
  for (const a of [ALICE, BOB, CAROL]) await store.ensureUser(a.id);
  const { logger, problems } = recordingLogger();
  const locks = new MaildropLocks();
  const server = new Pop3Server({
    locks,
    hostname: HOSTNAME,
    tls: TLS,
    backend: store,
    credentials: memoryCredentials([ALICE, BOB, CAROL]),
    mechanisms: opts.mechanisms ?? ALL_MECHANISMS,
    rateLimiter: opts.rateLimiter,
    trustLocalConnections: opts.trustLocalConnections,
    limits: opts.limits,
    logger,
  });
  const plain = await server.listen(0, '127.0.0.1', { implicitTls: false });
  const secure = await server.listen(0, '127.0.0.1', { implicitTls: true });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.close();
    await store.close();
  };
  return {
    store,
    server,
    port: plain.address.port,
    tlsPort: secure.address.port,
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

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
