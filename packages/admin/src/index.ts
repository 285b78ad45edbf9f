/** The admin web UI, JSON API, Thunderbird autoconfig and Outlook Autodiscover. See README.md. */
export { TokenStore } from './api/tokens.js';
export { adminApp } from './app.js';
export { autoconfigApp, autoconfigXml } from './autoconfig.js';
export { AUTODISCOVER_MAX_REQUEST_BYTES, autodiscoverApp, autodiscoverXml } from './autodiscover.js';
export type { AdminOptions, AppEnv, MailPorts, ServerNames } from './env.js';
export { nodeClientCertificate, nodeRemoteAddress, STANDARD_PORTS } from './env.js';
export { MOBILECONFIG_TYPE, mobileconfigApp, mobileconfigXml } from './mobileconfig.js';
export { openApiDocument } from './openapi.js';
export * from './operations/index.js';
export { type LoginLimiter, SimpleLoginLimiter } from './rate-limit.js';
export { ABSOLUTE_TIMEOUT_MS, IDLE_TIMEOUT_MS, SESSION_COOKIE } from './session.js';
export { AdminStateDb } from './state.js';
export {
  DirectoryTotpStore,
  FileTotpStore,
  importTotpFile,
  MemoryTotpStore,
  type TotpStore,
  totpCode,
} from './totp.js';
