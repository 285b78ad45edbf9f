/**
 * The directory schema (drizzle-orm, SQLite dialect on the Turso engine).
 *
 * Replication rules (docs/decisions/0002-directory-addresses-table.md: the replication engine replays rows
 * by primary key, last writer wins):
 * - every replicated table has a ULID text primary key: integer or address keys are silently
 *   overwritten when two replicas insert the same key;
 * - every address is `UNIQUE`, so a conflicting push fails instead of overwriting;
 * - migrations are additive only (see migrations/ and migrate.ts).
 *
 * The SQL in migrations/ is the source of truth for the database; `test/schema-drift.test.ts` checks
 * that this file and the migrated database agree column by column.
 */
import { index, integer, sqliteTable, text, unique } from 'drizzle-orm/sqlite-core';

/** Regions: one appliance each. `name` is the region id used in config (`local`, `pisa`). */
export const regions = sqliteTable('regions', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  title: text('title').notNull(),
  createdAt: text('created_at').notNull(),
});

/**
 * The directory writer role (decision 0011): one row per move; the newest id (a ULID) names the writer
 * region. Empty: the region file's `federation.writer` is the writer.
 */
export const federationWriter = sqliteTable('federation_writer', {
  id: text('id').primaryKey(),
  region: text('region').notNull(),
  previous: text('previous').notNull(),
  setBy: text('set_by').notNull(),
  setAt: text('set_at').notNull(),
});

/**
 * Login lockouts that hold in every region (migration 0010): appended at the writer, one row per lockout;
 * an account (`mailbox:<id>`, `admin:<username>`) is locked until its latest `locked_until`.
 */
export const loginLockouts = sqliteTable(
  'login_lockouts',
  {
    id: text('id').primaryKey(),
    account: text('account').notNull(),
    lockedUntil: text('locked_until').notNull(),
    region: text('region').notNull(),
    lockedAt: text('locked_at').notNull(),
  },
  (t) => [index('login_lockouts_account').on(t.account, t.lockedUntil)],
);

/**
 * DKIM signing keys (migration 0005, issue 18): per domain, `active` keys sign, `previous` ones stay
 * published after a rotation until the operator retires them (`retired`). Private keys are sealed with the
 * federation key so every region signs for every domain.
 */
export const dkimKeys = sqliteTable(
  'dkim_keys',
  {
    id: text('id').primaryKey(),
    domainId: text('domain_id').notNull(),
    selector: text('selector').notNull(),
    algorithm: text('algorithm').notNull(),
    publicKey: text('public_key').notNull(),
    privateKeySealed: text('private_key_sealed').notNull(),
    state: text('state').notNull(),
    createdAt: text('created_at').notNull(),
    retiredAt: text('retired_at'),
  },
  (t) => [unique().on(t.domainId, t.selector), index('dkim_keys_domain').on(t.domainId, t.state)],
);

/** Revoked region certificates (migration 0011, decision 0013): those issued at or before `revoked_at`. */
export const federationRevocations = sqliteTable(
  'federation_revocations',
  {
    id: text('id').primaryKey(),
    region: text('region').notNull(),
    revokedAt: text('revoked_at').notNull(),
    revokedBy: text('revoked_by').notNull(),
    reason: text('reason'),
  },
  (t) => [index('federation_revocations_region').on(t.region)],
);

/** Hosted domains; mail for a domain is stored in its home region. */
export const domains = sqliteTable('domains', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  regionId: text('region_id').notNull(),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
  /** The operator's limit on the domain's mailboxes (active ones); null = none (0009). */
  maxMailboxes: integer('max_mailboxes'),
  /** The operator's limit on the sum of the domain's mailbox quotas, bytes; null = none (0009). */
  maxQuotaBytes: integer('max_quota_bytes'),
});

