/**
 * One IMAP connection: the states of RFC 9051 §3 (not authenticated → authenticated ⇄ selected →
 * logout), the read loop over the pure `CommandReader`, dispatch through the command registry, tagged and
 * untagged responses, mailbox updates (RFC 9051 §7.5.1, IDLE RFC 2177), and the transport (STARTTLS,
 * back-pressure, timeouts). Commands are executed strictly one after the other, in the order received.
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
import type { StoreEvent } from './backend.js';
import { capabilities } from './capabilities.js';
import { findCommand } from './commands/index.js';
import type { Completion, Extension, ImapContext, ImapServices, SessionState } from './context.js';
import { badCommand, ERRORS, ImapError, sanitize, toWire, wireText } from './errors.js';
import type { SelectedMailbox } from './mailbox/selected.js';
import { CommandReader, type ReaderEvent } from './parser/reader.js';
import type { ParsedCommand } from './parser/types.js';
import { line, mailboxName, type Wire } from './wire.js';

/** The connection (see `SessionTransport`) and the server's services. */
export interface SessionOptions extends SessionTransport {
  services: ImapServices;
}

export class ImapSession implements ImapContext {
  state: SessionState = 'not-authenticated';
  tag = '*';
  readonly services: ImapServices;
  readonly remoteAddress: string;
  readonly log: Logger | undefined;
  readonly enabled = new Set<Extension>();
  savedSearch: readonly number[] = [];

  /**
   * The transport (socket, TLS upgrade, timeouts, pausing, back-pressure, corking), shared with POP3. A
   * command's responses go out together when it completes (or earlier, before waiting for the client: a
   * drain, a literal, IDLE, STARTTLS), not one segment each.
   */
  readonly #conn: LineConnection;
  readonly #reader: CommandReader;
  #badCommands = 0;
  #user: AuthenticatedUser | null = null;
  #selected: SelectedMailbox | null = null;
  #unsubscribe: (() => void) | null = null;
  /** IDLE in progress: updates are sent as they happen. */
  #idling = false;
  #idleFlushScheduled = false;
  #flushChain: Promise<void> = Promise.resolve();
  /** A command is being executed whose responses must not include EXPUNGE. */
  #holdExpunges = false;

