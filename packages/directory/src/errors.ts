/**
 * Errors of the directory layer. Every interface (CLI, control socket, admin UI, API) maps the code to its
 * own wire form in one place: the CLI exits 2 for every code but `unavailable`/`internal`, the HTTP API
 * answers 400/403/404/409.
 */
export type DirectoryErrorCode =
  | 'invalid' // malformed input: address, date, size, password
  | 'not-found' // unknown domain, mailbox, alias, admin
  | 'duplicate' // the address, username or domain exists already
  | 'conflict' // the operation contradicts the current state (domain still has mailboxes)
  | 'forbidden' // the actor's scope does not cover the target
  | 'unavailable'; // the writer cannot be reached: nothing was changed

export class DirectoryError extends Error {
  constructor(
    readonly code: DirectoryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DirectoryError';
  }
}

export const invalid = (msg: string) => new DirectoryError('invalid', msg);
export const notFound = (msg: string) => new DirectoryError('not-found', msg);
export const duplicate = (msg: string) => new DirectoryError('duplicate', msg);
export const conflict = (msg: string) => new DirectoryError('conflict', msg);
export const forbidden = (msg: string) => new DirectoryError('forbidden', msg);
