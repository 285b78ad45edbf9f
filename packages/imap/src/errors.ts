/**
 * The one error taxonomy of the IMAP server, and the one place where errors become tagged responses
 * (`toWire`).
 *
 * - `BAD` (RFC 9051 §7.1.5): the command was not understood — unknown command, wrong state, bad syntax,
 *   invalid arguments. Counts as a bad command; too many and the connection is closed.
 * - `NO` (RFC 9051 §7.1.2): a well-formed command that could not be done, with a response code
 *   (RFC 5530, RFC 9051 §7.1) when one applies.
 * - `StoreError` from the backend (`isStoreError`) maps to NO (or BAD for an invalid flag) with its response code.
 * - anything else thrown by a handler is a server error: logged, answered `NO [SERVERBUG]`.
 */
import { isStoreError, type StoreErrorCode } from './backend.js';

/** Response codes the server sends (RFC 9051 §7.1, RFC 5530, RFC 4315, RFC 7162, RFC 4469, RFC 6154). */
export type ResponseCode =
  | 'ALERT'
  | 'ALREADYEXISTS'
  | 'AUTHENTICATIONFAILED'
  | 'AUTHORIZATIONFAILED'
  | 'BADCHARSET'
  | 'CANNOT'
  | 'CLIENTBUG'
  | 'CONTACTADMIN'
  | 'EXPUNGEISSUED'
  | 'INUSE'
  | 'LIMIT'
  | 'NONEXISTENT'
  | 'NOPERM'
  | 'OVERQUOTA'
  | 'PARSE'
  | 'PRIVACYREQUIRED'
  | 'SERVERBUG'
  | 'TOOBIG'
  | 'TRYCREATE'
  | 'UNAVAILABLE'
  | 'UNKNOWN-CTE'
  | 'USEATTR';

export type Status = 'NO' | 'BAD';

export class ImapError extends Error {
  override name = 'ImapError';
  constructor(
    readonly status: Status,
    /** The response code, without brackets; may carry data (`BADCHARSET (UTF-8)`). */
    readonly code: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** A BAD: syntax, unknown command, wrong state, invalid argument. */
export function badCommand(text: string): ImapError {
  return new ImapError('BAD', null, text);
}

/** A NO with an optional response code. */
export function refused(code: ResponseCode | null, text: string): ImapError {
  return new ImapError('NO', code, text);
}

/** Named errors, so the wording is chosen in one place (Dovecot's where clients know it). */
export const ERRORS = {
  unknownCommand: () => badCommand('Unknown command'),
  /** A command given in a state it is not valid in (the states it is valid in, to say why). */
  wrongState: (state: string, validIn: readonly string[] = []) =>
    badCommand(
      state === 'not-authenticated' && !validIn.includes(state)
        ? 'Not authenticated: log in first.'
        : state === 'authenticated' && validIn.includes('selected') && !validIn.includes(state)
          ? 'No mailbox selected.'
          : 'Command not valid in this state.',
    ),
  plaintextDisallowed: () =>
    refused('PRIVACYREQUIRED', 'Plaintext authentication disallowed on non-secure (SSL/TLS) connections.'),
  authFailed: () => refused('AUTHENTICATIONFAILED', 'Authentication failed.'),
  authAborted: () => badCommand('Authentication aborted by client.'),
  loginDelay: () => refused('UNAVAILABLE', 'Too many failed logins, try again later.'),
  /** The mailbox's home region (decision 0010) could not be reached: not a failed login (RFC 5530). */
  homeUnavailable: () =>
    refused('UNAVAILABLE', "The mailbox's home region cannot be reached, try again later."),
  readOnly: () => refused('CANNOT', 'Mailbox is read-only.'),
  internal: () => refused('SERVERBUG', 'Internal error occurred. Refer to server log for more information.'),
} as const;

const STORE_ERRORS: Record<StoreErrorCode, { status: Status; code: ResponseCode | null; text: string }> = {
  'no-such-user': { status: 'NO', code: 'UNAVAILABLE', text: 'Mailbox storage is not available' },
  'no-such-folder': { status: 'NO', code: 'NONEXISTENT', text: "Mailbox doesn't exist" },
  'no-such-message': { status: 'NO', code: 'EXPUNGEISSUED', text: 'Message no longer exists' },
  'folder-exists': { status: 'NO', code: 'ALREADYEXISTS', text: 'Mailbox already exists' },
  'invalid-name': { status: 'NO', code: 'CANNOT', text: 'Invalid mailbox name' },
  'invalid-flag': { status: 'BAD', code: null, text: 'Invalid flag' },
  'over-quota': { status: 'NO', code: 'OVERQUOTA', text: 'Quota exceeded (mailbox for user is full)' },
  'too-large': { status: 'NO', code: 'TOOBIG', text: 'Message too large' },
  cannot: { status: 'NO', code: 'CANNOT', text: 'Operation not permitted' },
};

/** What the session does with an error: the tagged response, and how to account for it. */
export interface WireError {
  status: Status;
  code: string | null;
  text: string;
  /** Not a protocol outcome: log it as a server error. */
  internal: boolean;
}

/** The only error → response mapping. */
export function toWire(error: unknown): WireError {
  if (error instanceof ImapError) {
    return { status: error.status, code: error.code, text: sanitize(error.message), internal: false };
  }
  if (isStoreError(error)) {
    const r = STORE_ERRORS[error.code];
    if (r) return { ...r, internal: false };
  }
  const e = ERRORS.internal();
  return { status: e.status, code: e.code, text: e.message, internal: true };
}

/** `NO [CODE] text` / `BAD text`: the status and text of a tagged (or untagged) error response. */
export function wireText(w: WireError): string {
  return `${w.status} ${w.code ? `[${w.code}] ` : ''}${w.text}`;
}

/** Response text is one line of printable text (RFC 9051 §9 text = 1*TEXT-CHAR). */
export function sanitize(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return clean.length > 0 ? clean : 'Error';
}
