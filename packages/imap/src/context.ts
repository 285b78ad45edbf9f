/**
 * What a command handler sees of its session (`ImapContext`) and the shape of a command (`CommandSpec`).
 * Commands depend on this file, never on the session class.
 */

import type { Socket } from 'node:net';
import type { LoginProxy } from '@delegato/mail-core';
import type { AuthenticatedUser, CredentialStore, LoginRateLimiter, SaslMechanismName } from '@delegato/sasl';
import type { Logger } from 'pino';
import type { ImapBackend } from './backend.js';
import type { SummaryCache } from './fetch/summary.js';
import type { ImapLimits } from './limits.js';
import type { RecentTracker } from './mailbox/recent.js';
import type { SelectedMailbox } from './mailbox/selected.js';
import type { MessageCache } from './mime/cache.js';
import type { ParseEnv } from './parser/args.js';
import type { Arg } from './parser/types.js';
import type { Wire } from './wire.js';

/** RFC 9051 §3: the connection states. */
export type SessionState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

/** Extensions a client can ENABLE (RFC 5161) or turn on by use (CONDSTORE, RFC 7162 §3.1). */
export type Extension = 'CONDSTORE' | 'QRESYNC' | 'IMAP4rev2';

/** Everything shared by the sessions of one server. */
export interface ImapServices {
  hostname: string;
  backend: ImapBackend;
  credentials: CredentialStore;
  /** Mechanisms configured for AUTHENTICATE, in the order to advertise them. */
  mechanisms: readonly SaslMechanismName[];
  rateLimiter: LoginRateLimiter | undefined;
  limits: ImapLimits;
  /** Message bodies and parsed MIME structures, shared by every session (keyed by the body's blob id). */
  cache: MessageCache;
  /** Per-body summaries (ENVELOPE, BODY, BODYSTRUCTURE) in memory; the mail store keeps them too. */
  summaries: SummaryCache;
  /** Which messages some session has already seen as \Recent (RFC 3501 §2.3.2). */
  recent: RecentTracker;
  /** The server's name in ID responses. */
  implementation: string;
  /** Sessions of mailboxes homed in another region go there after login (decision 0010). */
  proxy?: LoginProxy | undefined;
}

/** A tagged OK's optional response code and text. */
export interface Completion {
  /** Without brackets, e.g. `APPENDUID 38505 3955`. */
  code?: string;
  text?: string;
  /** The handler sent the tagged response itself (STARTTLS answers before its handshake). */
  answered?: boolean;
}

export interface ImapContext {
  /** The tag of the command being executed. */
  readonly tag: string;
  readonly state: SessionState;
  readonly services: ImapServices;
  /** TLS is active on this connection (implicit TLS or after STARTTLS). */
  readonly tls: boolean;
  /** Credentials may be sent in the clear: TLS is active, or a trusted local connection (Dovecot's rule). */
  readonly secure: boolean;
  readonly remoteAddress: string;
  readonly log: Logger | undefined;
  /** The authenticated user (throws before login). */
  readonly user: AuthenticatedUser;
  /** The selected mailbox (throws when none is selected). */
  readonly selected: SelectedMailbox;
  /** The selected mailbox or null. */
  readonly selectedOrNull: SelectedMailbox | null;
  readonly enabled: ReadonlySet<Extension>;

  /** IMAP4rev2 is enabled (RFC 9051): UTF-8 mailbox names, ESEARCH responses, no RECENT. */
  readonly rev2: boolean;
  /** A mailbox name as this session sends it (modified UTF-7, or UTF-8 with IMAP4rev2). */
  mailboxName(name: string): Wire;
  /** The UIDs of the saved search result, `$` (SEARCHRES, RFC 5182). */
  savedSearch: readonly number[];
  /** Turns an extension on (QRESYNC implies CONDSTORE); returns the ones newly enabled. */
  enable(ext: Extension): Extension[];
  /** The CAPABILITY list for the connection's current state. */
  capabilities(): string[];
  /** Sends `* <response>`; waits while the client is not reading. */
  untagged(response: Wire): Promise<void>;
  /**
   * Sends octets the command assembled itself (batches of untagged responses, the parts of a literal
   * streamed from a body file) in one corked socket write; waits while the client is not reading.
   * `written` is called once the socket no longer needs the chunks (written to the kernel, or the
   * connection failed): their memory may be reused then. It may never be called if the connection
   * was already gone.
   */
  sendRaw(chunks: readonly Buffer[], written?: () => void): Promise<void>;
  /**
   * Cuts the connection without a response: for a failure in the middle of a literal already announced,
   * where no response can follow (RFC 9051 §4.3: the client reads exactly the announced octets).
   */
  abort(reason: string): void;
  /** Sends a continuation request `+ <text>`. */
  continuation(text: string): Promise<void>;
  /** Reads one raw line (AUTHENTICATE response); null when the connection closed. Over-long: BAD. */
  readLine(maxLength: number): Promise<string | null>;
  /** Authenticated: enters the authenticated state and starts receiving the user's store events. */
  login(user: AuthenticatedUser): Promise<void>;
  /** Gives the connection to the proxy: the session reads no more and ends when the socket closes. */
  handOver(): { socket: Socket; pending: Buffer };
  /**
   * Sets the selected mailbox: a view (entering the selected state; events for its folder go to it from
   * now on, it buffers them until loaded) or null (back to authenticated). Replacing a selected mailbox
   * sends `* OK [CLOSED]` (RFC 7162 §3.2.11, RFC 9051 §7.1).
   */
  select(view: SelectedMailbox | null): Promise<void>;
  /** STARTTLS: drops pipelined input and runs the TLS handshake (the handler sent the tagged OK first). */
  startTls(): Promise<void>;
  /** Sends a tagged response now (STARTTLS answers before its handshake). */
  tagged(status: 'OK' | 'NO' | 'BAD', text: string): Promise<void>;
  /** LOGOUT: sends BYE and enters the logout state (the connection closes after the tagged OK). */
  logout(): Promise<void>;
  /**
   * IDLE (RFC 2177): sends `+ idling`, then sends mailbox updates as they happen until the client sends a
   * line. Returns 'done' for DONE, 'bad' for anything else, 'closed' when the connection went away.
   */
  idle(): Promise<'done' | 'bad' | 'closed'>;
  /**
   * Sends pending mailbox updates now (EXPUNGE/VANISHED only when `expunge`), e.g. before a tagged
   * response whose meaning depends on them.
   */
  flushUpdates(expunge: boolean): Promise<void>;
}

/**
 * One command: its name, the states it may be given in (as data, checked by the session before `parse`),
 * a pure `parse` of the arguments (throws a BAD `ImapError`), and the async `handle` that answers the
 * untagged responses and returns what goes into the tagged OK.
 */
export interface CommandSpec<A> {
  readonly name: string;
  readonly states: readonly SessionState[];
  /**
   * RFC 9051 §7.5.1: EXPUNGE responses must not be sent while responding to FETCH, STORE or SEARCH (with
   * sequence numbers): pending expunges wait for a later command.
   */
  readonly holdExpunges?: boolean;
  /** Pure: the arguments and the session's parse environment (IMAP4rev2 enabled or not) only. */
  parse(args: readonly Arg[], env: ParseEnv): A;
  handle(ctx: ImapContext, args: A): Promise<Completion | undefined>;
}

/** Identity, for inference: `export const noop = command({ ... })`. */
export function command<A>(spec: CommandSpec<A>): CommandSpec<A> {
  return spec;
}
