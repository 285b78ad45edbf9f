/** The operations database (statistics, expiry warnings, backups) and database snapshots. */
export {
  type BackupRecord,
  COUNTERS,
  type Counter,
  type DailyRow,
  OperationsDb,
  readDatabase,
  STATS_DB,
  snapshotDatabase,
} from './operations-db.js';
