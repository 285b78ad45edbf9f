-- A per-account "valid after" stamp, replicated so it holds in every region (additive only: new
-- nullable columns). Admin sessions, API tokens and IMAP/POP3 sessions that began before it are over:
-- it is set when a password is changed or reset and when a mailbox is removed. ISO 8601 UTC; null = none.
ALTER TABLE admins ADD COLUMN sessions_valid_after TEXT;
ALTER TABLE mailboxes ADD COLUMN sessions_valid_after TEXT;
