/**
 * One POP3 connection: the state machine of RFC 1939 §3 (AUTHORIZATION → TRANSACTION → UPDATE), the
 * read loop over the pure `LineFramer`, dispatch through the command registry, and the transport (STLS,
 * streaming, back-pressure, timeouts). Commands are executed strictly one after the other, in the order
 * received, each answered before the next is read: PIPELINING (RFC 2449 §6.6) needs nothing more.
 *
 * Nothing touches the store outside QUIT's UPDATE state: an abrupt disconnect or an autologout
 * (RFC 1939 §3) deletes nothing and leaves every flag as it was.
 */
import type { Socket } from 'node:net';
import {
  ConnectionClosedError,
  isConnectionError,
  LineConnection,
  type SessionTransport,
} from '@delegato/mail-core';
import { logEvent, logEventAt } from '@delegato/observability';
import type { AuthenticatedUser } from '@delegato/sasl';
import type { Logger } from 'pino';
import { findCommand } from './commands/index.js';
import type { Pop3Context, Pop3Services, SessionState } from './context.js';
import { DotStuffer, dotStuff } from './dot-stuff.js';
import { type DropMessage, Maildrop } from './maildrop.js';
import type { Release } from './maildrop-lock.js';
import { type Frame, LineFramer, parseCommandLine } from './parser.js';
import { err, ok, Pop3Error, pop3Error, TEXT, toWire } from './replies.js';

const INBOX = 'INBOX';
/** Multi-line listings are written in slices of about this many characters. */
const LISTING_SLICE = 16 * 1024;
/**
 * RETR of a message up to this size reads it whole, by its body id (no query; the store's bulk reader,
 * off the event loop) and answers in one corked write; larger ones, and TOP, are streamed.
 */
const WHOLE_READ_LIMIT = 256 * 1024;

/** The connection (see `SessionTransport`) and the server's services. */
export interface SessionOptions extends SessionTransport {
  services: Pop3Services;
}

export class Pop3Session implements Pop3Context {
  state: SessionState = 'AUTHORIZATION';
  pendingUser: string | null = null;
  readonly services: Pop3Services;
  readonly remoteAddress: string;
  readonly log: Logger | undefined;

  /** The transport (socket, TLS upgrade, timeouts, pausing, back-pressure), shared with IMAP. */
  readonly #conn: LineConnection;
  readonly #framer = new LineFramer();
  /** A multi-line response is being written: an error now cannot be answered, only the connection cut. */
  #midResponse = false;
  #badCommands = 0;
  #maildrop: Maildrop | null = null;
  #user: AuthenticatedUser | null = null;
  #release: Release | null = null;