/** Groups of mailboxes inside a domain (an institute's departments, say). */
export const groups = sqliteTable(
  'groups',
  {
    id: text('id').primaryKey(),
    domainId: text('domain_id').notNull(),
    name: text('name').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [unique('groups_domain_name').on(t.domainId, t.name)],
);

export type MailboxKind = 'personal' | 'role';
export type MailboxState = 'active' | 'removed';

/** Local mailboxes (personal or role) and their credentials. */
export const mailboxes = sqliteTable(
  'mailboxes',
  {
    id: text('id').primaryKey(),
    domainId: text('domain_id').notNull(),
    kind: text('kind').$type<MailboxKind>().notNull(),
    firstName: text('first_name'),
    lastName: text('last_name'),
    username: text('username').notNull(),
    localPart: text('local_part').notNull(),
    /** The official address, `local_part@domain`. */
    address: text('address').notNull().unique(),
    groupId: text('group_id'),
    contact: text('contact'),
    flag: text('flag'),
    /** Quota in bytes; null means unlimited. */
    quotaBytes: integer('quota_bytes'),
    /** Last day (inclusive, appliance time zone) the mailbox may be used; null means never expires. */
    expiresOn: text('expires_on'),
    state: text('state').$type<MailboxState>().notNull(),
    removedAt: text('removed_at'),
    /** When a removed mailbox's mail is purged. */
    purgeAfter: text('purge_after'),
    /** argon2id PHC string; null for a mailbox nobody logs into (a fresh postmaster@). */
    passwordHash: text('password_hash'),
    scramSalt: text('scram_salt'),
    scramIterations: integer('scram_iterations'),
    scramStoredKey: text('scram_stored_key'),
    scramServerKey: text('scram_server_key'),
    /** The CRAM-MD5 secret, encrypted with the federation-wide key; null when CRAM-MD5 is off. */
    cramSecret: text('cram_secret'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    /** Sessions that began before this instant are over (password changed, mailbox removed) (0003). */
    sessionsValidAfter: text('sessions_valid_after'),
    /** The web interface's language for this user (`en`, `it`); null = the browser's choice (0009). */
    language: text('language'),
  },
  (t) => [
    unique('mailboxes_domain_username').on(t.domainId, t.username),
    index('mailboxes_domain').on(t.domainId),
  ],
);

/**
 * What an address is:
 * - `official`: a mailbox's official address (never ambiguous);
 * - `generated`: an alias derived from a name (`f.last@`, `last@`); ambiguous when it has several targets;
 * - `manual`: an alias an admin added; several targets mean expansion to all of them;
 * - `legacy`: a mailbox's former official address, kept when it is renamed;
 * - `forward`: an official address whose mailbox is on another server (step-by-step migration);
 * - `list`: a distribution-list alias forwarding to the list server's address;
 * - `mailing-list`: a built-in list (0006): settings in `mailing_lists`, members in `mailing_list_members`.
 */
export type AddressKind =
  | 'official'
  | 'generated'
  | 'manual'
  | 'legacy'
  | 'forward'
  | 'list'
  | 'mailing-list';

/** Every address of every hosted domain, in one table so that one UNIQUE index decides what it means. */
export const addresses = sqliteTable(
  'addresses',
  {
    id: text('id').primaryKey(),
    address: text('address').notNull().unique(),
    domainId: text('domain_id').notNull(),
    kind: text('kind').$type<AddressKind>().notNull(),
    /** The owning mailbox of an official or legacy address. */
    mailboxId: text('mailbox_id'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('addresses_domain').on(t.domainId)],
);

/** Where an alias, forward or list alias leads: a local mailbox or an address elsewhere. */
export const addressTargets = sqliteTable(
  'address_targets',
  {
    id: text('id').primaryKey(),
    addressId: text('address_id').notNull(),
    targetMailboxId: text('target_mailbox_id'),
    targetAddress: text('target_address'),
    /** `mailbox:<id>` or `address:<addr>`: makes a target unique per alias. */
    targetKey: text('target_key').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [
    unique('address_targets_address_target').on(t.addressId, t.targetKey),
    index('address_targets_mailbox').on(t.targetMailboxId),
  ],
);

export type AdminRole = 'operator' | 'domain-admin';

/** Administrators: operators see everything; domain admins see the domains delegated to them. */
export const admins = sqliteTable('admins', {
  id: text('id').primaryKey(),
  username: text('username').notNull().unique(),
  role: text('role').$type<AdminRole>().notNull(),
  passwordHash: text('password_hash').notNull(),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
  /** JSON array of CIDRs the admin may connect from; null (or empty) = any address (0002). */
  allowedNetworks: text('allowed_networks'),
  /** SHA-256 of the TLS client certificate the admin must present, lowercase hex; null = none (0002). */
  certFingerprint: text('cert_fingerprint'),
  /** The admin's TOTP secret (base32) sealed with the federation key; null = no two-step sign-in (0002). */
  totpSecret: text('totp_secret'),
  /** Admin sessions and API tokens issued before this instant are over (password changed) (0003). */
  sessionsValidAfter: text('sessions_valid_after'),
  /** The web interface's language for this admin (`en`, `it`); null = the browser's choice (0009). */
  language: text('language'),
});

export const adminDomains = sqliteTable(
  'admin_domains',
  {
    id: text('id').primaryKey(),
    adminId: text('admin_id').notNull(),
    domainId: text('domain_id').notNull(),
    createdAt: text('created_at').notNull(),
    /** 1: the admin also manages every sub-domain of this domain, present and future (0009). */
    includeSubdomains: integer('include_subdomains').notNull().default(0),
  },
  (t) => [unique('admin_domains_admin_domain').on(t.adminId, t.domainId)],
);

/** Every change: who, when, what, from where. Append-only. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: text('id').primaryKey(),
    at: text('at').notNull(),
    actor: text('actor').notNull(),
    actorFrom: text('actor_from').notNull(),
    action: text('action').notNull(),
    target: text('target').notNull(),
    domain: text('domain'),
    details: text('details'),
  },
  (t) => [index('audit_log_at').on(t.at), index('audit_log_domain').on(t.domain)],
);

/** Applied migrations, by file name (deterministic, so the same row on every replica). */
export const schemaMigrations = sqliteTable('schema_migrations', {
  id: text('id').primaryKey(),
  appliedAt: text('applied_at').notNull(),
});

export type ListSenders = 'members' | 'domain' | 'anyone' | 'listed';

/** Built-in mailing lists (0006): the list's settings; its address is also a row of `addresses`. */
export const mailingLists = sqliteTable(
  'mailing_lists',
  {
    id: text('id').primaryKey(),
    /** The list's address (also in `addresses`, which makes it unique among every kind of address). */
    address: text('list_address').notNull().unique(),
    addressId: text('address_id').notNull().unique(),
    domainId: text('domain_id').notNull(),
    /** The owner (moderator): a mailbox's official address. */
    owner: text('owner').notNull(),
    /** Who may post: members, anyone of the list's domain, anyone, or the addresses in `allowedSenders`. */
    senders: text('senders').$type<ListSenders>().notNull(),
    /** JSON array of addresses, when `senders` is `listed`. */
    allowedSenders: text('allowed_senders'),
    /** 1: accepted posts wait for the owner's approval. */
    moderated: integer('moderated').notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [index('mailing_lists_domain').on(t.domainId), index('mailing_lists_owner').on(t.owner)],
);

/** The members of a built-in list (0006): one copy of each post goes to each. */
export const mailingListMembers = sqliteTable(
  'mailing_list_members',
  {
    id: text('id').primaryKey(),
    listId: text('list_id').notNull(),
    /** A member's address (local or elsewhere); unique per list. */
    address: text('member').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [unique('mailing_list_members_list_member').on(t.listId, t.address)],
);

/**
 * Attachment gateway registrations (0007): a mailbox (`target` its official address), a whole domain, or a
 * sender address or domain whose mail to the domain's mailboxes goes through the gateway.
 */
export const gatewayRegistrations = sqliteTable(
  'gateway_registrations',
  {
    id: text('id').primaryKey(),
    domainId: text('domain_id').notNull(),
    kind: text('kind').$type<'mailbox' | 'domain' | 'sender'>().notNull(),
    target: text('target').notNull(),
    mailboxId: text('mailbox_id'),
    createdBy: text('created_by').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [
    unique('gateway_registrations_target').on(t.domainId, t.kind, t.target),
    index('gateway_registrations_mailbox').on(t.mailboxId),
  ],
);

/** A domain's attachment gateway rules (0007); no row: the defaults. `mediaTypes` is a JSON array. */
export const gatewaySettings = sqliteTable('gateway_settings', {
  id: text('id').primaryKey(),
  domainId: text('domain_id').notNull().unique(),
  thresholdBytes: integer('threshold_bytes').notNull(),
  mediaTypes: text('media_types').notNull(),
  expiryDays: integer('expiry_days').notNull(),
  loginRequired: integer('login_required').notNull(),
  updatedBy: text('updated_by').notNull(),
  updatedAt: text('updated_at').notNull(),
});
