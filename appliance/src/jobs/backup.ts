/**
 * Backups of a data dir while the appliance runs (`delegato backup <dir>`, job `backup`), and restore
 * into a fresh data dir (`delegato restore <dir>`, the appliance stopped).
 *
 * Layout of a backup dir (mode 0700: it holds the federation key):
 *
 *   blobs/<shard>/<id>        message files, shared by every snapshot (a message file never changes)
 *   spool/<file>              queue spool files, shared likewise
 *   gateway/<2 hex>/<sha256>  attachment-gateway files, shared likewise (content-named, never changed)
 *   snapshots/<id>/           one per backup: directory.db, mailstore.db, queue.db, stats.db,
 *                             admin-state.db, gateway.db (consistent copies), files/ (federation.key,
 *                             tls/, lists/, ...), blobs.list, spool.list and gateway.list (the pool
 *                             files it needs), manifest.json (written last)
 *
 * Consistency: every message acknowledged before the backup began is committed in the mail store or the
 * queue, and its file is on disk. The backup first copies every message and spool file present (only
 * those the pool does not have yet: incremental after the first), then takes each database with
 * `VACUUM INTO` (one read snapshot, writers are not blocked), then copies the files the snapshots name
 * that arrived meanwhile. A snapshot is complete only with its manifest.json, written last.
 */
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Directory } from '@delegato/directory';
import { readDatabase, snapshotDatabase } from '@delegato/mailstore';

/** The databases of a data dir, by their path in it, and how a backup copies them. */
const DATABASES = [
  'mailstore/mailstore.db',
  'queue/queue.db',
  'stats.db',
  'admin-state.db',
  'gateway/gateway.db',
] as const;
/** Not copied: runtime files and the databases' own WAL files. */
const SKIP = new Set([
  'control.sock',
  'control.token',
  'mailstore',
  'queue',
  'gateway',
  'directory.db',
  'hub',
]);
/** The pools of files that never change once written: where they are in a data dir. */
const POOLS = { blobs: 'mailstore/blobs', spool: 'queue/spool', gateway: 'gateway/files' } as const;
type Pool = keyof typeof POOLS;

export interface BackupManifest {
  id: string;
  createdAt: string;
  region: string;
  databases: string[];
  files: string[];
  blobs: number;
  spool: number;
}

export interface BackupResult {
  snapshot: string;
  dir: string;
  filesCopied: number;
  bytesCopied: number;
  blobs: number;
  spool: number;
  removed: string[];
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** Every file under `root`, relative to it (empty when `root` does not exist). */
async function walk(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name)));
}

class Copier {
  files = 0;
  bytes = 0;
  /** Copies `from` to `to` unless `to` exists with the same size; false when `from` is gone. */
  async copy(from: string, to: string): Promise<boolean> {
    const src = await stat(from).catch(() => null);
    if (!src) return false;
    const dst = await stat(to).catch(() => null);
    if (dst && dst.size === src.size) return true;
    await mkdir(dirname(to), { recursive: true, mode: 0o700 });
    const tmp = `${to}.partial`;
    await copyFile(from, tmp);
    await rename(tmp, to);
    this.files++;
    this.bytes += src.size;
    return true;
  }
}

