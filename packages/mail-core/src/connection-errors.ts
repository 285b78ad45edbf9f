/**
 * Errors that mean "the client is gone" rather than "we failed": a session answers nothing and reports
 * nothing above debug for them.
 */

/** Raised by a write or a wait on a connection that has closed. */
export class ConnectionClosedError extends Error {
  override name = 'ConnectionClosedError';
  constructor() {
    super('connection closed');
  }
}

/** Socket and stream error codes of a connection that was reset, aborted or closed under us. */
const CONNECTION_ERRORS = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
]);

/** `ConnectionClosedError`, or a socket/stream error whose code says the connection is gone. */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof ConnectionClosedError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECTION_ERRORS.has(code);
}
