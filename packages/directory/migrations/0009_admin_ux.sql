-- Issue 19 (delegated administration): the language each admin and each mailbox user reads the web
-- interface in (null: the browser's choice), the operator's limits per domain (null: none), and an admin's
-- scope over a domain's sub-domains (1: the domain and every domain under it). Additive only.
ALTER TABLE admins ADD COLUMN language TEXT;
ALTER TABLE mailboxes ADD COLUMN language TEXT;
ALTER TABLE domains ADD COLUMN max_mailboxes INTEGER;
ALTER TABLE domains ADD COLUMN max_quota_bytes INTEGER;
ALTER TABLE admin_domains ADD COLUMN include_subdomains INTEGER NOT NULL DEFAULT 0;
