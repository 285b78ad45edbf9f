-- Built-in mailing lists (issue 19). The list's own address is a row of `addresses` (kind `mailing-list`),
-- so that the one UNIQUE index on addresses still decides what an address means; these tables hold the
-- list's settings and its members. Held messages are not directory data: they stay in the data dir of the
-- region that holds them (packages/mta/src/lists/). Additive only: new tables and indexes.
CREATE TABLE mailing_lists (
  id TEXT PRIMARY KEY NOT NULL,
  list_address TEXT NOT NULL UNIQUE,
  address_id TEXT NOT NULL UNIQUE,
  domain_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  senders TEXT NOT NULL,
  allowed_senders TEXT,
  moderated INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX mailing_lists_domain ON mailing_lists (domain_id);
CREATE INDEX mailing_lists_owner ON mailing_lists (owner);
CREATE TABLE mailing_list_members (
  id TEXT PRIMARY KEY NOT NULL,
  list_id TEXT NOT NULL,
  member TEXT NOT NULL,
  created_at TEXT NOT NULL,
  CONSTRAINT mailing_list_members_list_member UNIQUE (list_id, member)
);
