export {
  LOG_EVENTS,
  type LogEvent,
  type LogLevel,
  type LogMethod,
  logEvent,
  logEventAt,
  observeEvents,
} from './events.js';
export {
  type ChildBindings,
  type CreateLoggerOptions,
  childFor,
  createLogger,
  type Logger,
  REDACTED_CENSOR,
  REDACTED_KEYS,
} from './logger.js';
export {
  applianceMetrics,
  countGatewayBytes,
  countTlsHandshake,
  type MetricsEndpoint,
  nameListeners,
  type ScrapeGauges,
  startMetrics,
} from './metrics.js';
