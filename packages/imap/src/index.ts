/** `@delegato/imap`: the IMAP / IMAPS server (RFC 9051, RFC 3501 and extensions) — see README.md. */
export {
  type BodyReader,
  type CopyResult,
  canonicalFolderName,
  type FlagOperation,
  FOLDER_DELIMITER,
  type FolderInfo,
  type FolderView,
  type ImapBackend,
  type MessageMeta,
  type QuotaInfo,
  type SpecialUse,
  type StoreErrorCode,
  type StoreEvent,
  type StoreFlagsResult,
} from './backend.js';
export { capabilities, EXTENSIONS, PLAINTEXT_MECHANISMS } from './capabilities.js';
export { COMMANDS, type CommandName, findCommand } from './commands/index.js';
export type {
  CommandSpec,
  Completion,
  Extension,
  ImapContext,
  ImapServices,
  SessionState,
} from './context.js';
export { ERRORS, ImapError, type ResponseCode, toWire } from './errors.js';
export { DEFAULT_LIMITS, type ImapLimits, resolveLimits } from './limits.js';
export { SelectedMailbox } from './mailbox/selected.js';
export { bodyStructure } from './mime/bodystructure.js';
export { CachedMessage, MessageCache } from './mime/cache.js';
export { envelopeOf, envelopeWire } from './mime/envelope.js';
export { type MimePart, parseMime } from './mime/parser.js';
export { decodeMutf7, encodeMutf7 } from './mutf7.js';
export { ArgReader, type ParseEnv } from './parser/args.js';
export { CommandReader, type ReaderEvent, type ReaderLimits } from './parser/reader.js';
export { formatSequenceSet, parseSequenceSet, type SequenceSet } from './parser/sequence.js';
export type { Arg, ParsedCommand } from './parser/types.js';
export { type ImapListener, ImapServer, type ImapServerOptions } from './server.js';
export { ImapSession } from './session.js';
export { toBuffer, type Wire } from './wire.js';
