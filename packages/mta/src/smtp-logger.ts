/**
 * smtp-server logs every protocol line, client lines included, raw: AUTH PLAIN lines carry passwords.
 * This adapter forwards only connection-level events and the command verb, never a client payload.
 *
 * It also logs every socket error at error level, including a client that resets the connection after
 * QUIT (many do: Postfix's smtp-source, scanners). Those are the client going away, not a fault of ours:
 * they go to debug, so a busy MX does not write an error line per connection.
 */

import { logEventAt } from '@delegato/observability';
import type { Logger } from 'pino';

type LogFn = (entry: Record<string, unknown> | string, message?: string, ...args: unknown[]) => void;

/** Socket errors that mean the peer went away (smtp-server's own list of quiet socket errors). */
const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

export function smtpServerLogger(
  logger: Logger,
): Record<'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', LogFn> {
  const forward =
    (level: 'debug' | 'info' | 'warn' | 'error'): LogFn =>
    (entry, message) => {
      if (typeof entry !== 'object' || entry === null) return;
      const tnx = String(entry.tnx ?? '');
      // `C:` lines (client input) and `S:` lines are protocol transcripts: keep the verb only, at debug.
      if (tnx === 'command' || tnx === 'send' || tnx === 'receive') {
        if (!logger.isLevelEnabled('debug')) return;
        const verb = typeof message === 'string' ? message.split(' ')[0] : undefined;
        logEventAt(logger, 'debug', 'smtp.protocol', { cid: entry.cid, tnx, verb });
        return;
      }
      if (tnx === 'error') {
        const err = entry.err as { code?: unknown; message?: unknown } | undefined;
        const code = typeof err?.code === 'string' ? err.code : undefined;
        const gone = code !== undefined && CLIENT_GONE.has(code);
        if (gone && !logger.isLevelEnabled('debug')) return;
        logEventAt(
          logger,
          gone ? 'debug' : level,
          'smtp.connection',
          { cid: entry.cid, tnx, host: entry.host, code },
          String(err?.message ?? 'socket error'),
        );
        return;
      }
      // Connection events come several times per connection: nothing is built when the level is off.
      if (!logger.isLevelEnabled(level)) return;
      logEventAt(
        logger,
        level,
        'smtp.connection',
        { cid: entry.cid, tnx, host: entry.host },
        String(message ?? '').split('%')[0],
      );
    };
  return {
    trace: () => undefined,
    debug: forward('debug'),
    info: forward('debug'),
    warn: forward('warn'),
    error: forward('error'),
    fatal: forward('error'),
  };
}
