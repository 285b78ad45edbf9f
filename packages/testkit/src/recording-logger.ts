/** A pino-shaped logger for servers under test that records what they report at warn level and above. */
import type { Logger } from 'pino';

/** A logger that records warnings and errors (the server must log none on hostile input). */
export function recordingLogger(): { logger: Logger; problems: unknown[] } {
  const problems: unknown[] = [];
  const logger = {
    level: 'debug',
    child: () => logger,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (...args: unknown[]) => problems.push(['warn', ...args]),
    error: (...args: unknown[]) => problems.push(['error', ...args]),
    fatal: (...args: unknown[]) => problems.push(['fatal', ...args]),
  };
  return { logger: logger as unknown as Logger, problems };
}
