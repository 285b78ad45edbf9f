/** The directory: domains, mailboxes, aliases, admins, credentials, audit. See README.md. */

export { inNetworks, MAX_ADMIN_NETWORKS, normaliseFingerprint, normaliseNetworks } from './access.js';
export * from './addressing/index.js';
export {
  FederationKey,
  PASSWORD_MIN_LENGTH,
  randomPassword,
  scramKeys,
  verifyPassword,
} from './credentials.js';
export {
  aliasesCsv,
  csvLine,
  MAX_CSV_BYTES,
  mailboxesCsv,
  membersCsv,
  parseCsv,
  readAliasCsv,
  readMailboxCsv,
  readMemberCsv,
} from './csv.js';
export {
  type AccountChange,
  AdminAccessDenied,
  type AdminClient,
  type AdminView,
  type AliasView,
  type AuthEventAction,
  type CreatedMailbox,
  Directory,
  type DirectoryOptions,
  type DkimKeyView,
  type DkimSigningKey,
  type ListSenders,
  type ListView,
  type MailboxView,
  type NewMailbox,
  POSTMASTER,
} from './directory.js';
export type { EngineSyncStats, SyncRemoteOptions } from './engine.js';
export { DirectoryError, type DirectoryErrorCode } from './errors.js';
export { isExpired, parseIsoDate, todayIn } from './expiry.js';
export { type AliasTarget, type MailboxRow, mailboxAccountKey, type RecipientLookup } from './lookup.js';
export { loadMigrations, MIGRATIONS_DIR } from './migrate.js';
export { checkPasswordFor, isCommonPassword, type PasswordOwner } from './password-policy.js';
export {
  hubUnreachable,
  ReplicatedWriter,
  type ReplicatedWriterHooks,
  Replication,
  type ReplicationOptions,
  type ReplicationState,
  syncErrorText,
  WriterMoved,
} from './replication.js';
export { type Actor, requireDomain, requireOperator } from './scope.js';
export type { AliasImportPlan, AliasImportRow, PlannedAliasRow } from './service/alias-import.js';
export type { AuditQuery, AuditRow } from './service/audit.js';
export type { ChangeInput, ChangeKind, ChangeResult } from './service/changes.js';
export {
  GATEWAY_DEFAULTS,
  type GatewayDomainView,
  type GatewayPolicy,
  type GatewayRegistrationView,
  type GatewayRules,
  type GatewayTargetInput,
} from './service/gateway.js';
export type { MemberImportPlan, MemberImportRow, PlannedMemberRow } from './service/list-member-import.js';
export { adminAccountKey } from './service/lockouts.js';
export type { MailboxUpdate } from './service/mailbox-edit.js';
export {
  IMPORT_COLUMNS,
  type ImportPlan,
  type ImportRow,
  MAX_IMPORT_ROWS,
  type PlannedRow,
} from './service/mailbox-import.js';
export {
  MAILBOX_SORTS,
  type MailboxListOptions,
  type MailboxSort,
} from './service/mailboxes.js';
export { type DomainLimits, parseSizeText } from './service/quotas.js';
export type { Revocation } from './service/revocations.js';
export {
  type Applied,
  type ChangeContext,
  type DirectoryChange,
  type DirectoryWriter,
  LocalWriter,
} from './service/writer.js';
export {
  AUTH_EVENT_PATH,
  applyForwarded,
  applyForwardedAuthEvent,
  type ForwardAnswer,
  ForwardingWriter,
  type ForwardingWriterOptions,
  MUTATE_PATH,
  RoutingWriter,
  type RoutingWriterOptions,
  rebuildActor,
} from './writer-forwarding.js';
