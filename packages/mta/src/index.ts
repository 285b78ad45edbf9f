/** The MTA: MX listener, recipient policy, trace headers, outbound queue store. See README.md. */
export {
  DEFAULT_MX_LIMITS,
  type MxLimits,
  MxServer,
  type MxServerOptions,
  type RunningMx,
} from './inbound.js';
export { inNetworks, parseNetworks } from './networks.js';
export { type Destination, resolveRecipient } from './policy.js';
export type { DeliveryStore, RecipientDirectory, RecipientLookup } from './ports.js';
export { OutboundQueue, type QueuedMessage, type QueuedRecipient } from './queue/outbound-queue.js';
export { REPLIES, type Reply, replyError, SmtpReplyError } from './replies.js';
export { rfc5322Date, traceHeaders } from './trace.js';
export * from './dsn/index.js';
