-- Per-admin access restrictions and the second factor, replicated like the rest of the directory so
-- they hold in every region (additive only: new nullable columns).
-- allowed_networks: JSON array of CIDRs (`10.0.0.0/8`, `2001:db8::/32`); null = any address.
ALTER TABLE admins ADD COLUMN allowed_networks TEXT;
-- cert_fingerprint: SHA-256 of the admin's TLS client certificate, lowercase hex; null = none needed.
ALTER TABLE admins ADD COLUMN cert_fingerprint TEXT;
-- totp_secret: the TOTP secret (base32), sealed with the federation key; null = no two-step sign-in.
ALTER TABLE admins ADD COLUMN totp_secret TEXT;