  constructor(opts: SessionOptions) {
    this.services = opts.services;
    const limits = opts.services.limits;
    this.#reader = new CommandReader(limits);
    this.#reader.commandSizeLimit = limits.maxCommandSizeBeforeLogin;
    this.#conn = new LineConnection({
      ...opts,
      name: 'imap',
      events: { connection: 'imap.connection', error: 'imap.error' },
      input: this.#reader,
      maxBufferedInput: limits.maxBufferedInput,
      tlsHandshakeTimeoutMs: limits.tlsHandshakeTimeoutMs,
      idleTimeoutMs: () =>
        this.state === 'not-authenticated' ? limits.loginTimeoutMs : limits.idleTimeoutMs,
      // A literal may be large: a full buffer pauses the client only while a command runs.
      pauseOnlyWhileBusy: true,
      // RFC 9051 §5.4 autologout.
      timeoutLine: line('* BYE Disconnected for inactivity.'),
      onGone: () => {
        this.#unsubscribe?.();
        this.#unsubscribe = null;
      },
    });
    this.log = this.#conn.log;
    this.remoteAddress = this.#conn.remoteAddress;
  }

  get #closed(): boolean {
    return this.#conn.closed;
  }

  get #ending(): boolean {
    return this.#conn.ending;
  }

  get rev2(): boolean {
    return this.enabled.has('IMAP4rev2');
  }

  mailboxName(name: string): Wire {
    return mailboxName(name, this.rev2);
  }

  get tls(): boolean {
    return this.#conn.tls;
  }

  /** TLS, or a client on the server's own address when `trustLocalConnections` (as Dovecot does). */
  get secure(): boolean {
    return this.#conn.secure;
  }

  get user(): AuthenticatedUser {
    if (!this.#user) throw ERRORS.wrongState(this.state);
    return this.#user;
  }

  get selected(): SelectedMailbox {
    if (!this.#selected) throw ERRORS.wrongState(this.state);
    return this.#selected;
  }

  get selectedOrNull(): SelectedMailbox | null {
    return this.#selected;
  }

  /** Greets and serves the connection until it closes. */
  start(): void {
    this.#conn.attach();
    // RFC 9051 §7.1.1: the greeting may carry the capabilities, saving a round trip.
    this.#write(
      line(`* OK [CAPABILITY ${this.capabilities().join(' ')}] ${this.services.implementation} ready.`),
    );
    void this.#conn.serve(() => this.#step());
  }

  /**
   * Serves a connection a proxy region opened for `user`, already authenticated there (decision 0010):
   * the session logs in, greets with `* PREAUTH` and its capabilities (RFC 9051 §7.1.4), and serves as
   * after a LOGIN. When the mailbox cannot be opened: `* BYE`, and the connection ends.
   */
  startAuthenticated(user: AuthenticatedUser): void {
    this.#conn.attach();
    void (async () => {
      try {
        await this.login(user);
      } catch {
        this.#write(line('* BYE [UNAVAILABLE] Mailbox unavailable.'));
        this.#conn.end();
        return;
      }
      if (this.#closed) return;
      this.#write(
        line(`* PREAUTH [CAPABILITY ${this.capabilities().join(' ')}] Logged in as ${user.address}`),
      );
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

  /** Cuts the connection (server shutdown), with a BYE (RFC 9051 §7.1.5). */
  destroy(): void {
    this.#conn.uncork();
    this.#write(line('* BYE Server shutting down.'));
    this.#conn.destroy();
  }

  /** Resolves once the command being executed (if any) is done. */
  async settled(): Promise<void> {
    await this.#conn.settled();
  }

  // ---- ImapContext -------------------------------------------------------------------------------

  enable(ext: Extension): Extension[] {
    const wanted: Extension[] = ext === 'QRESYNC' ? ['CONDSTORE', 'QRESYNC'] : [ext];
    const added = wanted.filter((e) => !this.enabled.has(e));
    for (const e of added) this.enabled.add(e);
    return added;
  }

  capabilities(): string[] {
    return capabilities({
      state: this.state,
      tls: this.#conn.tls,
      secure: this.secure,
      mechanisms: this.services.mechanisms,
    });
  }

  async untagged(response: Wire): Promise<void> {
    await this.#send(line(['* ', response]));
  }

  async sendRaw(chunks: readonly Buffer[], written?: () => void): Promise<void> {
    if (this.#closed) throw new ConnectionClosedError();
    const socket = this.#conn.socket;
    // Corked: the chunks go out in one writev rather than one syscall each.
    socket.cork();
    try {
      const last = chunks.length - 1;
      // Callbacks run in order, after the writes: the last chunk's says all of them are done.
      for (let i = 0; i <= last; i++) this.#write(chunks[i] as Buffer, i === last ? written : undefined);
    } finally {
      socket.uncork();
    }
    if (socket.writableNeedDrain) await this.#conn.drained();
  }

  abort(reason: string): void {
    logEventAt(this.log, 'error', 'imap.error', { reason }, 'imap connection aborted');
    this.#conn.destroy();
  }

  async continuation(text: string): Promise<void> {
    await this.#send(line(`+ ${text}`));
  }

  async tagged(status: 'OK' | 'NO' | 'BAD', text: string): Promise<void> {
    await this.#send(line(`${this.tag} ${status} ${text}`));
  }

  async readLine(maxLength: number): Promise<string | null> {
    for (;;) {
      if (this.#closed || this.#ending) return null;
      const ev = this.#reader.nextLine(maxLength);
      if (ev.kind === 'line') return ev.line.toString('utf8');
      if (ev.kind === 'too-long') throw badCommand('Line too long');
      await this.#conn.waitForData();
    }
  }

  async login(user: AuthenticatedUser): Promise<void> {
    await this.services.backend.ensureUser(user.id);
    if (this.#closed) return;
    this.#user = user;
    this.state = 'authenticated';
    this.#reader.commandSizeLimit = null;
    this.#unsubscribe = this.services.backend.subscribe(user.id, this.#onStoreEvent);
    this.#conn.setTimeout(this.services.limits.idleTimeoutMs);
    logEvent(this.log, 'imap.auth', { user: user.id, client: this.remoteAddress }, 'imap login');
  }

  async select(view: SelectedMailbox | null): Promise<void> {
    // RFC 5182 §2.1: the saved search result is forgotten when the selected mailbox changes.
    this.savedSearch = [];
    if (this.#selected) {
      this.#selected = null;
      // RFC 7162 §3.2.11 / RFC 9051 §7.1: the previous mailbox is closed before the new one's responses.
      if (view) await this.untagged('OK [CLOSED] Previous mailbox closed.');
    }
    this.#selected = view;
    this.state = view ? 'selected' : 'authenticated';
  }

  async startTls(): Promise<void> {
    // The tagged OK reaches the client before the handshake (the connection uncorks first). Nothing
    // received before the handshake may run after it (RFC 9051 §6.2.1, CVE-2011-0411): the connection
    // stops reading and drops what the reader buffered.
    await this.#conn.startTls('STARTTLS');
  }

  async logout(): Promise<void> {
    await this.untagged('BYE Logging out');
    this.state = 'logout';
  }

  async idle(): Promise<'done' | 'bad' | 'closed'> {
    const limits = this.services.limits;
    await this.continuation('idling');
    this.#idling = true;
    const socket = this.#conn.socket;
    socket.setTimeout(0);
    const keepalive = setInterval(() => this.#write(line('* OK Still here')), limits.idleKeepaliveMs);
    const timeout = setTimeout(() => {
      this.#write(line('* BYE Disconnected for inactivity.'));
      this.end();
    }, limits.idleCommandTimeoutMs);
    try {
      await this.#flushIdle();
      const text = await this.readLine(limits.maxLineLength);
      if (text === null) return 'closed';
      return text.trim().toUpperCase() === 'DONE' ? 'done' : 'bad';
    } finally {
      this.#idling = false;
      clearInterval(keepalive);
      clearTimeout(timeout);
      if (!this.#closed) socket.setTimeout(limits.idleTimeoutMs);
    }
  }

  flushUpdates(expunge: boolean): Promise<void> {
    // One flush at a time: the lines of one batch must not interleave with the next batch's (whose
    // sequence numbers assume the whole first batch was seen).
    const run = this.#flushChain.then(() => this.#flush(expunge));
    this.#flushChain = run.catch(() => undefined);
    return run;
  }

  async #flush(expunge: boolean): Promise<void> {
    const view = this.#selected;
    if (!view || this.#closed) return;
    if (view.deleted) {
      await this.untagged('BYE Selected mailbox was deleted, have to disconnect.');
      this.end();
      return;
    }
    const live = view.listeners;
    if (!view.hasUpdates(expunge) && !live.some((l) => l.stale())) return;
    // RFC 5267 §4.3: live searches drop the messages being expunged before the EXPUNGEs, and report
    // what else changed in their results after the updates.
    const before = live.flatMap((l) => l.before(expunge));
    const updates = view.takeUpdates({
      expunge,
      qresync: this.enabled.has('QRESYNC'),
      condstore: this.enabled.has('CONDSTORE'),
    });
    for (const u of [...before, ...updates]) await this.untagged(u);
    for (const l of live) for (const u of await l.after()) await this.untagged(u);
  }

  end(): void {
    this.#conn.end();
  }

  // ---- the loop ----------------------------------------------------------------------------------

  /** One command of the loop (`LineConnection.serve`: back-pressure before each); false: stop. */
  async #step(): Promise<boolean> {
    const ev = await this.#nextEvent();
    if (!ev || this.#ending) return false;
    if (ev.kind === 'error') await this.#readerError(ev);
    else await this.#conn.execute(() => this.#execute(ev.command), { cork: true });
    return true;
  }

  /** The next command or reader error; continuation requests for literals are answered here. */
  #nextEvent(): Promise<Exclude<ReaderEvent, { kind: 'needs-more' | 'continue' }> | null> {
    return this.#conn.next(() => {
      for (;;) {
        const ev = this.#reader.next();
        if (ev.kind === 'needs-more') return undefined;
        if (ev.kind !== 'continue') return ev;
        // RFC 9051 §7.5: the server is ready for the literal's octets.
        this.#write(line('+ Ready for literal data'));
      }
    });
  }

  async #readerError(ev: Extract<ReaderEvent, { kind: 'error' }>): Promise<void> {
    const wire = toWire(new ImapError(ev.status, ev.code, ev.text));
    this.#write(line(`${ev.tag ?? '*'} ${wireText(wire)}`));
    if (ev.fatal) {
      this.#write(line('* BYE Too large literal, closing connection.'));
      this.end();
      return;
    }
    if (wire.status === 'BAD') this.#countBad();
  }

  async #execute(cmd: ParsedCommand): Promise<void> {
    let name = cmd.name;
    let args = cmd.args;
    if (name === 'UID') {
      const sub = args[0];
      if (sub?.kind === 'atom') {
        name = `UID ${sub.value.toUpperCase()}`;
        args = args.slice(1);
      }
    }
    this.tag = cmd.tag;
    const spec = findCommand(name);
    // The command name only, never the arguments: they may be credentials.
    logEventAt(
      this.log,
      'debug',
      'imap.command',
      { command: spec ? name : '(unknown)', state: this.state },
      'imap command',
    );
    this.#holdExpunges = spec?.holdExpunges === true;
    let completion: Completion | undefined;
    try {
      if (!spec) throw ERRORS.unknownCommand();
      if (!spec.states.includes(this.state)) throw ERRORS.wrongState(this.state, spec.states);
      const parsed = spec.parse(args, { utf8: this.rev2 });
      completion = await spec.handle(this, parsed);
    } catch (error) {
      await this.#fail(cmd.tag, error);
      this.#holdExpunges = false;
      return;
    }
    try {
      if (this.#closed) return;
      // RFC 9051 §6.1.3: after LOGOUT's BYE only the tagged OK follows (no mailbox updates).
      if (this.state !== 'logout') await this.flushUpdates(!this.#holdExpunges);
      this.#holdExpunges = false;
      if (this.#ending || completion?.answered) return;
      const code = completion?.code ? `[${completion.code}] ` : '';
      const text = completion?.text ?? `${titleCase(spec.name)} completed.`;
      this.#write(line(`${cmd.tag} OK ${code}${sanitize(text)}`));
      if (this.state === 'logout') this.end();
    } catch (error) {
      await this.#fail(cmd.tag, error);
    } finally {
      this.#holdExpunges = false;
    }
  }

  /** Answers an error raised by a command (through `toWire`) and counts bad commands. */
  async #fail(tag: string, error: unknown): Promise<void> {
    if (this.#closed || isConnectionError(error)) {
      if (!isConnectionError(error) && toWire(error).internal) {
        logEventAt(
          this.log,
          'error',
          'imap.error',
          { err: error },
          'imap command failed after the client left',
        );
      }
      if (isConnectionError(error)) this.#conn.destroy();
      return;
    }
    const wire = toWire(error);
    if (wire.internal) logEventAt(this.log, 'error', 'imap.error', { err: error }, 'imap command failed');
    try {
      await this.flushUpdates(!this.#holdExpunges);
    } catch {
      // The updates wait for the next command.
    }
    this.#write(line(`${tag} ${wireText(wire)}`));
    if (wire.status === 'BAD') this.#countBad();
  }

  #countBad(): void {
    if (++this.#badCommands >= this.services.limits.maxBadCommands) {
      this.#write(line('* BYE Too many invalid IMAP commands.'));
      this.end();
    }
  }

  // ---- store events ------------------------------------------------------------------------------

  readonly #onStoreEvent = (event: StoreEvent): void => {
    if (this.#closed) return;
    this.#selected?.onEvent(event);
    if (this.#idling && !this.#idleFlushScheduled) {
      this.#idleFlushScheduled = true;
      // Coalesce the events of one store change (they are published together).
      setImmediate(() => {
        this.#idleFlushScheduled = false;
        if (this.#idling) void this.#flushIdle();
      });
    }
  };

  async #flushIdle(): Promise<void> {
    try {
      await this.flushUpdates(true);
    } catch (error) {
      if (!isConnectionError(error))
        logEventAt(this.log, 'warn', 'imap.error', { err: error }, 'imap IDLE update failed');
    }
  }

  // ---- transport ---------------------------------------------------------------------------------

  #write(data: Buffer, written?: () => void): void {
    this.#conn.write(data, written);
  }

  /** Writes, then waits while the client is not reading (rejects when the connection closed). */
  #send(data: Buffer): Promise<void> {
    return this.#conn.send(data);
  }
}

/** Dovecot's wording of the tagged OK: `Fetch completed.`, `UID fetch completed.` */
function titleCase(name: string): string {
  if (name.startsWith('UID ')) return `UID ${name.slice(4).toLowerCase()}`;
  return name.charAt(0) + name.slice(1).toLowerCase();
}
