/**
 * Test fixtures: a real `MailStore` in a temp dir, an in-memory `CredentialStore` (SCRAM keys derived with
 * PBKDF2 as RFC 5802 §3 says), an `ImapServer` on port 0 (IMAP and IMAPS), and a thin IMAP layer over the
 * testkit's `LineClient` that reads responses with literals exactly.
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
import type { ImapLimits } from '../src/limits.js';
import { ImapServer } from '../src/server.js';

export const TLS = {
  key: readFileSync(fileURLToPath(new URL('./fixtures/key.pem', import.meta.url)), 'utf8'),
  cert: readFileSync(fileURLToPath(new URL('./fixtures/cert.pem', import.meta.url)), 'utf8'),
};

export const HOSTNAME = 'imap.example.test';
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

export interface HarnessOptions {
  trustLocalConnections?: boolean;
  rateLimiter?: LoginRateLimiter;
  limits?: Partial<ImapLimits>;
  mechanisms?: SaslMechanismName[];
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const temp = tempDir('delegato-imap-');
  const quotas = new Map<string, number>();
  const store = await MailStore.open({ dir: temp.path, quotaLimit: async (id) => quotas.get(id) ?? null });
  for (const a of [ALICE, BOB, CAROL]) await store.ensureUser(a.id);
  const { logger, problems } = recordingLogger();
  const server = new ImapServer({
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

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A simple message. */
export function message(subject: string, body = 'Hello\r\n', extra = ''): string {
  return (
    `From: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>\r\nSubject: ${subject}\r\n` +
    `Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.test>\r\n${extra}\r\n${body}`
  );
}
