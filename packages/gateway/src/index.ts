/** The attachment gateway: large MIME parts become download links (issue 15; docs/gateway.md). */
export {
  type Deliver,
  type DeliveryRequest,
  type DeliveryResult,
  type GatewayDeliveryOptions,
  gatewayDelivery,
} from './deliver.js';
export {
  contentDisposition,
  type DownloadAnswer,
  type DownloadRequest,
  download,
  type MailboxLogin,
  parseRange,
} from './download.js';
export {
  DEFAULT_RULES,
  type GatewayRules,
  mediaTypeMatches,
  type PolicySource,
  type RecipientPolicy,
  senderMatches,
} from './policy.js';
export { humanSize } from './replacement.js';
export { type ExtractedPart, type Replacement, type ScanResult, scanMessage } from './scan.js';
export { type CleanupResult, type DomainUsage, GatewayStore, type Link, TOKEN_PATTERN } from './store.js';
