export { LOG_EVENTS, type LogEvent, logEvent } from './events.js';
export {
  type ChildBindings,
  type CreateLoggerOptions,
  childFor,
  createLogger,
  type Logger,
  REDACTED_CENSOR,
  REDACTED_KEYS,
} from './logger.js';
