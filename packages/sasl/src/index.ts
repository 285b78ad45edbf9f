/** @delegato/sasl: SASL mechanisms (server side), credential types and login rate limiting. */

export { type AccountResolver, accountBudget } from './account-budget.js';
export {
  type AddressList,
  decodeDisplayName,
  type GroupAddress,
  type MailboxAddress,
  mailboxAddress,
  mailboxesOf,
  type ParsedAddress,
  parseAddressList,
} from './address-list.js';
export {
  type CredentialCheck,
  decodeBase64Strict,
  type LoginAttempt,
  type LoginFailure,
  type LoginOutcome,
  type PasswordLoginAttempt,
  passwordLogin,
  type SaslExchange,
  saslExchange,
} from './login.js';
export { LOGIN_PASSWORD_PROMPT, LOGIN_USERNAME_PROMPT } from './mechanisms/login.js';
export { SCRAM_SERVER_NONCE_LENGTH } from './mechanisms/scram-sha-256.js';
export {
  addressKey,
  LOGIN_RATE_LIMIT_DEFAULTS,
  LoginRateLimiter,
  type LoginRateLimiterOptions,
  normalizeAccount,
  type RateLimitDecision,
} from './rate-limit.js';
export { saslprep } from './saslprep.js';
export {
  createSaslSession,
  MECHANISMS,
  parseMechanismName,
  type SaslServerOptions,
  supportedMechanisms,
} from './server.js';
export type {
  AuthenticatedUser,
  CredentialStore,
  SaslMechanismName,
  SaslSession,
  SaslStep,
} from './types.js';
export { authzidMatches } from './util.js';
