/**
 * smtp-server logs every protocol line, client lines included, raw: AUTH PLAIN lines carry passwords.
 * This adapter forwards only connection-level events and the command verb, never a client payload.
 */
import type { Logger } from 'pino';

type LogFn = (entry: Record<string, unknown> | string, message?: string, ...args: unknown[]) => void;

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
        logger.debug({ event: 'smtp.protocol', cid: entry.cid, tnx, verb });
        return;
      }
      logger[level](
        { event: 'smtp.connection', cid: entry.cid, tnx, host: entry.host },
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
