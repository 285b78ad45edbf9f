/**
 * The gateway store: the files cut out of messages, and the download links that point at them.
 *
 * Layout of `dir` (in the appliance's data dir; local to this region, never replicated):
 *   gateway.db            libSQL: `files` (one row per content) and `links` (one row per link)
 *   files/<2 hex>/<sha256> the decoded content of a part, stored once per content: two recipients of
 *                         one message, or two messages with the same attachment, share the file
 *   tmp/                  parts being extracted and messages being spooled; emptied on open
 *
 * A link is a random token of 256 bits (issue 15 asks for at least 128); the database keeps only the
 * token's SHA-256, so a copy of the database does not give away working URLs. A link expires; expired
 * links, and files no link points at any more, go in `cleanup()` (a scheduled job).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Client, createClient } from '@libsql/client';

export interface NewLink {
  sha256: string;
  size: number;
  fileName: string;
  mediaType: string;
  /** The recipients' domain (disk usage per domain). */
  domain: string;
  /** Mailbox ids that may download when a login is required. */
  mailboxes: readonly string[];
  expiresAt: Date;
  loginRequired: boolean;
}

export interface Link extends NewLink {
  createdAt: Date;
}

export interface DomainUsage {
  domain: string;
  /** Live links. */
  links: number;
  /** Distinct files the links point at, and their bytes (a file shared with another domain counts for both). */
  files: number;
  bytes: number;
}

export interface CleanupResult {
  links: number;
  files: number;
  bytes: number;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS files (
     sha256 TEXT PRIMARY KEY NOT NULL,
     size INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS links (
     token_hash TEXT PRIMARY KEY NOT NULL,
     sha256 TEXT NOT NULL,
     file_name TEXT NOT NULL,
     media_type TEXT NOT NULL,
     domain TEXT NOT NULL,
     mailboxes TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     login_required INTEGER NOT NULL
   )`,
  'CREATE INDEX IF NOT EXISTS links_sha256 ON links (sha256)',
  'CREATE INDEX IF NOT EXISTS links_expires ON links (expires_at)',
  'CREATE INDEX IF NOT EXISTS links_domain ON links (domain)',
];

/** How long a kept file without a link survives cleanup (the delivery that kept it links it meanwhile). */
const KEEP_UNLINKED_MS = 3_600_000;

/** Tokens in URLs: 32 random bytes, base64url (43 characters). */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class GatewayStore {
  #tmpCounter = 0;

  private constructor(
    readonly dir: string,
    readonly db: Client,
    readonly now: () => Date,
  ) {}

  static async open(opts: { dir: string; now?: () => Date }): Promise<GatewayStore> {
    await mkdir(join(opts.dir, 'files'), { recursive: true });
    // Leftovers of a crash: half-extracted parts and spooled messages nobody will finish.
    await rm(join(opts.dir, 'tmp'), { recursive: true, force: true });
    await mkdir(join(opts.dir, 'tmp'), { recursive: true });
    const db = createClient({ url: `file:${join(opts.dir, 'gateway.db')}`, concurrency: 1 });
    try {
      await db.execute('PRAGMA journal_mode = WAL');
      await db.execute('PRAGMA busy_timeout = 5000');
      for (const sql of SCHEMA) await db.execute(sql);
    } catch (err) {
      db.close();
      throw err;
    }
    return new GatewayStore(opts.dir, db, opts.now ?? (() => new Date()));
  }

  close(): void {
    this.db.close();
  }

  /** A fresh path under tmp/ (unique in this process). */
  tmpPath(what: string): string {
    return join(this.dir, 'tmp', `${process.pid}-${Date.now()}-${++this.#tmpCounter}.${what}`);
  }

  filePath(sha256: string): string {
    return join(this.dir, 'files', sha256.slice(0, 2), sha256);
  }

  /**
   * Keeps the extracted content at `tmp` as the file of `sha256`: moved into place, or dropped when that
   * content is already stored.
   */
  async keepFile(tmp: string, sha256: string, size: number): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('gateway: not a SHA-256');
    const target = this.filePath(sha256);
    const existing = await stat(target).catch(() => null);
    if (existing && existing.size === size) {
      await rm(tmp, { force: true });
    } else {
      await mkdir(join(this.dir, 'files', sha256.slice(0, 2)), { recursive: true });
      await rename(tmp, target);
    }
    await this.db.execute({
      // created_at: when the content was last kept; cleanup() leaves recent files alone (see there).
      sql: `INSERT INTO files (sha256, size, created_at) VALUES (?, ?, ?)
            ON CONFLICT (sha256) DO UPDATE SET created_at = excluded.created_at`,
      args: [sha256, size, this.now().getTime()],
    });
  }

