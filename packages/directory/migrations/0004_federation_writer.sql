-- The directory writer role as replicated data (decision 0011): one row per move, the newest (largest
-- ULID, written by the writer of the time only) names the writer region. No row: federation.writer of the
-- region file (the initial value). Additive only: a new table.
CREATE TABLE federation_writer (
  id TEXT PRIMARY KEY NOT NULL,
  region TEXT NOT NULL,
  previous TEXT NOT NULL,
  set_by TEXT NOT NULL,
  set_at TEXT NOT NULL
);
