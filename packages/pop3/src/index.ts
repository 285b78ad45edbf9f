/** `@delegato/pop3`: the POP3 / POP3S server (RFC 1939, 2449, 2595, 3206, 5034) — see README.md. */
export type { FolderSnapshot, MessageMeta, Pop3Backend, StoreErrorCode } from './backend.js';
export { COMMANDS, type CommandName, findCommand } from './commands/index.js';
export type { CommandSpec, Pop3Context, Pop3Services, SessionState } from './context.js';
export { DotStuffer, type DotStuffOptions, dotStuff, dotStuffBuffer } from './dot-stuff.js';
export {
  DEFAULT_LIMITS,
  MAX_ARGUMENT_LENGTH,
  MAX_ARGUMENTS,
  MAX_KEYWORD_LENGTH,
  type Pop3Limits,
  resolveLimits,
} from './limits.js';
export { type DropMessage, Maildrop } from './maildrop.js';
export { MaildropLocks, type Release } from './maildrop-lock.js';
export { type Frame, LineFramer, type ParsedLine, parseCommandLine } from './parser.js';
export { ERRORS, Pop3Error, RESP_CODES, type RespCode, toWire } from './replies.js';
export { type Pop3Listener, Pop3Server, type Pop3ServerOptions } from './server.js';
export { Pop3Session } from './session.js';
