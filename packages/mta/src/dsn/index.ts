/** Delivery Status Notifications (RFC 3461–3464): when to send one, and the message itself. */
export { buildDsn, type DsnInput, type DsnRecipient } from './build.js';
export { deliverWithNullSender, type NullSenderTargets } from './null-sender.js';
export { type DsnAction, type DsnPolicyInput, shouldSendDsn, statusForReply } from './policy.js';
export { createDsnSender, type DsnSender, type DsnSenderOptions, type DsnSubject } from './send.js';
