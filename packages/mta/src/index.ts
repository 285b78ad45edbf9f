/** The MTA: MX listener, recipient policy, trace headers, outbound queue store. See README.md. */

export { InboundAuth, type InboundAuthOptions, type Treatment } from './auth/inbound.js';
export { MtaSts, type MtaStsOptions, type StsPolicy } from './auth/mta-sts.js';
export { type OutboundAuth, OutboundSigner, type SigningKey } from './auth/outbound.js';
export {
  checkRecords,
  type RecordCheck,
  type ZoneInput,
  type ZoneRecord,
  zoneFragment,
  zoneRecords,
} from './auth/records.js';
export { type AuthResolver, createAuthResolver, txtRecords } from './auth/resolver.js';
export {
  addressLiteral,
  createResolver,
  DnsError,
  lookupMx,
  type MxHosts,
  type MxRecord,
  type MxResolver,
  parseDnsServers,
} from './dns.js';
export * from './dsn/index.js';
export {
  createFederationInbound,
  type FederationInboundOptions,
  federationChannel,
  federationPeer,
  handshakeRefusal,
} from './federation-inbound.js';
export {
  type ChannelPeer,
  DEFAULT_MX_LIMITS,
  type InboundChannel,
  type MxLimits,
  MxServer,
  type MxServerOptions,
  type RunningMx,
} from './inbound.js';
export {
  type ListDirectory,
  type ListHooks,
  ListModeration,
  type ListPost,
  ListService,
  type ListServiceOptions,
  type MailingList,
  PostNotFound,
  PostStore,
  type PostText,
  type PostView,
} from './lists/index.js';
export { inNetworks, parseNetworks } from './networks.js';
export { type Destination, resolveRecipient } from './policy.js';
export type { DeliveryStore, RecipientDirectory, RecipientLookup } from './ports.js';
export {
  type DeliveryEvent,
  type FinalState,
  type LogEntry,
  type LogEventInput,
  type MessageDetails,
  OutboundQueue,
  orcptAddress,
  type QueuedMessage,
  type QueuedRecipient,
  type QueueRecipientState,
  type RecipientState,
  type Route,
  type StoredMessage,
  type StoredRecipient,
} from './queue/outbound-queue.js';
export {
  DEFAULT_RETRY_SCHEDULE,
  type DeliveryOutcome,
  type DeliveryReply,
  type OutcomeKind,
  parseReply,
  QueueWorker,
  type QueueWorkerOptions,
  type RegionRoute,
} from './queue/worker.js';
export { REPLIES, type Reply, replyError, SmtpReplyError } from './replies.js';
export {
  isSrsAddress,
  SRS_DEFAULT_MAX_AGE_DAYS,
  type SrsForwardOptions,
  type SrsReverseOptions,
  srsForward,
  srsReverse,
} from './srs.js';
export { rfc5322Date, traceHeaders } from './trace.js';
export type { AcceptedTraffic, TrafficObserver } from './traffic.js';