  constructor(opts: SessionOptions) {
    this.services = opts.services;
    const limits = opts.services.limits;
    this.#conn = new LineConnection({
      ...opts,
      name: 'pop3',
      events: { connection: 'pop3.connection', error: 'pop3.error' },
      input: this.#framer,
      maxBufferedInput: limits.maxBufferedInput,
      tlsHandshakeTimeoutMs: limits.tlsHandshakeTimeoutMs,
      idleTimeoutMs: () => limits.idleTimeoutMs,
      // RFC 1939 §3 autologout: closed without a response and without entering UPDATE (no timeoutLine).
      // In UPDATE the lock is released once the removal is done (#execute), not before.
      onGone: () => {
        if (this.state !== 'UPDATE') this.#releaseLock();
      },
    });
    this.log = this.#conn.log;
    this.remoteAddress = this.#conn.remoteAddress;
  }

  get tls(): boolean {
    return this.#conn.tls;
  }

  /** TLS, or a client on the server's own address when `trustLocalConnections` (as Dovecot does). */
  get secure(): boolean {
    return this.#conn.secure;
  }

  get #closed(): boolean {
    return this.#conn.closed;
  }

  get maildrop(): Maildrop {
    if (!this.#maildrop) throw pop3Error('wrongState');
    return this.#maildrop;
  }

  get user(): AuthenticatedUser {
    if (!this.#user) throw pop3Error('wrongState');
    return this.#user;
  }

  /** Greets and serves the connection until it closes. */
  start(): void {
    this.#conn.attach();
    this.#write(ok(TEXT.greeting(this.services.hostname)));
    void this.#conn.serve(() => this.#step());
  }

  /**
   * Serves a connection a proxy region opened for `user`, already authenticated there (decision 0010):
   * the session opens the maildrop and answers `+OK` as after PASS (the proxy passes that line on to its
   * client), or `-ERR` ([IN-USE], [SYS/TEMP]) and the connection ends.
   */
  startAuthenticated(user: AuthenticatedUser): void {
    this.#conn.attach();
    void (async () => {
      try {
        await this.login(user);
      } catch (error) {
        const e = error instanceof Pop3Error ? error : pop3Error('homeUnavailable');
        this.#write(err(e.code, e.message));
        this.#conn.end();
        return;
      }
      if (this.#closed) return;
      await this.#conn.serve(() => this.#step());
    })();
  }

  /**
   * Gives the connection to the proxy (decision 0010): the session stops reading it (its 'data' and
   * 'timeout' listeners leave the socket) and ends when the socket closes; `pending` is what the client
   * pipelined after the login command, for the home region.
   */
  handOver(): { socket: Socket; pending: Buffer } {
    return this.#conn.release();
  }

  /** Cuts the connection (server shutdown). Like any abrupt disconnect, nothing is deleted. */
  destroy(): void {
    this.#conn.destroy();
  }

  /**
   * Resolves once the command being executed (if any) is done: after `destroy()`, an UPDATE in progress
   * still completes (the client did say QUIT), everything else ends at once.
   */
  async settled(): Promise<void> {
    await this.#conn.settled();
  }

  // ---- Pop3Context -------------------------------------------------------------------------------

  ok(text?: string): void {
    this.#write(ok(text));
  }

  sendLine(line: string): void {
    this.#write(`${line}\r\n`);
  }

  async multiline(first: string, lines: Iterable<string>): Promise<void> {
    this.#midResponse = true;
    let out = ok(first);
    for (const line of lines) {
      // RFC 1939 §3: byte-stuff lines starting with the termination octet.
      out += line.startsWith('.') ? `.${line}\r\n` : `${line}\r\n`;
      if (out.length >= LISTING_SLICE) {
        await this.#writeAndDrain(out);
        out = '';
      }
    }
    await this.#writeAndDrain(`${out}.\r\n`);
    this.#midResponse = false;
  }

  async sendMessage(message: DropMessage, first: string, bodyLines?: number): Promise<void> {
    if (bodyLines === undefined && message.size <= WHOLE_READ_LIMIT) {
      return this.#sendWholeMessage(message, first);
    }
    // Opened before +OK, so a message expunged meanwhile (by IMAP) still gets a clean -ERR.
    const source = await this.services.backend.openMessage(this.user.id, INBOX, message.uid);
    if (this.#closed) {
      source.destroy();
      return;
    }
    this.#midResponse = true;
    const socket = this.#conn.socket;
    // A plain loop rather than stream.pipeline: one pipeline per message (its AbortController and
    // teardown) was a measurable share of RETR time. The +OK line goes out with the first body chunk.
    let pending: string | null = ok(first);
    try {
      for await (const chunk of dotStuff({ bodyLines })(source)) {
        if (this.#closed) break;
        const more =
          pending === null
            ? socket.write(chunk)
            : socket.write(Buffer.concat([Buffer.from(pending, 'latin1'), chunk]));
        pending = null;
        if (this.#closed) break;
        if (!more) await this.#conn.drained();
      }
      if (pending !== null) this.#write(pending);
    } finally {
      source.destroy();
    }
    this.#midResponse = false;
  }

  /** A small message read whole (before +OK: a body gone meanwhile gets a clean -ERR) and sent at once. */
  async #sendWholeMessage(message: DropMessage, first: string): Promise<void> {
    const bytes = await this.services.backend.readBody(this.user.id, message.blobId, message.size);
    if (this.#closed) return;
    const stuffer = new DotStuffer();
    const body = stuffer.push(bytes);
    const socket = this.#conn.socket;
    socket.cork();
    socket.write(ok(first), 'latin1');
    socket.write(body);
    const more = socket.write(stuffer.finish());
    socket.uncork();
    if (!more && !this.#closed) {
      this.#midResponse = true;
      await this.#conn.drained();
      this.#midResponse = false;
    }
  }

  async readContinuation(): Promise<string | null> {
    const frame = await this.#nextFrame(this.services.limits.maxAuthLineLength);
    if (!frame) return null;
    if (frame.kind === 'too-long') throw pop3Error('lineTooLong');
    return frame.line.toString('latin1');
  }

  async login(user: AuthenticatedUser): Promise<void> {
    const { locks, backend } = this.services;
    const release = locks.tryAcquire(user.id);
    if (!release) throw pop3Error('inUse');
    let maildrop: Maildrop;
    try {
      await backend.ensureUser(user.id);
      maildrop = new Maildrop(await backend.snapshot(user.id, INBOX));
    } catch (error) {
      release();
      throw error;
    }
    if (this.#closed) {
      release();
      return;
    }
    this.#release = release;
    this.#maildrop = maildrop;
    this.#user = user;
    this.state = 'TRANSACTION';
    const { count, size } = maildrop.stat();
    logEvent(
      this.log,
      'pop3.auth',
      { user: user.id, client: this.remoteAddress, messages: count },
      'pop3 login',
    );
    this.ok(TEXT.loggedIn(count, size));
  }

  async startTls(): Promise<void> {
    this.#midResponse = true;
    // Nothing received before the handshake may run after it (RFC 2595 §4, CVE-2011-0411): the
    // connection stops reading and drops what the framer holds, then the +OK goes out.
    await this.#conn.startTls('STLS', (raw) => raw.write(ok(TEXT.beginTls)));
    this.#midResponse = false;
  }

  enterUpdate(): void {
    this.state = 'UPDATE';
  }

  end(): void {
    this.#conn.end();
  }

  // ---- the loop ----------------------------------------------------------------------------------

  /** One command of the loop (`LineConnection.serve`: back-pressure before each); false: stop. */
  async #step(): Promise<boolean> {
    const frame = await this.#nextFrame(this.services.limits.maxLineLength);
    if (!frame || this.#conn.ending) return false;
    if (frame.kind === 'too-long') this.#fail(pop3Error('lineTooLong'));
    else await this.#conn.execute(() => this.#execute(frame.line));
    return true;
  }

  async #execute(line: Buffer): Promise<void> {
    const parsed = parseCommandLine(line);
    if (parsed.kind === 'http') {
      logEventAt(
        this.log,
        'debug',
        'pop3.connection',
        { what: 'http' },
        'pop3 HTTP request on the POP3 port',
      );
      this.#write(err(null, TEXT.httpRefused));
      this.end();
      return;
    }
    if (parsed.kind === 'invalid') {
      this.#fail(new Pop3Error('syntax', null, parsed.reason));
      return;
    }
    const spec = findCommand(parsed.keyword);
    // The keyword only, never the arguments: they may be credentials.
    logEventAt(
      this.log,
      'debug',
      'pop3.command',
      { command: spec ? parsed.keyword : '(unknown)', state: this.state },
      'pop3 command',
    );
    try {
      if (!spec) throw pop3Error('unknownCommand');
      if (!spec.states.includes(this.state)) throw pop3Error('wrongState');
      await spec.handle(this, spec.parse(parsed.args));
    } catch (error) {
      this.#fail(error);
    }
    if (this.state === 'UPDATE') {
      // RFC 1939 §6: the session ends after UPDATE, whatever its outcome.
      this.#releaseLock();
      this.end();
    }
  }

  /** Answers an error raised by a command (through `toWire`) and counts bad commands. */
  #fail(error: unknown): void {
    if (this.#closed) {
      // Nobody to answer; a server-side failure is still worth knowing about.
      if (!isConnectionError(error) && toWire(error).internal) {
        logEventAt(
          this.log,
          'error',
          'pop3.error',
          { err: error },
          'pop3 command failed after the client left',
        );
      }
      return;
    }
    if (this.#midResponse) {
      // The client went away mid-response (its business), or the store failed mid-message (ours).
      if (isConnectionError(error))
        logEventAt(
          this.log,
          'debug',
          'pop3.connection',
          { what: 'interrupted', err: error },
          'pop3 response interrupted by the client',
        );
      else logEventAt(this.log, 'warn', 'pop3.error', { err: error }, 'pop3 response interrupted');
      this.#conn.destroy();
      return;
    }
    const wire = toWire(error);
    if (wire.internal) logEventAt(this.log, 'error', 'pop3.error', { err: error }, 'pop3 command failed');
    this.#write(wire.line);
    if (wire.bad && ++this.#badCommands >= this.services.limits.maxBadCommands) {
      this.#write(err(null, TEXT.tooManyBad));
      this.end();
    }
  }

  #nextFrame(maxLength: number): Promise<Exclude<Frame, { kind: 'needs-more' }> | null> {
    return this.#conn.next(() => {
      const frame = this.#framer.next(maxLength);
      return frame.kind === 'needs-more' ? undefined : frame;
    });
  }

  // ---- transport ---------------------------------------------------------------------------------

  #releaseLock(): void {
    const release = this.#release;
    this.#release = null;
    release?.();
  }

  #write(data: string): void {
    this.#conn.write(data);
  }

  async #writeAndDrain(data: string): Promise<void> {
    if (this.#closed) throw new ConnectionClosedError();
    if (!this.#conn.socket.write(data)) await this.#conn.drained();
  }
}
