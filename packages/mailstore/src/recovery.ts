/**
 * Crash recovery and directory ownership. A message exists only through committed rows, so a crash leaves
 * at most files: a body in tmp/ (being received), a body in blobs/ no committed row references (stored but
 * not committed, or not unlinked after the commit that released it). `recover` removes both on open.
 *
 * One process owns a store directory (`owner.pid`). When another live MailStore has it open (this process,
 * or the pid in owner.pid), its deliveries in progress look exactly like leftovers, so only leftovers older
 * than an hour are removed.
 */
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@libsql/client';
import { type BlobFiles, isErrno } from './blob-files.js';

/** What `open` cleaned up after an unclean stop. */
export interface RecoveryReport {
  /**
   * False when another live MailStore (this process or the pid in `owner.pid`) had the directory open:
   * its deliveries in progress look like leftovers, so only leftovers older than an hour were removed.
   */
  owner: boolean;
  /** Files removed from tmp/ (bodies being received when the process stopped). */
  tempFiles: number;
  /** Body files no committed row referenced (stored but not committed, or not unlinked after expunge). */
  orphanBlobs: number;
}

/** Ids per `IN (json_each(?))` query during recovery. */
const RECOVERY_CHUNK = 512;
/** Age above which a leftover is removed even while another instance may be writing. */
const LEFTOVER_AGE_MS = 60 * 60 * 1000;
/** Directories owned by an open MailStore of this process. */
const OWNED = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}

/**
 * Takes `dir` unless another live MailStore has it open (in this process, or the process in owner.pid).
 * Advisory: it only decides how boldly `open` removes leftovers.
 */
export async function claimDir(dir: string): Promise<boolean> {
  if (OWNED.has(dir)) return false;
  const file = join(dir, 'owner.pid');
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) return false;
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  OWNED.add(dir);
  const tmp = join(dir, 'tmp', `owner.pid.${process.pid}`);
  await writeFile(tmp, `${process.pid}\n`);
  await rename(tmp, file);
  return true;
}

export async function releaseDir(dir: string): Promise<void> {
  OWNED.delete(dir);
  try {
    const file = join(dir, 'owner.pid');
    if (Number((await readFile(file, 'utf8')).trim()) === process.pid) await rm(file, { force: true });
  } catch {
    // gone already
  }
}

/**
 * On open: remove tmp/ leftovers and body files that no committed row references (stored, but the
 * process stopped before the commit; or not unlinked after the commit that released them). Counts what it
 * removed into `report` (whose `owner` says how boldly).
 */
export async function recover(reader: Client, files: BlobFiles, report: RecoveryReport): Promise<void> {
  const cutoff = report.owner ? Number.POSITIVE_INFINITY : Date.now() - LEFTOVER_AGE_MS;
  const stale = async (path: string): Promise<boolean> => {
    if (cutoff === Number.POSITIVE_INFINITY) return true;
    try {
      return (await stat(path)).mtimeMs < cutoff;
    } catch {
      return false;
    }
  };
  for (const name of await readdir(files.tmpDir)) {
    if (!(await stale(join(files.tmpDir, name)))) continue;
    await rm(join(files.tmpDir, name), { force: true, recursive: true });
    report.tempFiles += 1;
  }
  for (const entry of await readdir(files.blobDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const shardDir = join(files.blobDir, entry.name);
    const names = await readdir(shardDir);
    for (let i = 0; i < names.length; i += RECOVERY_CHUNK) {
      const chunk = names.slice(i, i + RECOVERY_CHUNK);
      const known = await reader.execute({
        sql: 'SELECT path FROM blobs WHERE id IN (SELECT value FROM json_each(?))',
        args: [JSON.stringify(chunk)],
      });
      const referenced = new Set(known.rows.map((r) => String(r.path)));
      for (const name of chunk) {
        if (referenced.has(`${entry.name}/${name}`) || !(await stale(join(shardDir, name)))) continue;
        await rm(join(shardDir, name), { force: true, recursive: true });
        report.orphanBlobs += 1;
      }
    }
    files.knownShard(entry.name);
  }
}
