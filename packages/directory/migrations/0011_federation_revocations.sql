-- Revoked region certificates (issue 14; decision 0013): `federation revoke <region>` appends a row; every
-- region refuses, on the federation channel (sync gateway and federation API, inter-region SMTP, IMAP/POP3
-- proxy), a certificate of that region issued at or before `revoked_at`. A certificate issued for the
-- region afterwards (`federation issue` + `join`) is accepted again. Additive only: a new table.
CREATE TABLE federation_revocations (
  id TEXT PRIMARY KEY NOT NULL,
  region TEXT NOT NULL,
  revoked_at TEXT NOT NULL,
  revoked_by TEXT NOT NULL,
  reason TEXT
);
CREATE INDEX federation_revocations_region ON federation_revocations (region);
