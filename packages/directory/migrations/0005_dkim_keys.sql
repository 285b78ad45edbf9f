-- DKIM signing keys (RFC 6376, RFC 8463; issue 18): per hosted domain, one row per key. Private keys are
-- sealed with the federation key (AES-256-GCM, as CRAM-MD5 secrets), so every region signs for every
-- domain. `state`: `pending` (published, not signing yet), `active` (signs), `previous` (after a rotation:
-- still published, no longer signing), `retired` (the operator let it go). Additive only: a new table.
CREATE TABLE dkim_keys (
  id TEXT PRIMARY KEY NOT NULL,
  domain_id TEXT NOT NULL,
  selector TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  public_key TEXT NOT NULL,
  private_key_sealed TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at TEXT NOT NULL,
  retired_at TEXT,
  UNIQUE (domain_id, selector)
);
CREATE INDEX dkim_keys_domain ON dkim_keys (domain_id, state);
