/**
 * What a command handler sees of its session (`Pop3Context`) and the shape of a command (`CommandSpec`).
 * Commands depend on this file only, never on the session class.
 */
import type { Socket } from 'node:net';
import type { LoginProxy } from '@delegato/mail-core';
import type { AuthenticatedUser, CredentialStore, LoginRateLimiter, SaslMechanismName } from '@delegato/sasl';
import type { Logger } from 'pino';
import type { Pop3Backend } from './backend.js';
import type { Pop3Limits } from './limits.js';
import type { DropMessage, Maildrop } from './maildrop.js';
import type { MaildropLocks } from './maildrop-lock.js';

/** RFC 1939 §3: AUTHORIZATION → TRANSACTION → UPDATE. */
export type SessionState = 'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE';

export type { Pop3Backend };

/** Everything shared by the sessions of one server. */
export interface Pop3Services {
  hostname: string;
  backend: Pop3Backend;
  credentials: CredentialStore;
  /** Mechanisms configured for AUTH, in the order to advertise them. */
  mechanisms: readonly SaslMechanismName[];
  rateLimiter: LoginRateLimiter | undefined;
  locks: MaildropLocks;
  limits: Pop3Limits;
  /** The IMPLEMENTATION capability's text (RFC 2449 §6.9). */
  implementation: string;
  /** Sessions of mailboxes homed in another region go there after login (decision 0010). */
  proxy?: LoginProxy | undefined;
}

export interface Pop3Context {
  readonly state: SessionState;
  readonly services: Pop3Services;
  /** TLS is active on this connection (implicit TLS or after STLS). */
  readonly tls: boolean;
  /** Credentials may be sent in the clear: TLS is active, or a trusted local connection (Dovecot's rule). */
  readonly secure: boolean;
  readonly remoteAddress: string;
  readonly log: Logger | undefined;
  /** The name given by USER, waiting for PASS (RFC 1939 §7). */
  pendingUser: string | null;
  /** The maildrop (TRANSACTION state only; throws otherwise). */
  readonly maildrop: Maildrop;
  /** The authenticated user (TRANSACTION state only; throws otherwise). */
  readonly user: AuthenticatedUser;

  /** Sends `+OK text`. */
  ok(text?: string): void;
  /** Sends a raw line (CRLF added), e.g. a SASL continuation. */
  sendLine(line: string): void;
  /** Sends `+OK first`, then the lines dot-stuffed, then ".". Waits while the client is not reading. */
  multiline(first: string, lines: Iterable<string>): Promise<void>;
  /** RETR / TOP: `+OK first`, then the message dot-stuffed and terminated (streamed when large). */
  sendMessage(message: DropMessage, first: string, bodyLines?: number): Promise<void>;
  /** Reads the next line of an AUTH exchange (up to `maxAuthLineLength`); null when the connection closed. */
  readContinuation(): Promise<string | null>;
  /**
   * Opens the maildrop for `user`: takes the lock (-ERR [IN-USE]), snapshots INBOX, enters TRANSACTION
   * and answers +OK.
   */
  login(user: AuthenticatedUser): Promise<void>;
  /** Gives the connection to the proxy: the session reads no more and ends when the socket closes. */
  handOver(): { socket: Socket; pending: Buffer };
  /** STLS: answers +OK, drops pipelined input, runs the TLS handshake. */
  startTls(): Promise<void>;
  /** QUIT in TRANSACTION: enters UPDATE (no other command is read afterwards). */
  enterUpdate(): void;
  /** Closes the connection once what was written is flushed. */
  end(): void;
}

/**
 * One POP3 command: its name, the states it may be given in (as data, checked by the session before
 * `parse`), a pure `parse` of the arguments (throws `ArgumentError`), and the async `handle`.
 */
export interface CommandSpec<A> {
  readonly name: string;
  readonly states: readonly SessionState[];
  /** `rest` is the line after the keyword and its space (may be empty). */
  parse(rest: string): A;
  handle(ctx: Pop3Context, args: A): Promise<void>;
}

/** Identity, for inference: `export const stat = command({ ... })`. */
export function command<A>(spec: CommandSpec<A>): CommandSpec<A> {
  return spec;
}
