-- Delegato directory, initial schema. Additive-only from here on (migrations/README.md).
CREATE TABLE regions (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE domains (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL UNIQUE,
  region_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE groups (
  id TEXT PRIMARY KEY NOT NULL,
  domain_id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  CONSTRAINT groups_domain_name UNIQUE (domain_id, name)
);
CREATE TABLE mailboxes (
  id TEXT PRIMARY KEY NOT NULL,
  domain_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  first_name TEXT,
  last_name TEXT,
  username TEXT NOT NULL,
  local_part TEXT NOT NULL,
  address TEXT NOT NULL UNIQUE,
  group_id TEXT,
  contact TEXT,
  flag TEXT,
  quota_bytes INTEGER,
  expires_on TEXT,
  state TEXT NOT NULL,
  removed_at TEXT,
  purge_after TEXT,
  password_hash TEXT,
  scram_salt TEXT,
  scram_iterations INTEGER,
  scram_stored_key TEXT,
  scram_server_key TEXT,
  cram_secret TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  CONSTRAINT mailboxes_domain_username UNIQUE (domain_id, username)
);
CREATE INDEX mailboxes_domain ON mailboxes (domain_id);
CREATE TABLE addresses (
  id TEXT PRIMARY KEY NOT NULL,
  address TEXT NOT NULL UNIQUE,
  domain_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  mailbox_id TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX addresses_domain ON addresses (domain_id);
CREATE TABLE address_targets (
  id TEXT PRIMARY KEY NOT NULL,
  address_id TEXT NOT NULL,
  target_mailbox_id TEXT,
  target_address TEXT,
  target_key TEXT NOT NULL,
  created_at TEXT NOT NULL,
  CONSTRAINT address_targets_address_target UNIQUE (address_id, target_key)
);
CREATE INDEX address_targets_mailbox ON address_targets (target_mailbox_id);
CREATE TABLE admins (
  id TEXT PRIMARY KEY NOT NULL,
  username TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE admin_domains (
  id TEXT PRIMARY KEY NOT NULL,
  admin_id TEXT NOT NULL,
  domain_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  CONSTRAINT admin_domains_admin_domain UNIQUE (admin_id, domain_id)
);
CREATE TABLE audit_log (
  id TEXT PRIMARY KEY NOT NULL,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  actor_from TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  domain TEXT,
  details TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_domain ON audit_log (domain);
