-- Issue 15 (attachment gateway): who it applies to, and each domain's rules. Additive only: new tables.
-- A registration names a mailbox (its official address and id), a whole domain, or a sender (an address
-- or a domain) whose mail to the domain's mailboxes goes through the gateway.
CREATE TABLE gateway_registrations (
  id TEXT PRIMARY KEY NOT NULL,
  domain_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  mailbox_id TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  CONSTRAINT gateway_registrations_target UNIQUE (domain_id, kind, target)
);
CREATE INDEX gateway_registrations_mailbox ON gateway_registrations (mailbox_id);
-- One row per domain that changed the defaults (2 MiB, every media type, 30 days, no login).
CREATE TABLE gateway_settings (
  id TEXT PRIMARY KEY NOT NULL,
  domain_id TEXT NOT NULL UNIQUE,
  threshold_bytes INTEGER NOT NULL,
  media_types TEXT NOT NULL,
  expiry_days INTEGER NOT NULL,
  login_required INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