function snapshotId(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export async function listSnapshots(backupDir: string): Promise<string[]> {
  const root = join(backupDir, 'snapshots');
  const names = await readdir(root).catch(() => [] as string[]);
  const complete: string[] = [];
  for (const n of names.sort()) if (await exists(join(root, n, 'manifest.json'))) complete.push(n);
  return complete;
}

export async function takeBackup(opts: {
  dataDir: string;
  backupDir: string;
  directory: Directory;
  region: string;
  /** Complete snapshots to keep (older ones and the pool files only they used are removed); 0: all. */
  keep?: number;
  now?: () => Date;
}): Promise<BackupResult> {
  const now = opts.now?.() ?? new Date();
  const id = snapshotId(now);
  const { dataDir, backupDir } = opts;
  const snap = join(backupDir, 'snapshots', id);
  if (await exists(snap)) throw new Error(`a snapshot ${id} exists already in ${backupDir}`);
  await mkdir(backupDir, { recursive: true, mode: 0o700 });
  await mkdir(snap, { recursive: true, mode: 0o700 });
  const copier = new Copier();
  const blobsDir = join(dataDir, POOLS.blobs);
  const spoolDir = join(dataDir, POOLS.spool);
  const gatewayDir = join(dataDir, POOLS.gateway);
  // 1. Every message, spool and gateway file on disk now: this covers everything acknowledged before now.
  for (const pool of Object.keys(POOLS) as Pool[])
    for (const rel of await walk(join(dataDir, POOLS[pool])))
      await copier.copy(join(dataDir, POOLS[pool], rel), join(backupDir, pool, rel));
  // 2. The databases, each one consistent snapshot. The directory through its owner's connection (the
  // Turso engine locks the file to this process).
  await opts.directory.engine.raw.exec(`VACUUM INTO '${join(snap, 'directory.db').replaceAll("'", "''")}'`);
  const databases = ['directory.db'];
  for (const db of DATABASES) {
    if (!(await exists(join(dataDir, db)))) continue;
    const target = join(snap, db.split('/').pop() as string);
    await snapshotDatabase(join(dataDir, db), target);
    databases.push(db);
  }
  // 3. The files the snapshots name that arrived after step 1.
  const blobs: string[] = (await exists(join(snap, 'mailstore.db')))
    ? await readDatabase(join(snap, 'mailstore.db'), async (c) =>
        (await c.execute('SELECT path FROM blobs')).rows.map((r) => String(r.path)),
      )
    : [];
  const spool: string[] = (await exists(join(snap, 'queue.db')))
    ? await readDatabase(join(snap, 'queue.db'), async (c) =>
        (await c.execute('SELECT spool_file FROM queue_messages')).rows.map((r) => String(r.spool_file)),
      )
    : [];
  const missing: string[] = [];
  for (const rel of blobs)
    if (
      !(await copier.copy(join(blobsDir, rel), join(backupDir, 'blobs', rel))) &&
      !(await exists(join(backupDir, 'blobs', rel)))
    )
      missing.push(rel);
  for (const rel of spool)
    if (
      !(await copier.copy(join(spoolDir, rel), join(backupDir, 'spool', rel))) &&
      !(await exists(join(backupDir, 'spool', rel)))
    )
      missing.push(`spool/${rel}`);
  // Gateway files are named by their content: the ones present now (a file the snapshot's links need was
  // there before step 2, or arrived since).
  const gateway = await walk(gatewayDir);
  for (const rel of gateway) await copier.copy(join(gatewayDir, rel), join(backupDir, 'gateway', rel));
  if (missing.length > 0)
    throw new Error(
      `backup ${id}: ${missing.length} file(s) vanished while copying (${missing.slice(0, 3).join(', ')})`,
    );
  await writeFile(join(snap, 'blobs.list'), blobs.join('\n'));
  await writeFile(join(snap, 'spool.list'), spool.join('\n'));
  await writeFile(join(snap, 'gateway.list'), gateway.join('\n'));
  // The small files of the data dir (federation key, TLS material, federation bundle, ...).
  const files: string[] = [];
  for (const rel of await walk(dataDir)) {
    const top = rel.split('/')[0] as string;
    if (SKIP.has(top) || /\.db(-wal|-shm|-info)?$/.test(rel) || rel.endsWith('.partial')) continue;
    await copier.copy(join(dataDir, rel), join(snap, 'files', rel));
    files.push(rel);
  }
  const manifest: BackupManifest = {
    id,
    createdAt: now.toISOString(),
    region: opts.region,
    databases,
    files,
    blobs: blobs.length,
    spool: spool.length,
  };
  await writeFile(join(snap, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const removed = opts.keep ? await pruneBackups(backupDir, opts.keep) : [];
  return {
    snapshot: id,
    dir: backupDir,
    filesCopied: copier.files,
    bytesCopied: copier.bytes,
    blobs: blobs.length,
    spool: spool.length,
    removed,
  };
}

/** Keeps the newest `keep` complete snapshots; removes older ones, unfinished ones and unused pool files. */
export async function pruneBackups(backupDir: string, keep: number): Promise<string[]> {
  const complete = await listSnapshots(backupDir);
  const root = join(backupDir, 'snapshots');
  const all = await readdir(root).catch(() => [] as string[]);
  const kept = complete.slice(-keep);
  const newest = complete[complete.length - 1] ?? '';
  // Unfinished snapshots older than the newest complete one are failed runs.
  const removed = all.filter((n) => !kept.includes(n) && n < newest);
  for (const n of removed) await rm(join(root, n), { recursive: true, force: true });
  const used = { blobs: new Set<string>(), spool: new Set<string>(), gateway: new Set<string>() };
  for (const n of await readdir(root)) {
    for (const kind of Object.keys(POOLS) as Pool[]) {
      const list = await readFile(join(root, n, `${kind}.list`), 'utf8').catch(() => null);
      // A snapshot being written (no list yet) keeps the whole pool.
      if (list === null) return removed;
      for (const rel of list.split('\n')) if (rel) used[kind].add(rel);
    }
  }
  for (const kind of Object.keys(POOLS) as Pool[])
    for (const rel of await walk(join(backupDir, kind)))
      if (!used[kind].has(rel)) await rm(join(backupDir, kind, rel), { force: true });
  return removed;
}

/**
 * Restores a snapshot (default the newest complete one) into `dataDir`, which must not hold a data dir
 * yet (no directory.db, no mail store). The appliance must be stopped (the caller checks).
 */
export async function restoreBackup(opts: {
  backupDir: string;
  dataDir: string;
  snapshot?: string;
}): Promise<{ snapshot: string; messages: number; spool: number }> {
  const complete = await listSnapshots(opts.backupDir);
  const id = opts.snapshot ?? complete[complete.length - 1];
  if (!id) throw new Error(`${opts.backupDir} holds no complete backup`);
  if (!complete.includes(id)) throw new Error(`${opts.backupDir} has no complete snapshot ${id}`);
  const { dataDir } = opts;
  for (const p of ['directory.db', 'mailstore', 'queue'])
    if (await exists(join(dataDir, p)))
      throw new Error(`${dataDir} is not empty (it has ${p}): restore only into a fresh data dir`);
  const snap = join(opts.backupDir, 'snapshots', id);
  const manifest = JSON.parse(await readFile(join(snap, 'manifest.json'), 'utf8')) as BackupManifest;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const copier = new Copier();
  for (const db of manifest.databases) {
    await copier.copy(join(snap, db.split('/').pop() as string), join(dataDir, db));
  }
  for (const rel of manifest.files) await copier.copy(join(snap, 'files', rel), join(dataDir, rel));
  const lists = async (kind: string) =>
    (await readFile(join(snap, `${kind}.list`), 'utf8')).split('\n').filter((l) => l.length > 0);
  const blobs = await lists('blobs');
  for (const rel of blobs)
    if (!(await copier.copy(join(opts.backupDir, 'blobs', rel), join(dataDir, 'mailstore', 'blobs', rel))))
      throw new Error(`backup ${id} is damaged: message file ${rel} is missing`);
  const spool = await lists('spool');
  for (const rel of spool)
    if (!(await copier.copy(join(opts.backupDir, 'spool', rel), join(dataDir, 'queue', 'spool', rel))))
      throw new Error(`backup ${id} is damaged: spool file ${rel} is missing`);
  const gateway = await lists('gateway');
  for (const rel of gateway)
    if (!(await copier.copy(join(opts.backupDir, 'gateway', rel), join(dataDir, POOLS.gateway, rel))))
      throw new Error(`backup ${id} is damaged: gateway file ${rel} is missing`);
  return { snapshot: id, messages: blobs.length, spool: spool.length };
}
