/**
 * `LineConnection`: the transport of one line-protocol session (IMAP, POP3), written once. It owns the
 * socket (the plain one, then the TLS one after STARTTLS / STLS), reads into the protocol's own parser
 * (`LineInput`), and carries what both protocols did alike: attaching the listeners with the idle timeout
 * and TCP_NODELAY, pausing a client that sends more than `maxBufferedInput` ahead (and, once the session
 * is ending, everything it still sends), waking the read loop when data or the close arrive, the command
 * loop with back-pressure (no new command while the client does not read the answers), corking a
 * command's responses into one write, the in-protocol TLS upgrade (CVE-2011-0411: nothing read before
 * the handshake runs after it), autologout, the graceful end and the close.
 *
 * What differs between the protocols is an option: the timeout of the current state, whether a full
 * buffer pauses the socket only while a command runs (IMAP: a literal may be large) or always (POP3), and
 * what an inactive client gets (IMAP: a BYE, then the end; POP3: the connection is cut, RFC 1939 §3).
 */
import type { Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { type LogEvent, logEventAt } from '@delegato/observability';
import type { Logger } from 'pino';
import { ConnectionClosedError, isConnectionError } from './connection-errors.js';
import { endGracefully } from './graceful-end.js';
import { isLocalConnection, normalizeAddress } from './peer-address.js';
import type { SessionTransport } from './protocol-listeners.js';
import { attachSessionSocket, detachPlainSocket } from './session-socket.js';
import { drained } from './socket-drain.js';
import { upgradeToTls } from './tls-upgrade.js';

/** The protocol's incremental parser, as the connection feeds it. */
export interface LineInput {
  push(chunk: Buffer): void;
  /** Drops everything buffered (before a TLS handshake). */
  clear(): void;
  /** Octets held, not yet taken as commands. */
  readonly buffered: number;
  /** Removes and returns every octet held, as received (the proxy hand-over passes them on). */
  takeAll(): Buffer;
}

export interface LineConnectionOptions extends SessionTransport {
  /** `imap` or `pop3`: log messages (`imap autologout`, …). */
  name: string;
  /** The log events of the protocol's catalogue: connection changes (debug) and server errors. */
  events: { connection: LogEvent; error: LogEvent };
  input: LineInput;
  maxBufferedInput: number;
  tlsHandshakeTimeoutMs: number;
  /** The inactivity timeout of the session's current state, ms (read when a socket is attached). */
  idleTimeoutMs(): number;
  /** Pause a client that sent more than `maxBufferedInput` only while a command runs. Default false. */
  pauseOnlyWhileBusy?: boolean;
  /** On inactivity: this last line, then a graceful end (IMAP's BYE). Without it, the connection is cut. */
  timeoutLine?: Buffer | string;
  /** Called once when the connection is gone, before the transport's `onClose`. */
  onGone?: () => void;
}

export class LineConnection {
  readonly remoteAddress: string;
  readonly log: Logger | undefined;
  #socket: Socket;
  #tls: boolean;
  readonly #o: LineConnectionOptions;
  readonly #local: boolean;
  readonly #secureContext: SecureContext;
  #wake: (() => void) | null = null;
  #paused = false;
  /** The command loop waits for 'drain' (the client is not reading the answers). */
  #awaitingDrain = false;
  #closed = false;
  #ending = false;
  /** The command being executed. */
  #busy: Promise<void> | null = null;
  /** The socket corked for the command being executed (`execute(task, { cork: true })`). */
  #corked: Socket | null = null;

  constructor(o: LineConnectionOptions) {
    this.#o = o;
    this.#socket = o.socket;
    this.#tls = o.tls;
    this.#secureContext = o.secureContext;
    this.log = o.log;
    this.remoteAddress = normalizeAddress(o.socket.remoteAddress ?? '');
    this.#local = isLocalConnection(o.socket);
  }

  /** The current socket (the TLS one after an upgrade). */
  get socket(): Socket {
    return this.#socket;
  }

  get tls(): boolean {
    return this.#tls;
  }

  /** TLS, or a client on the server's own address when `trustLocalConnections` (as Dovecot does). */
  get secure(): boolean {
    return this.#tls || (this.#o.trustLocalConnections && this.#local);
  }

  /** The connection is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** `end()` was called: nothing more is read. */
  get ending(): boolean {
    return this.#ending;
  }

  /** Attaches the socket's listeners (call once, when the session starts). */
  attach(): void {
    this.#attach(this.#socket);
  }

  /**
   * The command loop: `step` reads and executes one command (false: stop). Before each, waits while the
   * client is not reading the answers. A failure of the loop itself is logged and cuts the connection.
   */
  async serve(step: () => Promise<boolean>): Promise<void> {
    try {
      while (!this.#closed && !this.#ending) {
        if (this.#socket.writableNeedDrain) {
          this.#awaitingDrain = true;
          await this.drained().catch(() => undefined);
          this.#awaitingDrain = false;
        }
        if (!(await step())) return;
      }
    } catch (error) {
      if (!isConnectionError(error)) {
        logEventAt(this.log, 'error', this.#o.events.error, { err: error }, `${this.#o.name} session failed`);
      }
      this.#socket.destroy();
    }
  }

  /** Runs one command; with `cork`, its responses leave in one write when it completes. */
  async execute(task: () => Promise<void>, opts: { cork?: boolean } = {}): Promise<void> {
    if (opts.cork) this.cork();
    try {
      this.#busy = task();
      await this.#busy;
    } finally {
      this.#busy = null;
      if (opts.cork) this.uncork();
    }
  }

  /** Resolves once the command being executed (if any) is done. */
  async settled(): Promise<void> {
    await this.#busy?.catch(() => undefined);
  }

  /**
   * Takes the next input with `take` (undefined: more bytes needed), waiting for data; null once the
   * connection is closed, or ending with nothing complete buffered.
   */
  async next<T>(take: () => T | undefined): Promise<T | null> {
    for (;;) {
      if (this.#closed) return null;
      const got = take();
      if (got !== undefined) return got;
      if (this.#ending) return null;
      await this.waitForData();
    }
  }

  /** Waits for the client's next bytes (or the close); what is corked goes out first. */
  async waitForData(): Promise<void> {
    this.uncork();
    if (this.#paused) {
      this.#paused = false;
      this.#socket.resume();
    }
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
  }

  /** Writes unless the connection is gone; `written` runs once the bytes are handed to the system. */
  write(data: Buffer | string, written?: () => void): void {
    const socket = this.#socket;
    if (this.#closed || socket.destroyed || !socket.writable) return;
    if (written) socket.write(data, () => written());
    else socket.write(data);
  }

  /** Writes, then waits while the client is not reading (rejects when the connection is closed). */
  async send(data: Buffer | string): Promise<void> {
    if (this.#closed) throw new ConnectionClosedError();
    this.write(data);
    if (this.#socket.writableNeedDrain) await this.drained();
  }

  /** Resolves on 'drain' (what is corked goes out first); rejects when the connection closes first. */
  drained(): Promise<void> {
    this.uncork();
    return drained(this.#socket);
  }

  cork(): void {
    if (this.#corked || this.#closed) return;
    this.#corked = this.#socket;
    this.#corked.cork();
  }

  uncork(): void {
    const socket = this.#corked;
    if (!socket) return;
    this.#corked = null;
    socket.uncork();
  }

  /** Sets the inactivity timeout of the current socket (0: none), e.g. after login or around IDLE. */
  setTimeout(ms: number): void {
    if (!this.#closed) this.#socket.setTimeout(ms);
  }

  /**
   * The server side of STARTTLS / STLS: stops reading the plain socket and drops what the parser holds,
   * lets `beforeHandshake` write (POP3's `+OK`), then the handshake; the session continues on TLS.
   */
  async startTls(what: string, beforeHandshake?: (raw: Socket) => void): Promise<void> {
    this.uncork();
    const raw = this.#socket;
    detachPlainSocket(raw, { onData: this.#onData, onTimeout: this.#onTimeout });
    this.#o.input.clear();
    if (this.#paused) {
      this.#paused = false;
      raw.resume();
    }
    beforeHandshake?.(raw);
    const secure = await upgradeToTls(raw, {
      secureContext: this.#secureContext,
      SNICallback: this.#o.SNICallback,
      handshakeTimeoutMs: this.#o.tlsHandshakeTimeoutMs,
      onError: this.#onError,
      log: this.log,
      name: `${this.#o.name} ${what}`,
    });
    this.#socket = secure;
    this.#tls = true;
    this.#attach(secure);
    logEventAt(
      this.log,
      'debug',
      this.#o.events.connection,
      { what: what.toLowerCase() },
      `${this.#o.name} ${what} done`,
    );
  }

  /**
   * Gives the socket away (the login proxy, decision 0010): the session's listeners leave it, its timeout
   * is off, and what the client sent beyond the last command (pipelined after LOGIN, before its answer)
   * is returned to be passed on, in order, before anything read from the socket later.
   */
  release(): { socket: Socket; pending: Buffer } {
    this.uncork();
    const socket = this.#socket;
    socket.removeAllListeners('data');
    socket.removeAllListeners('timeout');
    socket.setTimeout(0);
    this.#paused = false;
    return { socket, pending: this.#o.input.takeAll() };
  }

  /** Ends the session: what is corked goes out, nothing more is read, the peer gets `END_GRACE_MS`. */
  end(): void {
    this.uncork();
    if (this.#ending) return;
    this.#ending = true;
    endGracefully(this.#socket);
    this.#wakeUp();
  }

  /** Cuts the connection now. */
  destroy(): void {
    this.#socket.destroy();
  }

  #attach(socket: Socket): void {
    attachSessionSocket(
      socket,
      { onData: this.#onData, onError: this.#onError, onClose: this.#onClose, onTimeout: this.#onTimeout },
      this.#o.idleTimeoutMs(),
    );
  }

  readonly #onData = (chunk: Buffer): void => {
    // After a fatal error, a BYE, LOGOUT or QUIT nothing more is read: what the client still sends is
    // dropped and the socket paused, so it costs no memory until the connection is gone.
    if (this.#ending || this.#closed) {
      this.#paused = true;
      this.#socket.pause();
      return;
    }
    const input = this.#o.input;
    input.push(chunk);
    if (
      input.buffered > this.#o.maxBufferedInput &&
      !this.#paused &&
      // While the loop waits for the client to read its answers, more input only piles up (a client
      // that pipelines without reading): pause then too, whatever `pauseOnlyWhileBusy` says.
      (!this.#o.pauseOnlyWhileBusy || this.#busy || this.#awaitingDrain)
    ) {
      this.#paused = true;
      this.#socket.pause();
    }
    this.#wakeUp();
  };

  readonly #onError = (error: Error): void => {
    logEventAt(
      this.log,
      'debug',
      this.#o.events.connection,
      { what: 'socket-error', err: error },
      `${this.#o.name} socket error`,
    );
  };

  readonly #onTimeout = (): void => {
    logEventAt(
      this.log,
      'debug',
      this.#o.events.connection,
      { what: 'autologout' },
      `${this.#o.name} autologout`,
    );
    if (this.#o.timeoutLine === undefined) {
      this.#socket.destroy();
      return;
    }
    this.write(this.#o.timeoutLine);
    this.end();
  };

  readonly #onClose = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.onGone?.();
    this.#wakeUp();
    logEventAt(
      this.log,
      'debug',
      this.#o.events.connection,
      { what: 'closed' },
      `${this.#o.name} connection closed`,
    );
    this.#o.onClose?.();
  };

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