  /** Records a link to a kept file; returns its token (the only copy: only its hash is stored). */
  async createLink(link: NewLink): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.db.execute({
      sql: `INSERT INTO links (token_hash, sha256, file_name, media_type, domain, mailboxes, created_at,
              expires_at, login_required) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      args: [
        tokenHash(token),
        link.sha256,
        link.fileName,
        link.mediaType,
        link.domain,
        JSON.stringify(link.mailboxes),
        this.now().getTime(),
        link.expiresAt.getTime(),
        link.loginRequired ? 1 : 0,
      ],
    });
    return token;
  }

  /** The link of `token`, or null when it is malformed, unknown or expired (the caller answers 404). */
  async resolve(token: string): Promise<Link | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const r = await this.db.execute({
      sql: `SELECT l.*, f.size FROM links l JOIN files f ON f.sha256 = l.sha256
            WHERE l.token_hash = ? AND l.expires_at > ?`,
      args: [tokenHash(token), this.now().getTime()],
    });
    const row = r.rows[0];
    if (!row) return null;
    return {
      sha256: String(row.sha256),
      size: Number(row.size),
      fileName: String(row.file_name),
      mediaType: String(row.media_type),
      domain: String(row.domain),
      mailboxes: JSON.parse(String(row.mailboxes)) as string[],
      createdAt: new Date(Number(row.created_at)),
      expiresAt: new Date(Number(row.expires_at)),
      loginRequired: Number(row.login_required) === 1,
    };
  }

  /**
   * Removes expired links, then the files no link points at (their rows and bytes). A file kept in the last
   * hour stays: a delivery keeps the file first and links it a moment later.
   */
  async cleanup(): Promise<CleanupResult> {
    const now = this.now().getTime();
    const gone = await this.db.execute({ sql: 'DELETE FROM links WHERE expires_at <= ?', args: [now] });
    const orphans = await this.db.execute({
      sql: 'SELECT sha256, size FROM files WHERE sha256 NOT IN (SELECT sha256 FROM links) AND created_at < ?',
      args: [now - KEEP_UNLINKED_MS],
    });
    let bytes = 0;
    let files = 0;
    for (const row of orphans.rows) {
      const sha = String(row.sha256);
      // The row goes first, checked again: a delivery that kept the same content meanwhile keeps it.
      const removed = await this.db.execute({
        sql: 'DELETE FROM files WHERE sha256 = ? AND sha256 NOT IN (SELECT sha256 FROM links) AND created_at < ?',
        args: [sha, now - KEEP_UNLINKED_MS],
      });
      if (removed.rowsAffected === 0) continue;
      await rm(this.filePath(sha), { force: true });
      bytes += Number(row.size);
      files++;
    }
    return { links: gone.rowsAffected, files, bytes };
  }

  /** Disk usage per domain of the live links; one domain, or all of them. */
  usage(domain?: string): Promise<DomainUsage[]> {
    return usageIn(this.db, this.now().getTime(), domain);
  }

  /**
   * The same read on the store of `dir` without opening it as its owner (nothing created or removed): for
   * the CLI and the control socket while the appliance delivers. No database yet: nothing stored.
   */
  static async usageOf(dir: string, domain?: string, now = new Date()): Promise<DomainUsage[]> {
    const file = join(dir, 'gateway.db');
    if (!(await stat(file).catch(() => null))) return [];
    const db = createClient({ url: `file:${file}`, concurrency: 1 });
    try {
      return await usageIn(db, now.getTime(), domain);
    } finally {
      db.close();
    }
  }
}

async function usageIn(db: Client, now: number, domain?: string): Promise<DomainUsage[]> {
  const r = await db.execute({
    sql: `SELECT d.domain, COUNT(*) AS links,
            (SELECT COUNT(*) FROM files f WHERE f.sha256 IN
               (SELECT sha256 FROM links WHERE domain = d.domain AND expires_at > ?)) AS files,
            (SELECT COALESCE(SUM(f.size), 0) FROM files f WHERE f.sha256 IN
               (SELECT sha256 FROM links WHERE domain = d.domain AND expires_at > ?)) AS bytes
          FROM links d WHERE d.expires_at > ? ${domain ? 'AND d.domain = ?' : ''}
          GROUP BY d.domain ORDER BY d.domain`,
    args: domain ? [now, now, now, domain] : [now, now, now],
  });
  return r.rows.map((row) => ({
    domain: String(row.domain),
    links: Number(row.links),
    files: Number(row.files),
    bytes: Number(row.bytes),
  }));
}
