/**
 * The metadata database: its tables, the schema version, and opening its two connections (the single
 * writer with the pragmas the durability rules need, and a query-only reader).
 *
 * The WAL fsync runs off the event loop: the writer uses `synchronous=NORMAL` (a commit writes its WAL
 * frames without syncing them) and every write transaction then fdatasyncs the `-wal` file (kept open, see
 * transactions.ts) before it resolves, so a write is on disk when its promise settles, as with
 * `synchronous=FULL`, but the other sessions keep running during the sync.
 */
import { type FileHandle, open as openFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Client, createClient } from '@libsql/client';

export const SCHEMA_VERSION = 1;
const BUSY_TIMEOUT_MS = 5000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ${SCHEMA_VERSION}), ('last_uid_validity', 0);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS folders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  special_use TEXT,
  subscribed INTEGER NOT NULL DEFAULT 1,
  uid_validity INTEGER NOT NULL,
  uid_next INTEGER NOT NULL DEFAULT 1,
  highest_modseq INTEGER NOT NULL DEFAULT 1,
  message_count INTEGER NOT NULL DEFAULT 0,
  unseen_count INTEGER NOT NULL DEFAULT 0,
  total_size INTEGER NOT NULL DEFAULT 0,
  UNIQUE (user_id, name)
);
CREATE TABLE IF NOT EXISTS blobs (
  id TEXT PRIMARY KEY,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  refcount INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
  folder_id INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  blob_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  internal_date INTEGER NOT NULL,
  flags TEXT NOT NULL DEFAULT '',
  modseq INTEGER NOT NULL,
  PRIMARY KEY (folder_id, uid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_by_modseq ON messages (folder_id, modseq);
CREATE TABLE IF NOT EXISTS expunged (
  folder_id INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY (folder_id, uid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS expunged_by_modseq ON expunged (folder_id, modseq);
-- Added after schema version 1, additively: IF NOT EXISTS creates it in older stores on open, and older
-- code never reads it (so the version stays 1). A rowid table: values are often above the ~200 octets
-- where WITHOUT ROWID stops paying off.
-- Added the same way: names still subscribed whose folder was deleted (RFC 3501 §6.3.6: the server must
-- not remove a name from the subscription list unilaterally; RFC 5258 lists them NonExistent).
CREATE TABLE IF NOT EXISTS subscriptions_without_folder (
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (user_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blob_annotations (
  blob_id TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (blob_id, name)
);
`;

export interface Database {
  writer: Client;
  reader: Client;
  /** The `-wal` file, kept open to fdatasync it after each commit. */
  wal: FileHandle;
}

/** Opens (and creates or upgrades) `<dir>/mailstore.db`; closes what it opened when it fails. */
export async function openDatabase(dir: string): Promise<Database> {
  const url = pathToFileURL(join(dir, 'mailstore.db')).href;
  // concurrency 1: a single connection, so the pragmas below hold for every write.
  const writer = createClient({ url, concurrency: 1, timeout: BUSY_TIMEOUT_MS });
  let reader: Client | undefined;
  let wal: FileHandle | undefined;
  try {
    const mode = await writer.execute('PRAGMA journal_mode = WAL');
    if (String(mode.rows[0]?.[0]).toLowerCase() !== 'wal')
      throw new Error('mailstore: WAL mode did not hold');
    // NORMAL: commits do not sync the WAL; every write fdatasyncs it off the event loop (see the header).
    await writer.execute('PRAGMA synchronous = NORMAL');
    await writer.execute(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const sync = await writer.execute('PRAGMA synchronous');
    if (Number(sync.rows[0]?.[0]) !== 1) throw new Error('mailstore: PRAGMA synchronous=NORMAL did not hold');
    await writer.executeMultiple(`BEGIN IMMEDIATE;${SCHEMA}COMMIT;`);
    // The -wal file exists while a connection is open; it is rewound after checkpoints, never replaced.
    wal = await openFile(join(dir, 'mailstore.db-wal'), 'r');
    await wal.datasync();
    const version = await writer.execute("SELECT value FROM meta WHERE key = 'schema_version'");
    if (Number(version.rows[0]?.value) !== SCHEMA_VERSION) {
      throw new Error(`mailstore: unknown schema version ${String(version.rows[0]?.value)}`);
    }
    reader = createClient({ url, concurrency: 1, timeout: BUSY_TIMEOUT_MS });
    await reader.execute('PRAGMA query_only = ON');
    return { writer, reader, wal };
  } catch (err) {
    await wal?.close();
    reader?.close();
    writer.close();
    throw err;
  }
}
