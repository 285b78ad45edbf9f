import { hostname } from 'node:os';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

/**
 * Paths whose values are replaced by `[redacted]` in every log line, whatever the destination.
 * Top-level keys plus the same keys one level down (`{ auth: { password } }`), and request headers.
 * Deeper nesting is not covered: log credentials-bearing objects flat or not at all.
 */
export const REDACTED_KEYS = [
  'password',
  'pass',
  'secret',
  'token',
  'authorization',
  'cookie',
  'newPassword',
  '*.password',
  '*.pass',
  '*.secret',
  '*.token',
  '*.authorization',
  '*.cookie',
  '*.newPassword',
  'req.headers.authorization',
  'req.headers.cookie',
] as const;

/** What replaces a redacted value. */
export const REDACTED_CENSOR = '[redacted]';

export interface CreateLoggerOptions {
  /** pino level name (`fatal`..`trace`, or `silent`); default `info`. */
  level?: string;
  /** Write JSON lines to this file (parent directories are created). */
  file?: string;
  /** Human-readable colored output (the caller passes `process.stdout.isTTY`). Ignored when `file` is set. */
  pretty?: boolean;
  /** Write to this stream instead of stdout, as JSON or pretty. Ignored when `file` is set. */
  destination?: NodeJS.WritableStream;
  /** Fields added to every line, next to `pid` and `hostname`. */
  base?: Record<string, unknown>;
}

/**
 * The appliance's logger. Output goes, in order of preference, to `file` (JSON lines, asynchronous,
 * flushed on exit), to `destination`, or to stdout; `pretty` formats it for a terminal instead of JSON.
 */
export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: { pid: process.pid, hostname: hostname(), ...opts.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACTED_KEYS], censor: REDACTED_CENSOR },
  };
  if (opts.file !== undefined) {
    return pino(options, pino.destination({ dest: opts.file, mkdir: true, sync: false }));
  }
  if (opts.pretty) {
    const prettyOptions: pretty.PrettyOptions = { colorize: true, sync: true };
    if (opts.destination) prettyOptions.destination = opts.destination as DestinationStream;
    return pino(options, pretty(prettyOptions));
  }
  return pino(options, (opts.destination as DestinationStream | undefined) ?? process.stdout);
}

/** Bindings for a per-connection (or per-request) child logger. */
export interface ChildBindings {
  /** Connection id. */
  cid?: string;
  /** Protocol: smtp, submission, imap, pop3, http, ... */
  proto?: string;
  /** Region id. */
  region?: string;
}

/** A child logger whose lines carry the given bindings; undefined bindings are left out. */
export function childFor(logger: Logger, bindings: ChildBindings): Logger {
  const defined: Record<string, string> = {};
  for (const [key, value] of Object.entries(bindings)) {
    if (value !== undefined) defined[key] = value;
  }
  return logger.child(defined);
}
