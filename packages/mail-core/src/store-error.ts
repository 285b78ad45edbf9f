/**
 * The error contract between the protocol servers and their storage backends. A backend rejects an
 * expected failure (an unknown folder, a full quota, …) with an `Error` named `StoreError` carrying one of
 * these codes; each protocol maps the codes to its wire form in one place (IMAP `toWire`, POP3 `toWire`).
 * The check is structural (`isStoreError`), so a backend need not import this class; the mail store and the
 * in-memory backend of the tests both throw this one.
 */

export type StoreErrorCode =
  | 'no-such-user'
  | 'no-such-folder'
  /** The UID does not exist (or was expunged meanwhile). */
  | 'no-such-message'
  | 'folder-exists'
  | 'invalid-name'
  /** Not a system flag or not an atom (RFC 9051 §9 flag-keyword). */
  | 'invalid-flag'
  | 'over-quota'
  | 'too-large'
  | 'cannot';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** A backend's expected failure (any `Error` named `StoreError` with a code), optionally of one `code`. */
export function isStoreError(
  error: unknown,
  code?: StoreErrorCode,
): error is Error & { readonly code: StoreErrorCode } {
  if (!(error instanceof Error) || error.name !== 'StoreError') return false;
  const actual = (error as { code?: unknown }).code;
  return typeof actual === 'string' && (code === undefined || actual === code);
}
