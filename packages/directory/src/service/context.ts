/**
 * What every directory service works with: the database, the options, the clock, region names, and the
 * read helpers that turn typed input into rows. Services read through `ctx.db`; they never write through
 * it: every write runs inside a change's `commit` step (writer.ts).
 */
import { eq } from 'drizzle-orm';
import { monotonicFactory } from 'ulid';
import { AddressingError, normaliseDomain, parseAddress } from '../addressing/index.js';
import type { FederationKey } from '../credentials.js';
import type { DirectoryDb, SyncRemoteOptions } from '../engine.js';
import { invalid, notFound } from '../errors.js';
import type { LookupContext, MailboxRow } from '../lookup.js';
import { domains, mailboxes, regions } from '../schema.js';
import { type Actor, requireDomain } from '../scope.js';
import type { DirectoryWriter, LocalWriter } from './writer.js';

export interface DirectoryOptions {
  /** The directory database file. */
  path: string;
  /** Replication hub URL; absent for a standalone appliance. */
  syncUrl?: string;
  /** Replication hub with its token or transport (federation); takes precedence over `syncUrl`. */
  sync?: SyncRemoteOptions;
  /**
   * A replica whose schema is behind this code: called with the missing migrations, then the replica pulls
   * and checks again every `intervalMs` until the writer's migrations arrive. Absent: open fails at once.
   */
  waitForSchema?: { onWait: (pending: string[]) => void; intervalMs?: number };
  /** The folder of SQL migrations this code expects (default: the package's migrations/; tests vary it). */
  migrationsDir?: string;
  /** This appliance's region id (created in the directory when missing). */
  regionId: string;
  regionTitle?: string;
  /** `writer` applies migrations; a `replica` refuses to open until the writer's schema reached it. */
  role?: 'writer' | 'replica' | ((recordedWriter: string | null) => 'writer' | 'replica');
  // A function: decided after one pull from the writer region the replica names (decision 0011; null when
  // the role never moved), so that only the writer of the day migrates.
  /** IANA time zone in which expiration dates are inclusive. */
  timezone: string;
  /** Days a removed mailbox's mail is kept before it is purged. */
  retentionDays: number;
  /** Store CRAM-MD5 secrets (encrypted with the federation key). */
  cramMd5: boolean;
  key: FederationKey;
  now?: () => Date;
  /**
   * How changes reach the writer (the write seam, writer.ts): given this appliance's own `LocalWriter`,
   * returns the writer `Directory` sends every change to. Absent: changes are applied here.
   */
  writer?: (local: LocalWriter) => DirectoryWriter;
}

/** The reserved role address every domain has (RFC 5321 §4.5.1). */
export const POSTMASTER = 'postmaster';

/** Monotonic ULIDs: rows created in the same millisecond keep their creation order. */
export const newId = monotonicFactory();

const MAX_TEXT = 256;

/** The directory's state as the services see it: one per open `Directory`. */
export class DirectoryContext {
  readonly now: () => Date;
  readonly #regionNameById = new Map<string, string>();

  constructor(
    readonly db: DirectoryDb,
    readonly options: DirectoryOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  nowIso(): string {
    return this.now().toISOString();
  }

  /** A region's name (id → name, cached: regions are never renamed); `unknown` for a missing one. */
  async regionName(regionId: string): Promise<string> {
    const cached = this.#regionNameById.get(regionId);
    if (cached) return cached;
    const [row] = await this.db.select().from(regions).where(eq(regions.id, regionId));
    const name = row?.name ?? 'unknown';
    if (row) this.#regionNameById.set(regionId, name);
    return name;
  }

  /** What the read side (lookup.ts) needs, over `db` (a change's transaction, or the database). */
  lookupContext(db: DirectoryDb = this.db): LookupContext {
    return {
      db,
      timezone: this.options.timezone,
      now: this.now,
      regionName: (id: string) => this.regionName(id),
    };
  }
}

/** An addressing error is the caller's mistake: `invalid`. */
export function toInvalid(err: unknown): never {
  if (err instanceof AddressingError) throw invalid(err.message);
  throw err;
}

/** A domain name as typed, normalised (IDN to A-labels, lowercase); `invalid` when it is not one. */
export function domainName(input: string): string {
  try {
    return normaliseDomain(input);
  } catch (err) {
    return toInvalid(err);
  }
}

/** A free-text field (name, contact, flag, group): trimmed, bounded, no control characters; null when empty. */
export function cleanText(label: string, value: string | undefined | null): string | null {
  if (value === undefined || value === null) return null;
  const v = value.trim();
  if (v.length === 0) return null;
  if (v.length > MAX_TEXT) throw invalid(`${label} too long: at most ${MAX_TEXT} characters`);
  if (/[\p{Cc}]/u.test(v)) throw invalid(`${label} must not contain control characters`);
  return v;
}

export async function domainRow(db: DirectoryDb, name: string) {
  const [row] = await db.select().from(domains).where(eq(domains.name, name));
  if (!row) throw notFound(`unknown domain ${name}`);
  return row;
}

/** A domain the actor may manage, by name as typed: scope check first, then the row. */
export async function scopedDomain(db: DirectoryDb, actor: Actor, input: string) {
  const name = domainName(input);
  requireDomain(actor, name);
  return domainRow(db, name);
}

/** Parses an address, checks the actor may manage its domain and that the domain is hosted. */
export async function scopedAddress(db: DirectoryDb, actor: Actor, input: string) {
  const parsed = (() => {
    try {
      return parseAddress(input);
    } catch (err) {
      return toInvalid(err);
    }
  })();
  requireDomain(actor, parsed.domain);
  const domain = await domainRow(db, parsed.domain);
  return { ...parsed, domainRow: domain };
}

export async function mailboxByOfficial(db: DirectoryDb, address: string): Promise<MailboxRow> {
  const [mb] = await db.select().from(mailboxes).where(eq(mailboxes.address, address));
  if (!mb) throw notFound(`no mailbox ${address}`);
  return mb;
}
