/**
 * Every reply the POP3 server chooses, the response codes, and the one place where errors become -ERR
 * lines (`toWire`).
 *
 * Error taxonomy (one taxonomy, mapped to the wire in one place):
 * - `syntax`: the command was not understood (unknown, bad arguments, wrong state). Counts as a bad
 *   command; too many and the connection is closed.
 * - `user`: a well-formed command that cannot be done (no such message, wrong password, maildrop locked).
 * - `temporary`: a server-side condition that may go away; always carries [SYS/TEMP] (RFC 3206 §4).
 * - anything else thrown by a handler is a server error: logged, answered with [SYS/TEMP].
 */
import { isStoreError } from './backend.js';
import { ArgumentError } from './parser.js';

/**
 * Response codes (RFC 2449 §8): the text between brackets right after "-ERR ". Registered in the
 * IANA POP3 response-codes registry.
 */
export const RESP_CODES = {
  /** RFC 2449 §8.1.2: the maildrop is locked by another session (AUTH, APOP, PASS). */
  inUse: 'IN-USE',
  /** RFC 2449 §8.1.1: logging in is refused for now (we use it for the failed-login rate limiter). */
  loginDelay: 'LOGIN-DELAY',
  /** RFC 3206 §5: the failure is due to the user's credentials (or a policy about them, e.g. no TLS). */
  auth: 'AUTH',
  /** RFC 3206 §4: a temporary system failure; the client may retry later. */
  sysTemp: 'SYS/TEMP',
  /** RFC 3206 §4: a permanent system failure. */
  sysPerm: 'SYS/PERM',
} as const;

export type RespCode = (typeof RESP_CODES)[keyof typeof RESP_CODES];

export type ErrorKind = 'syntax' | 'user' | 'temporary';

export class Pop3Error extends Error {
  override name = 'Pop3Error';
  constructor(
    readonly kind: ErrorKind,
    readonly code: RespCode | null,
    message: string,
  ) {
    super(message);
  }
}

const e = (kind: ErrorKind, code: RespCode | null, text: string) => ({ kind, code, text });

/** Named -ERR replies. */
export const ERRORS = {
  unknownCommand: e('syntax', null, 'Unknown command'),
  wrongState: e('syntax', null, 'Command not valid in this state'),
  lineTooLong: e('syntax', null, 'Line too long'),
  passWithoutUser: e('syntax', null, 'No USER given'),
  /** RFC 1939 §5: "-ERR no such message" (never existed, or marked as deleted). */
  noSuchMessage: e('user', null, 'No such message'),
  alreadyDeleted: e('user', null, 'Message already deleted'),
  /** RFC 3206 §5 + RFC 2595 §2.1 (Dovecot's wording): credentials refused on an insecure connection. */
  plaintextDisallowed: e(
    'user',
    RESP_CODES.auth,
    'Plaintext authentication disallowed on non-secure connections',
  ),
  authFailed: e('user', RESP_CODES.auth, 'Authentication failed'),
  authAborted: e('user', null, 'Authentication aborted'),
  invalidBase64: e('user', null, 'Invalid base64 data'),
  unsupportedMechanism: e('user', null, 'Unsupported authentication mechanism'),
  loginDelay: e('user', RESP_CODES.loginDelay, 'Too many failed logins, try again later'),
  inUse: e('user', RESP_CODES.inUse, 'Maildrop is locked by another POP3 session'),
  tlsActive: e('user', null, 'TLS is already active'),
  /** RFC 1939 §6: the UPDATE state could not remove every message marked as deleted. */
  updateFailed: e('temporary', RESP_CODES.sysTemp, 'Some deleted messages not removed'),
  internal: e('temporary', RESP_CODES.sysTemp, 'Internal server error, try again later'),
  /** The mailbox's home region (decision 0010) could not be reached: the login is not a failed one. */
  homeUnavailable: e(
    'temporary',
    RESP_CODES.sysTemp,
    "The mailbox's home region cannot be reached, try again later",
  ),
} as const;

export type ErrorName = keyof typeof ERRORS;

export function pop3Error(name: ErrorName, detail?: string): Pop3Error {
  const r = ERRORS[name];
  return new Pop3Error(r.kind, r.code, detail ? `${r.text}: ${detail}` : r.text);
}

/** Positive replies and the other fixed lines. */
export const TEXT = {
  greeting: (hostname: string) => `${hostname} POP3 server ready`,
  bye: 'Bye',
  loggedIn: (count: number, size: number) => `Logged in, ${count} messages (${size} octets)`,
  capabilities: 'Capability list follows',
  mechanisms: 'Supported SASL mechanisms follow',
  beginTls: 'Begin TLS negotiation',
  tooManyBad: 'Too many bad commands, closing connection',
  autologout: 'Autologout; idle for too long',
  httpRefused: 'This is a POP3 server, not an HTTP server',
  shuttingDown: 'Server shutting down',
} as const;

/** `+OK text` with its CRLF. */
export function ok(text?: string): string {
  return text ? `+OK ${text}\r\n` : '+OK\r\n';
}

/** `-ERR [CODE] text` with its CRLF. */
export function err(code: RespCode | null, text: string): string {
  return code ? `-ERR [${code}] ${text}\r\n` : `-ERR ${text}\r\n`;
}

/** RFC 5034 §4: a server challenge is "+ " followed by the base64 data (possibly empty). */
export function continuation(data: Buffer): string {
  return `+ ${data.toString('base64')}\r\n`;
}

/** What the session does with an error a command raised: the -ERR line, and how to account for it. */
export interface WireError {
  line: string;
  /** Counts towards `maxBadCommands`. */
  bad: boolean;
  /** Not a protocol outcome: log it as a server error. */
  internal: boolean;
}

/** The single mapping from thrown errors to the wire. */
export function toWire(error: unknown): WireError {
  if (error instanceof Pop3Error) {
    return { line: err(error.code, error.message), bad: error.kind === 'syntax', internal: false };
  }
  if (error instanceof ArgumentError) return { line: err(null, error.message), bad: true, internal: false };
  if (isStoreError(error, 'no-such-message')) {
    // Expunged by another client (IMAP) since the session's snapshot.
    return { line: err(null, ERRORS.noSuchMessage.text), bad: false, internal: false };
  }
  const r = ERRORS.internal;
  return { line: err(r.code, r.text), bad: false, internal: true };
}
