/**
 * The one mapping from errors to HTTP statuses (used by the single `onError` in app.ts, and by form
 * handlers that re-render a form with the directory's message next to it).
 */
import { DirectoryError, type DirectoryErrorCode } from '@delegato/directory';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export const DIRECTORY_STATUS: Record<DirectoryErrorCode, ContentfulStatusCode> = {
  invalid: 400,
  'not-found': 404,
  duplicate: 409,
  conflict: 409,
  forbidden: 403,
  unavailable: 503,
};

export function directoryStatus(err: DirectoryError): ContentfulStatusCode {
  return DIRECTORY_STATUS[err.code];
}

/**
 * True for directory errors the person filling in a form can fix by changing what they typed: the
 * form is shown again with the message. Anything else (forbidden, unavailable, ...) goes to onError.
 */
export function isFixableByUser(err: unknown): err is DirectoryError {
  return err instanceof DirectoryError && (err.code === 'invalid' || err.code === 'duplicate');
}

/** Plain-language titles of error pages. */
export function statusTitle(status: number): string {
  switch (status) {
    case 400:
      return 'Something in the request is not right';
    case 401:
      return 'Please sign in';
    case 403:
      return 'Not allowed';
    case 404:
      return 'Not found';
    case 409:
      return 'That cannot be done now';
    case 429:
      return 'Too many attempts';
    case 503:
      return 'Temporarily unavailable';
    default:
      return 'Something went wrong';
  }
}
