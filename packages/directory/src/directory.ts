/**
 * The directory service: every read and change of domains, mailboxes, aliases and admins goes through
 * here, whatever interface asks (CLI, control socket, admin UI, API, mail servers).
 *
 * Every mutating operation takes an Actor, checks its scope first (scope.ts), runs in one serialised
 * transaction and writes an audit row in that same transaction.
 */
import { and, asc, count, desc, eq, inArray, like, lte, ne, or } from 'drizzle-orm';
import { monotonicFactory } from 'ulid';
import { inNetworks, normaliseFingerprint, normaliseNetworks } from './access.js';
import {
  AddressingError,
  normaliseDomain,
  parseAddress,
  personalLocalParts,
  validateLocalPart,
} from './addressing/index.js';
import {
  checkPasswordPolicy,
  deriveCredentials,
  type FederationKey,
  hashPassword,
  primeDummyHash,
  verifyPassword,
  verifyWithoutAccount,
} from './credentials.js';
import { type DirectoryDb, Engine, isUniqueViolation } from './engine.js';
import { conflict, DirectoryError, duplicate, invalid, notFound } from './errors.js';
import { isExpired, parseIsoDate, todayIn } from './expiry.js';
import {
  type AliasTarget,
  lookupRecipient,
  type MailboxRow,
  type RecipientLookup,
  resolveLogin,
  targetsOf,
} from './lookup.js';
import { migrate, pendingMigrations } from './migrate.js';
import {
  type AddressKind,
  addresses,
  addressTargets,
  adminDomains,
  admins,
  auditLog,
  domains,
  groups,
  type MailboxKind,
  mailboxes,
  regions,
} from './schema.js';
import { type Actor, requireDomain, requireOperator, visibleDomains } from './scope.js';

/** Monotonic ULIDs: rows created in the same millisecond keep their creation order. */
const ulid = monotonicFactory();

export interface DirectoryOptions {
  /** The directory database file. */
  path: string;
  /** Replication hub URL; absent for a standalone appliance. */
  syncUrl?: string;
  /** This appliance's region id (created in the directory when missing). */
  regionId: string;
  regionTitle?: string;
  /** `writer` applies migrations; a `replica` refuses to open until the writer's schema reached it. */
  role?: 'writer' | 'replica';
  /** IANA time zone in which expiration dates are inclusive. */
  timezone: string;
  /** Days a removed mailbox's mail is kept before it is purged. */
  retentionDays: number;
  /** Store CRAM-MD5 secrets (encrypted with the federation key). */
  cramMd5: boolean;
  key: FederationKey;
  now?: () => Date;
}

/** The reserved role address every domain has (RFC 5321 §4.5.1). */
export const POSTMASTER = 'postmaster';

export interface NewMailbox {
  domain: string;
  kind: MailboxKind;
  firstName?: string;
  lastName?: string;
  /** Personal: overrides the official local part. Role: the role's local part (required). */
  localPart?: string;
  username?: string;
  group?: string;
  contact?: string;
  flag?: string;
  quotaBytes?: number | null;
  expiresOn?: string | null;
  /** Absent only for mailboxes nobody logs into yet (a fresh postmaster@). */
  password?: string;
}

export interface AliasView {
  address: string;
  kind: Exclude<AddressKind, 'official'>;
  targets: string[];
  ambiguous: boolean;
}

export interface CreatedMailbox {
  address: string;
  username: string;
  kind: MailboxKind;
  /** Generated aliases this mailbox now answers to (ambiguous ones listed with their candidates). */
  aliases: Array<{ address: string; ambiguous: boolean; candidates: string[] }>;
  /** Generated aliases not created because the address is something else already. */
  skippedAliases: string[];
}

export interface MailboxView {
  address: string;
  kind: MailboxKind;
  username: string;
  firstName: string | null;
  lastName: string | null;
  group: string | null;
  contact: string | null;
  flag: string | null;
  quotaBytes: number | null;
  expiresOn: string | null;
  expired: boolean;
  state: 'active' | 'removed';
  purgeAfter: string | null;
  createdAt: string;
}

const ADMIN_USERNAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
const GROUP_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u;
const MAX_TEXT = 256;

function toInvalid(err: unknown): never {
  if (err instanceof AddressingError) throw invalid(err.message);
  throw err;
}

/**
 * The official local part and generated aliases of a person. With an explicit local part (`--address`),
 * a name that gives no address of its own (that is why it was given) just gets no generated aliases.
 */
function personalParts(first: string, last: string, localPart: string | undefined) {
  if (localPart === undefined) {
    const parts = personalLocalParts(first, last);
    return { official: parts.official, generated: parts.aliases };
  }
  const official = validateLocalPart(localPart);
  try {
    return { official, generated: personalLocalParts(first, last).aliases.filter((a) => a !== official) };
  } catch (err) {
    if (err instanceof AddressingError) return { official, generated: [] };
    throw err;
  }
}

function cleanText(label: string, value: string | undefined | null): string | null {
  if (value === undefined || value === null) return null;
  const v = value.trim();
  if (v.length === 0) return null;
  if (v.length > MAX_TEXT) throw invalid(`${label} too long: at most ${MAX_TEXT} characters`);
  if (/[\p{Cc}]/u.test(v)) throw invalid(`${label} must not contain control characters`);
  return v;
}

/**
 * Recipient lookups are cached briefly: the MX asks for every RCPT, and the answer only changes when the
 * directory does (every change through this instance invalidates the cache at once) or when the day
 * changes (expiration dates; an entry is only valid on the day it was made). The TTL bounds staleness for
 * anything else. A replica that pulls changes must call `invalidateCaches()`.
 */
const LOOKUP_CACHE_TTL_MS = 5_000;
const LOOKUP_CACHE_MAX = 10_000;

/** An administrator as operators see it. */
export interface AdminView {
  username: string;
  role: 'operator' | 'domain-admin';
  domains: string[];
  createdAt: string;
  /** The networks they may connect from; empty = any. */
  allowedNetworks: string[];
  /** SHA-256 (lowercase hex) of the client certificate they must present; null = none. */
  certFingerprint: string | null;
  /** Whether they use two-step sign-in. */
  totp: boolean;
}

/** What the admin interface knows about the client's connection, besides its address. */
export interface AdminClient {
  /** SHA-256 (hex) of the TLS client certificate, verified against the configured CA; absent = none. */
  certFingerprint?: string | null;
  /**
   * When the session or API token asking was issued (ms since the epoch): one issued before the
   * admin's `sessions_valid_after` stamp (a password change) is over. Absent = a fresh sign-in.
   */
  issuedAt?: number;
}

/** A local change that may end mailboxes' sessions (password, removal, expiry): their ids. */
export interface AccountChange {
  mailboxIds: string[];
}

/** Whether a session that began at `issuedAt` (ms) predates a `sessions_valid_after` stamp. */
function issuedBeforeStamp(stamp: string | null, issuedAt: number | undefined): boolean {
  return stamp !== null && issuedAt !== undefined && issuedAt < Date.parse(stamp);
}

/** Sign-in events in the audit log. */
export type AuthEventAction =
  | 'auth.signin'
  | 'auth.signin-failed'
  | 'auth.signout'
  | 'auth.lockout'
  | 'auth.token';

/** An admin's access restrictions refused this client (a `forbidden` DirectoryError). */
export class AdminAccessDenied extends DirectoryError {
  constructor(
    readonly username: string,
    readonly reason: 'network' | 'certificate',
    readonly from: string,
  ) {
    super(
      'forbidden',
      reason === 'network'
        ? `${username} may not use the administration interface from ${from}`
        : `${username} must use their client certificate to reach the administration interface`,
    );
  }
}

function adminView(row: typeof admins.$inferSelect, domainNames: string[]): AdminView {
  return {
    username: row.username,
    role: row.role,
    domains: domainNames,
    createdAt: row.createdAt,
    allowedNetworks: row.allowedNetworks ? (JSON.parse(row.allowedNetworks) as string[]) : [],
    certFingerprint: row.certFingerprint,
    totp: row.totpSecret !== null,
  };
}

/** Why an admin's restrictions refuse a client, or null. */
function accessRefusal(
  row: typeof admins.$inferSelect,
  from: string,
  client: AdminClient,
): 'network' | 'certificate' | null {
  const networks = row.allowedNetworks ? (JSON.parse(row.allowedNetworks) as string[]) : [];
  if (networks.length > 0 && !inNetworks(from, networks)) return 'network';
  if (row.certFingerprint) {
    const presented = client.certFingerprint ? client.certFingerprint.replace(/:/g, '').toLowerCase() : null;
    if (presented !== row.certFingerprint) return 'certificate';
  }
  return null;
}

export class Directory {
  readonly #now: () => Date;
  #generation = 0;
  readonly #lookupCache = new Map<
    string,
    { generation: number; day: string; at: number; result: Promise<RecipientLookup> }
  >();

  /** Forgets cached lookups (after a replication pull brought changes). */
  invalidateCaches(): void {
    this.#generation++;
  }
  #regionIdByName = new Map<string, string>();
  #regionNameById = new Map<string, string>();
  readonly #accountListeners = new Set<(change: AccountChange) => void>();

  /**
   * Calls `listener` after each local change that may end mailboxes' sessions (a password set, a
   * mailbox removed, purged or given an expiry, a domain removed); the mail servers close the sessions
   * that are no longer valid. Changes replicated from other regions are not announced: the servers'
   * periodic check finds those. Returns the unsubscribe function.
   */
  onAccountChange(listener: (change: AccountChange) => void): () => void {
    this.#accountListeners.add(listener);
    return () => this.#accountListeners.delete(listener);
  }

  #accountsChanged(mailboxIds: string[]): void {
    if (mailboxIds.length === 0) return;
    for (const listener of this.#accountListeners) {
      try {
        listener({ mailboxIds });
      } catch {
        // A listener's fault is its own; the change is committed.
      }
    }
  }

  private constructor(
    readonly engine: Engine,
    readonly options: DirectoryOptions,
  ) {
    this.#now = options.now ?? (() => new Date());
  }

  /** Opens (and, as the writer, migrates) the directory database. */
  static async open(options: DirectoryOptions): Promise<Directory> {
    const engine = await Engine.open({
      path: options.path,
      ...(options.syncUrl ? { syncUrl: options.syncUrl } : {}),
    });
    try {
      const now = options.now ?? (() => new Date());
      if ((options.role ?? 'writer') === 'writer') {
        await migrate(engine, now);
      } else {
        const pending = await pendingMigrations(engine);
        if (pending.length > 0) {
          throw new DirectoryError(
            'unavailable',
            `directory schema is behind this code (missing ${pending.join(', ')}): waiting for the writer`,
          );
        }
      }
      const dir = new Directory(engine, options);
      // The throwaway hash unknown names are checked against (verifyWithoutAccount), computed now.
      primeDummyHash().catch(() => undefined);
      if ((options.role ?? 'writer') === 'writer')
        await dir.#ensureRegion(options.regionId, options.regionTitle);
      return dir;
    } catch (err) {
      await engine.close();
      throw err;
    }
  }

  close(): Promise<void> {
    return this.engine.close();
  }

  get db(): DirectoryDb {
    return this.engine.db;
  }

  #nowIso(): string {
    return this.#now().toISOString();
  }

  // ---------------------------------------------------------------- plumbing

  /**
   * One change: a transaction that runs `fn` and records the audit row. Unique-constraint violations
   * (a concurrent writer took the address) surface as `duplicate`.
   */
  async #change<T>(
    actor: Actor,
    action: string,
    target: string,
    domain: string | null,
    fn: (tx: DirectoryDb) => Promise<{ result: T; details?: Record<string, unknown> }>,
  ): Promise<T> {
    try {
      // Every change invalidates the recipient-lookup cache (also when it fails: it may have half-run).
      this.#generation++;
      return await this.engine.transaction(async (tx) => {
        const { result, details } = await fn(tx);
        await tx.insert(auditLog).values({
          id: ulid(),
          at: this.#nowIso(),
          actor: `${actor.kind}:${actor.name}`,
          actorFrom: actor.from,
          action,
          target,
          domain,
          details: details ? JSON.stringify(details) : null,
        });
        return result;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate(`${target} already exists`);
      throw err;
    }
  }

  async #ensureRegion(name: string, title?: string): Promise<void> {
    const [row] = await this.db.select().from(regions).where(eq(regions.name, name));
    if (!row) {
      await this.#change(
        { kind: 'system', name: 'appliance', from: 'local' },
        'region.add',
        name,
        null,
        async (tx) => {
          await tx
            .insert(regions)
            .values({ id: ulid(), name, title: title ?? name, createdAt: this.#nowIso() });
          return { result: undefined };
        },
      );
    }
  }

  async #regionName(regionId: string): Promise<string> {
    const cached = this.#regionNameById.get(regionId);
    if (cached) return cached;
    const [row] = await this.db.select().from(regions).where(eq(regions.id, regionId));
    const name = row?.name ?? 'unknown';
    if (row) {
      this.#regionNameById.set(regionId, name);
      this.#regionIdByName.set(name, regionId);
    }
    return name;
  }

  async #domain(db: DirectoryDb, name: string) {
    const [row] = await db.select().from(domains).where(eq(domains.name, name));
    if (!row) throw notFound(`unknown domain ${name}`);
    return row;
  }

  /** Parses an address, checks the actor may manage its domain and that the domain is hosted. */
  async #scopedAddress(db: DirectoryDb, actor: Actor, input: string) {
    const parsed = (() => {
      try {
        return parseAddress(input);
      } catch (err) {
        return toInvalid(err);
      }
    })();
    requireDomain(actor, parsed.domain);
    const domain = await this.#domain(db, parsed.domain);
    return { ...parsed, domainRow: domain };
  }

  async #mailboxByOfficial(db: DirectoryDb, address: string): Promise<MailboxRow> {
    const [mb] = await db.select().from(mailboxes).where(eq(mailboxes.address, address));
    if (!mb) throw notFound(`no mailbox ${address}`);
    return mb;
  }

  // ---------------------------------------------------------------- regions

  async listRegions(): Promise<Array<{ name: string; title: string }>> {
    const rows = await this.db.select().from(regions).orderBy(asc(regions.name));
    return rows.map((r) => ({ name: r.name, title: r.title }));
  }

  async addRegion(actor: Actor, name: string, title?: string): Promise<void> {
    requireOperator(actor, 'add regions');
    if (!/^[a-z0-9-]{1,32}$/.test(name)) throw invalid(`invalid region id "${name}": use a-z, 0-9 and -`);
    await this.#change(actor, 'region.add', name, null, async (tx) => {
      await tx.insert(regions).values({ id: ulid(), name, title: title ?? name, createdAt: this.#nowIso() });
      return { result: undefined };
    });
  }

  // ---------------------------------------------------------------- domains

  async addDomain(
    actor: Actor,
    input: string,
    opts: { region?: string } = {},
  ): Promise<{ name: string; region: string }> {
    requireOperator(actor, 'add domains');
    let name: string;
    try {
      name = normaliseDomain(input);
    } catch (err) {
      toInvalid(err);
    }
    const regionName = opts.region ?? this.options.regionId;
    const [region] = await this.db.select().from(regions).where(eq(regions.name, regionName));
    if (!region) throw notFound(`unknown region ${regionName}`);
    const [existing] = await this.db.select().from(domains).where(eq(domains.name, name));
    if (existing) throw duplicate(`domain ${name} already exists`);
    const now = this.#nowIso();
    return this.#change(actor, 'domain.add', name, name, async (tx) => {
      const domainId = ulid();
      await tx
        .insert(domains)
        .values({ id: domainId, name, regionId: region.id, createdAt: now, updatedAt: now });
      // RFC 5321 §4.5.1: every domain accepts postmaster@. A role mailbox nobody logs into until an
      // admin sets its password.
      await this.#insertMailbox(tx, {
        domainId,
        domainName: name,
        kind: 'role',
        localPart: POSTMASTER,
        username: POSTMASTER,
        firstName: null,
        lastName: null,
        groupId: null,
        contact: null,
        flag: null,
        quotaBytes: null,
        expiresOn: null,
        credentials: null,
      });
      return { result: { name, region: region.name }, details: { region: region.name } };
    });
  }

  async listDomains(
    actor: Actor,
  ): Promise<Array<{ name: string; region: string; mailboxes: number; createdAt: string }>> {
    const scope = visibleDomains(actor);
    if (scope !== null && scope.length === 0) return [];
    const rows = await this.db
      .select({
        id: domains.id,
        name: domains.name,
        regionId: domains.regionId,
        createdAt: domains.createdAt,
      })
      .from(domains)
      .where(scope === null ? undefined : inArray(domains.name, [...scope]))
      .orderBy(asc(domains.name));
    const counts = await this.db
      .select({ domainId: mailboxes.domainId, n: count() })
      .from(mailboxes)
      .where(eq(mailboxes.state, 'active'))
      .groupBy(mailboxes.domainId);
    const byDomain = new Map(counts.map((c) => [c.domainId, c.n]));
    const out = [];
    for (const r of rows) {
      out.push({
        name: r.name,
        region: await this.#regionName(r.regionId),
        mailboxes: byDomain.get(r.id) ?? 0,
        createdAt: r.createdAt,
      });
    }
    return out;
  }

  /**
   * Removes a domain with everything in it. A domain that still has mailboxes other than postmaster@
   * needs `force`. Returns the mailbox ids whose mail the mail store must purge.
   */
  async removeDomain(
    actor: Actor,
    input: string,
    opts: { force?: boolean } = {},
  ): Promise<{ mailboxIds: string[] }> {
    requireOperator(actor, 'remove domains');
    let name: string;
    try {
      name = normaliseDomain(input);
    } catch (err) {
      toInvalid(err);
    }
    const domain = await this.#domain(this.db, name);
    const boxes = await this.db
      .select({ id: mailboxes.id, localPart: mailboxes.localPart })
      .from(mailboxes)
      .where(eq(mailboxes.domainId, domain.id));
    const others = boxes.filter((b) => b.localPart !== POSTMASTER);
    if (others.length > 0 && !opts.force) {
      throw conflict(
        `domain ${name} still has ${others.length} mailbox${others.length === 1 ? '' : 'es'}; use --force to remove it with all of them`,
      );
    }
    const removed = await this.#change(actor, 'domain.remove', name, name, async (tx) => {
      const addressIds = (
        await tx.select({ id: addresses.id }).from(addresses).where(eq(addresses.domainId, domain.id))
      ).map((r) => r.id);
      const boxIds = boxes.map((b) => b.id);
      if (addressIds.length > 0)
        await tx.delete(addressTargets).where(inArray(addressTargets.addressId, addressIds));
      if (boxIds.length > 0)
        await tx.delete(addressTargets).where(inArray(addressTargets.targetMailboxId, boxIds));
      await this.#dropEmptyAliases(tx);
      await tx.delete(addresses).where(eq(addresses.domainId, domain.id));
      await tx.delete(mailboxes).where(eq(mailboxes.domainId, domain.id));
      await tx.delete(groups).where(eq(groups.domainId, domain.id));
      await tx.delete(adminDomains).where(eq(adminDomains.domainId, domain.id));
      await tx.delete(domains).where(eq(domains.id, domain.id));
      return { result: { mailboxIds: boxIds }, details: { mailboxes: boxIds.length, force: !!opts.force } };
    });
    this.#accountsChanged(removed.mailboxIds);
    return removed;
  }

  // ---------------------------------------------------------------- mailboxes

  async #insertMailbox(
    tx: DirectoryDb,
    m: {
      domainId: string;
      domainName: string;
      kind: MailboxKind;
      localPart: string;
      username: string;
      firstName: string | null;
      lastName: string | null;
      groupId: string | null;
      contact: string | null;
      flag: string | null;
      quotaBytes: number | null;
      expiresOn: string | null;
      credentials: Awaited<ReturnType<typeof deriveCredentials>> | null;
    },
  ): Promise<{ id: string; address: string }> {
    const id = ulid();
    const now = this.#nowIso();
    const address = `${m.localPart}@${m.domainName}`;
    await tx.insert(mailboxes).values({
      id,
      domainId: m.domainId,
      kind: m.kind,
      firstName: m.firstName,
      lastName: m.lastName,
      username: m.username,
      localPart: m.localPart,
      address,
      groupId: m.groupId,
      contact: m.contact,
      flag: m.flag,
      quotaBytes: m.quotaBytes,
      expiresOn: m.expiresOn,
      state: 'active',
      removedAt: null,
      purgeAfter: null,
      passwordHash: m.credentials?.passwordHash ?? null,
      scramSalt: m.credentials?.scramSalt ?? null,
      scramIterations: m.credentials?.scramIterations ?? null,
      scramStoredKey: m.credentials?.scramStoredKey ?? null,
      scramServerKey: m.credentials?.scramServerKey ?? null,
      cramSecret: m.credentials?.cramSecret ?? null,
      createdAt: now,
      updatedAt: now,
    });
    await tx
      .insert(addresses)
      .values({ id: ulid(), address, domainId: m.domainId, kind: 'official', mailboxId: id, createdAt: now });
    return { id, address };
  }

  /**
   * Adds the generated aliases of a person. An alias that is already generated for someone else gains
   * this mailbox as a second candidate and becomes ambiguous; an address that is something else
   * (official, manual, legacy, forward, list) is left alone and reported as skipped.
   */
  async #addGeneratedAliases(
    tx: DirectoryDb,
    mailboxId: string,
    domainId: string,
    domainName: string,
    locals: string[],
  ): Promise<Pick<CreatedMailbox, 'aliases' | 'skippedAliases'>> {
    const aliases: CreatedMailbox['aliases'] = [];
    const skippedAliases: string[] = [];
    const now = this.#nowIso();
    for (const local of locals) {
      const address = `${local}@${domainName}`;
      const [row] = await tx.select().from(addresses).where(eq(addresses.address, address));
      let addressId: string;
      if (!row) {
        addressId = ulid();
        await tx
          .insert(addresses)
          .values({ id: addressId, address, domainId, kind: 'generated', mailboxId: null, createdAt: now });
      } else if (row.kind === 'generated') {
        addressId = row.id;
      } else {
        skippedAliases.push(address);
        continue;
      }
      await tx.insert(addressTargets).values({
        id: ulid(),
        addressId,
        targetMailboxId: mailboxId,
        targetAddress: null,
        targetKey: `mailbox:${mailboxId}`,
        createdAt: now,
      });
      const targets = await targetsOf(tx, addressId);
      aliases.push({
        address,
        ambiguous: targets.length > 1,
        candidates: targets.length > 1 ? targets.map((t) => t.address) : [],
      });
    }
    return { aliases, skippedAliases };
  }

  async #groupId(tx: DirectoryDb, domainId: string, name: string | null): Promise<string | null> {
    if (name === null) return null;
    if (!GROUP_NAME.test(name)) throw invalid(`invalid group name "${name}"`);
    const [row] = await tx
      .select()
      .from(groups)
      .where(and(eq(groups.domainId, domainId), eq(groups.name, name)));
    if (row) return row.id;
    const id = ulid();
    await tx.insert(groups).values({ id, domainId, name, createdAt: this.#nowIso() });
    return id;
  }

  async addMailbox(actor: Actor, input: NewMailbox): Promise<CreatedMailbox> {
    let domainName: string;
    try {
      domainName = normaliseDomain(input.domain);
    } catch (err) {
      toInvalid(err);
    }
    requireDomain(actor, domainName);
    const domain = await this.#domain(this.db, domainName);

    const firstName = cleanText('first name', input.firstName);
    const lastName = cleanText('last name', input.lastName);
    let official: string;
    let generated: string[] = [];
    try {
      if (input.kind === 'personal') {
        if (!firstName || !lastName) throw invalid('a personal mailbox needs a first and a last name');
        ({ official, generated } = personalParts(firstName, lastName, input.localPart));
      } else {
        if (input.localPart === undefined) throw invalid('a role mailbox needs its address (local part)');
        official = validateLocalPart(input.localPart);
      }
    } catch (err) {
      if (err instanceof AddressingError && input.kind === 'personal' && err.code === 'empty-name') {
        throw invalid(`${err.message}`);
      }
      toInvalid(err);
    }
    const username = (() => {
      try {
        return input.username !== undefined ? validateLocalPart(input.username) : official;
      } catch {
        throw invalid(`invalid username "${input.username}": use letters, digits, dots, hyphens`);
      }
    })();
    const contact = cleanText('contact', input.contact);
    const flag = cleanText('flag', input.flag);
    const group = cleanText('group', input.group);
    const expiresOn = input.expiresOn ? parseIsoDate(input.expiresOn) : null;
    if (input.quotaBytes !== undefined && input.quotaBytes !== null) {
      if (!Number.isSafeInteger(input.quotaBytes) || input.quotaBytes < 0)
        throw invalid('quota must be a size in bytes');
    }
    const address = `${official}@${domainName}`;

    const [taken] = await this.db.select().from(addresses).where(eq(addresses.address, address));
    if (taken) {
      const what = taken.kind === 'official' ? 'a mailbox' : `a ${taken.kind} alias`;
      throw duplicate(
        `${address} already exists (${what}); choose another official address with --address <local part>, e.g. --address ${official}2`,
      );
    }
    const [sameUser] = await this.db
      .select()
      .from(mailboxes)
      .where(and(eq(mailboxes.domainId, domain.id), eq(mailboxes.username, username)));
    if (sameUser)
      throw duplicate(`username ${username} is already used in ${domainName} by ${sameUser.address}`);
    if (username !== official) {
      const [clash] = await this.db
        .select()
        .from(addresses)
        .where(eq(addresses.address, `${username}@${domainName}`));
      if (clash) throw duplicate(`username ${username} would clash with the address ${clash.address}`);
    }

    const credentials =
      input.password !== undefined
        ? await deriveCredentials(input.password, { key: this.options.key, cramMd5: this.options.cramMd5 })
        : null;

    return this.#change(actor, 'mailbox.add', address, domainName, async (tx) => {
      const groupId = await this.#groupId(tx, domain.id, group);
      const { id } = await this.#insertMailbox(tx, {
        domainId: domain.id,
        domainName,
        kind: input.kind,
        localPart: official,
        username,
        firstName,
        lastName,
        groupId,
        contact,
        flag,
        quotaBytes: input.quotaBytes ?? null,
        expiresOn,
        credentials,
      });
      const gen = await this.#addGeneratedAliases(tx, id, domain.id, domainName, generated);
      return {
        result: { address, username, kind: input.kind, ...gen },
        details: { kind: input.kind, username, aliases: gen.aliases.map((a) => a.address), expiresOn, group },
      };
    });
  }

  async listMailboxes(
    actor: Actor,
    domainInput: string,
    opts: { search?: string; limit?: number; offset?: number; includeRemoved?: boolean } = {},
  ): Promise<{ total: number; mailboxes: MailboxView[] }> {
    let domainName: string;
    try {
      domainName = normaliseDomain(domainInput);
    } catch (err) {
      toInvalid(err);
    }
    requireDomain(actor, domainName);
    const domain = await this.#domain(this.db, domainName);
    const search = opts.search?.trim().toLowerCase();
    const pattern = search ? `%${search.replace(/[%_\\]/g, (c) => `\\${c}`)}%` : null;
    const where = and(
      eq(mailboxes.domainId, domain.id),
      opts.includeRemoved === false ? eq(mailboxes.state, 'active') : undefined,
      pattern
        ? or(
            like(mailboxes.address, pattern),
            like(mailboxes.username, pattern),
            like(mailboxes.firstName, pattern),
            like(mailboxes.lastName, pattern),
          )
        : undefined,
    );
    const [{ n } = { n: 0 }] = await this.db.select({ n: count() }).from(mailboxes).where(where);
    const rows = await this.db
      .select({ mb: mailboxes, groupName: groups.name })
      .from(mailboxes)
      .leftJoin(groups, eq(groups.id, mailboxes.groupId))
      .where(where)
      .orderBy(asc(mailboxes.address))
      .limit(Math.min(Math.max(opts.limit ?? 1000, 1), 10_000))
      .offset(Math.max(opts.offset ?? 0, 0));
    const now = this.#now();
    return {
      total: n,
      mailboxes: rows.map(({ mb, groupName }) => ({
        address: mb.address,
        kind: mb.kind,
        username: mb.username,
        firstName: mb.firstName,
        lastName: mb.lastName,
        group: groupName,
        contact: mb.contact,
        flag: mb.flag,
        quotaBytes: mb.quotaBytes,
        expiresOn: mb.expiresOn,
        expired: isExpired(mb.expiresOn, this.options.timezone, now),
        state: mb.state,
        purgeAfter: mb.purgeAfter,
        createdAt: mb.createdAt,
      })),
    };
  }

  /** Detaches a mailbox from every alias; aliases left without targets disappear. */
  async #detachMailbox(tx: DirectoryDb, mailboxId: string): Promise<void> {
    await tx.delete(addressTargets).where(eq(addressTargets.targetMailboxId, mailboxId));
    await tx.delete(addresses).where(and(eq(addresses.mailboxId, mailboxId), eq(addresses.kind, 'legacy')));
    await this.#dropEmptyAliases(tx);
  }

  async #dropEmptyAliases(tx: DirectoryDb): Promise<void> {
    const aliasRows = await tx
      .select({ id: addresses.id })
      .from(addresses)
      .where(inArray(addresses.kind, ['generated', 'manual', 'forward', 'list']));
    if (aliasRows.length === 0) return;
    const withTargets = new Set(
      (await tx.selectDistinct({ id: addressTargets.addressId }).from(addressTargets)).map((r) => r.id),
    );
    const empty = aliasRows.filter((r) => !withTargets.has(r.id)).map((r) => r.id);
    if (empty.length > 0) await tx.delete(addresses).where(inArray(addresses.id, empty));
  }

  /**
   * Removes a mailbox: disabled at once (mail to it gets 5.2.1), its aliases let go of it, its mail kept
   * for the retention period. `purge` deletes it now. Returns the mailbox id the mail store must purge
   * (when purged) and when it will be purged otherwise.
   */
  async removeMailbox(
    actor: Actor,
    input: string,
    opts: { purge?: boolean } = {},
  ): Promise<{ address: string; mailboxId: string; purged: boolean; purgeAfter: string | null }> {
    const { address, domainRow } = await this.#scopedAddress(this.db, actor, input);
    const mb = await this.#mailboxByOfficial(this.db, address);
    if (mb.localPart === POSTMASTER) {
      throw conflict(`${address} cannot be removed: every domain must accept postmaster@ (RFC 5321 §4.5.1)`);
    }
    if (mb.state === 'removed' && !opts.purge) {
      throw conflict(
        `${address} is already removed; its mail is purged after ${mb.purgeAfter} (or use --purge)`,
      );
    }
    const now = this.#now();
    if (opts.purge) {
      const purged = await this.#change(actor, 'mailbox.purge', address, domainRow.name, async (tx) => {
        await this.#detachMailbox(tx, mb.id);
        await tx.delete(addresses).where(eq(addresses.mailboxId, mb.id));
        await tx.delete(mailboxes).where(eq(mailboxes.id, mb.id));
        return { result: { address, mailboxId: mb.id, purged: true, purgeAfter: null } };
      });
      this.#accountsChanged([mb.id]);
      return purged;
    }
    const purgeAfter = new Date(now.getTime() + this.options.retentionDays * 86_400_000).toISOString();
    const removed = await this.#change(actor, 'mailbox.remove', address, domainRow.name, async (tx) => {
      await this.#detachMailbox(tx, mb.id);
      await tx
        .update(mailboxes)
        .set({
          state: 'removed',
          removedAt: now.toISOString(),
          purgeAfter,
          updatedAt: now.toISOString(),
          sessionsValidAfter: now.toISOString(),
        })
        .where(eq(mailboxes.id, mb.id));
      return { result: { address, mailboxId: mb.id, purged: false, purgeAfter }, details: { purgeAfter } };
    });
    this.#accountsChanged([mb.id]);
    return removed;
  }

  /** The purge job: deletes removed mailboxes whose retention has passed; returns their ids. */
  async purgeExpiredRemovals(actor: Actor): Promise<Array<{ address: string; mailboxId: string }>> {
    requireOperator(actor, 'purge mailboxes');
    const due = await this.db
      .select()
      .from(mailboxes)
      .where(and(eq(mailboxes.state, 'removed'), lte(mailboxes.purgeAfter, this.#nowIso())));
    const out = [];
    for (const mb of due) {
      const [domain] = await this.db.select().from(domains).where(eq(domains.id, mb.domainId));
      await this.#change(actor, 'mailbox.purge', mb.address, domain?.name ?? null, async (tx) => {
        await tx.delete(addresses).where(eq(addresses.mailboxId, mb.id));
        await tx.delete(mailboxes).where(eq(mailboxes.id, mb.id));
        return { result: undefined, details: { reason: 'retention' } };
      });
      out.push({ address: mb.address, mailboxId: mb.id });
    }
    this.#accountsChanged(out.map((m) => m.mailboxId));
    return out;
  }

  async setPassword(actor: Actor, input: string, password: string): Promise<void> {
    const { address, domainRow } = await this.#scopedAddress(this.db, actor, input);
    const mb = await this.#mailboxByOfficial(this.db, address);
    const c = await deriveCredentials(password, { key: this.options.key, cramMd5: this.options.cramMd5 });
    await this.#change(actor, 'mailbox.passwd', address, domainRow.name, async (tx) => {
      const now = this.#nowIso();
      // Whoever knew the old password is out: sessions that began before now are over (every region).
      await tx
        .update(mailboxes)
        .set({ ...c, updatedAt: now, sessionsValidAfter: now })
        .where(eq(mailboxes.id, mb.id));
      return { result: undefined };
    });
    this.#accountsChanged([mb.id]);
  }

  async setExpiry(
    actor: Actor,
    input: string,
    expiresOn: string | null,
  ): Promise<{ expiresOn: string | null }> {
    const date = expiresOn === null ? null : parseIsoDate(expiresOn);
    const { address, domainRow } = await this.#scopedAddress(this.db, actor, input);
    const mb = await this.#mailboxByOfficial(this.db, address);
    const set = await this.#change(actor, 'mailbox.expire', address, domainRow.name, async (tx) => {
      await tx
        .update(mailboxes)
        .set({ expiresOn: date, updatedAt: this.#nowIso() })
        .where(eq(mailboxes.id, mb.id));
      return { result: { expiresOn: date }, details: { from: mb.expiresOn, to: date } };
    });
    this.#accountsChanged([mb.id]);
    return set;
  }

  /**
   * Renames a person (or sets a new official local part): the old official address stays as a legacy
   * alias, and the new name's generated aliases are added (with the usual ambiguity rules).
   */
  async renameMailbox(
    actor: Actor,
    input: string,
    change: { firstName?: string; lastName?: string; localPart?: string },
  ): Promise<CreatedMailbox & { legacy: string }> {
    const { address: oldAddress, domainRow } = await this.#scopedAddress(this.db, actor, input);
    const mb = await this.#mailboxByOfficial(this.db, oldAddress);
    if (mb.state !== 'active') throw conflict(`${oldAddress} is removed`);
    if (mb.localPart === POSTMASTER) throw conflict('postmaster@ cannot be renamed');
    const firstName = cleanText('first name', change.firstName) ?? mb.firstName;
    const lastName = cleanText('last name', change.lastName) ?? mb.lastName;
    let official: string;
    let generated: string[] = [];
    try {
      if (mb.kind === 'personal' && firstName && lastName) {
        ({ official, generated } = personalParts(firstName, lastName, change.localPart));
      } else {
        if (change.localPart === undefined) throw invalid('a role mailbox is renamed with a new address');
        official = validateLocalPart(change.localPart);
      }
    } catch (err) {
      toInvalid(err);
    }
    const address = `${official}@${domainRow.name}`;
    if (address === oldAddress) throw invalid(`${oldAddress} already has that address`);
    const [taken] = await this.db.select().from(addresses).where(eq(addresses.address, address));
    if (taken)
      throw duplicate(`${address} already exists; choose another address with --address <local part>`);
    return this.#change(actor, 'mailbox.rename', address, domainRow.name, async (tx) => {
      const now = this.#nowIso();
      await tx
        .update(addresses)
        .set({ kind: 'legacy' })
        .where(and(eq(addresses.mailboxId, mb.id), eq(addresses.kind, 'official')));
      await tx.insert(addresses).values({
        id: ulid(),
        address,
        domainId: domainRow.id,
        kind: 'official',
        mailboxId: mb.id,
        createdAt: now,
      });
      await tx
        .update(mailboxes)
        .set({ address, localPart: official, firstName, lastName, updatedAt: now })
        .where(eq(mailboxes.id, mb.id));
      const existing = new Set(
        (
          await tx
            .select({ address: addresses.address })
            .from(addressTargets)
            .innerJoin(addresses, eq(addresses.id, addressTargets.addressId))
            .where(eq(addressTargets.targetMailboxId, mb.id))
        ).map((r) => r.address),
      );
      const fresh = generated.filter((l) => !existing.has(`${l}@${domainRow.name}`));
      const gen = await this.#addGeneratedAliases(tx, mb.id, domainRow.id, domainRow.name, fresh);
      return {
        result: { address, username: mb.username, kind: mb.kind, legacy: oldAddress, ...gen },
        details: { from: oldAddress },
      };
    });
  }

  // ---------------------------------------------------------------- aliases, forwards, list aliases

  /** Resolves an alias target: a local address becomes its mailbox, anything else stays an address. */
  async #target(
    db: DirectoryDb,
    actor: Actor,
    input: string,
  ): Promise<{ mailboxId: string | null; address: string }> {
    let parsed: { address: string; domain: string };
    try {
      parsed = parseAddress(input);
    } catch (err) {
      toInvalid(err);
    }
    // A domain admin learns nothing about domains they do not manage, hosted or not: such a target is
    // kept as the address typed, like an external one, without looking it up (no "exists" answer, no
    // official address behind an alias). Mail to it is resolved at delivery, as for any address.
    if (visibleDomains(actor)?.includes(parsed.domain) === false) {
      return { mailboxId: null, address: parsed.address };
    }
    const [hosted] = await db.select().from(domains).where(eq(domains.name, parsed.domain));
    if (!hosted) return { mailboxId: null, address: parsed.address };
    const found = await lookupRecipient(this.#lookupContext(db), parsed.address);
    switch (found.kind) {
      case 'mailbox':
        return { mailboxId: found.mailboxId, address: found.address };
      case 'alias':
      case 'forward':
      case 'list':
        return { mailboxId: null, address: found.address };
      case 'ambiguous':
        throw invalid(
          `${parsed.address} is ambiguous (${found.candidates.join(', ')}); use an official address`,
        );
      case 'disabled':
        throw invalid(`${parsed.address} is ${found.reason}`);
      default:
        throw notFound(`no such address ${parsed.address}`);
    }
  }

  async #addAddressWithTargets(
    actor: Actor,
    kind: 'manual' | 'forward' | 'list',
    aliasInput: string,
    targetInputs: string[],
  ): Promise<AliasView> {
    if (targetInputs.length === 0) throw invalid('at least one target address is needed');
    const { address, domainRow } = await this.#scopedAddress(this.db, actor, aliasInput);
    const targets: Array<{ mailboxId: string | null; address: string }> = [];
    for (const t of targetInputs) {
      const target = await this.#target(this.db, actor, t);
      if (target.address === address) throw invalid(`${address} cannot point to itself`);
      if ((kind === 'forward' || kind === 'list') && target.mailboxId !== null) {
        throw invalid(`${target.address} is a local mailbox: use an alias, not a ${kind}`);
      }
      targets.push(target);
    }
    const [existing] = await this.db.select().from(addresses).where(eq(addresses.address, address));
    // RFC 5321 §4.5.1: postmaster@ is a role mailbox "unless pointed elsewhere": an alias on it sends
    // its mail to the targets instead; removing that alias makes it the role mailbox again.
    const pointingPostmaster =
      kind === 'manual' && existing?.kind === 'official' && address === `${POSTMASTER}@${domainRow.name}`;
    if (existing && !(existing.kind === 'manual' && kind === 'manual') && !pointingPostmaster) {
      throw duplicate(
        `${address} already exists (${existing.kind === 'official' ? 'a mailbox' : `${existing.kind} alias`})`,
      );
    }
    return this.#change(
      actor,
      `${kind === 'manual' ? 'alias' : kind}.add`,
      address,
      domainRow.name,
      async (tx) => {
        const now = this.#nowIso();
        const addressId = existing?.id ?? ulid();
        if (!existing) {
          await tx.insert(addresses).values({
            id: addressId,
            address,
            domainId: domainRow.id,
            kind,
            mailboxId: null,
            createdAt: now,
          });
        }
        for (const t of targets) {
          await tx.insert(addressTargets).values({
            id: ulid(),
            addressId,
            targetMailboxId: t.mailboxId,
            targetAddress: t.mailboxId ? null : t.address,
            targetKey: t.mailboxId ? `mailbox:${t.mailboxId}` : `address:${t.address}`,
            createdAt: now,
          });
        }
        const all = await targetsOf(tx, addressId);
        return {
          result: { address, kind, targets: all.map((t) => t.address), ambiguous: false },
          details: { targets: targets.map((t) => t.address) },
        };
      },
    );
  }

  /** A manual alias (several targets: mail goes to all of them). Adding to an existing manual alias extends it. */
  addAlias(actor: Actor, alias: string, targets: string[]): Promise<AliasView> {
    return this.#addAddressWithTargets(actor, 'manual', alias, targets);
  }

  /** An official address whose mailbox is elsewhere (step-by-step migration). */
  addForward(actor: Actor, address: string, remote: string): Promise<AliasView> {
    return this.#addAddressWithTargets(actor, 'forward', address, [remote]);
  }

  /** A distribution-list alias: mail goes to the list server's address. */
  addListAlias(actor: Actor, address: string, listServer: string): Promise<AliasView> {
    return this.#addAddressWithTargets(actor, 'list', address, [listServer]);
  }

  /** Removes an alias, forward or list alias (any kind but an official address). */
  async removeAlias(actor: Actor, input: string): Promise<void> {
    const { address, domainRow } = await this.#scopedAddress(this.db, actor, input);
    const [row] = await this.db.select().from(addresses).where(eq(addresses.address, address));
    if (!row) throw notFound(`no alias ${address}`);
    const isPostmaster = row.kind === 'official' && address === `${POSTMASTER}@${domainRow.name}`;
    if (row.kind === 'official') {
      const pointed = isPostmaster
        ? await this.db.select().from(addressTargets).where(eq(addressTargets.addressId, row.id))
        : [];
      if (pointed.length === 0)
        throw invalid(`${address} is a mailbox's official address: use mailbox remove`);
    }
    await this.#change(
      actor,
      `${row.kind === 'forward' || row.kind === 'list' ? row.kind : 'alias'}.remove`,
      address,
      domainRow.name,
      async (tx) => {
        await tx.delete(addressTargets).where(eq(addressTargets.addressId, row.id));
        // postmaster@ pointed elsewhere goes back to being its role mailbox; other aliases disappear.
        if (!isPostmaster) await tx.delete(addresses).where(eq(addresses.id, row.id));
        return { result: undefined, details: { kind: isPostmaster ? 'postmaster' : row.kind } };
      },
    );
  }

  /** Every address of a domain except official ones; ambiguous generated aliases carry their candidates. */
  async listAliases(
    actor: Actor,
    domainInput: string,
    opts: { kinds?: AddressKind[] } = {},
  ): Promise<AliasView[]> {
    let domainName: string;
    try {
      domainName = normaliseDomain(domainInput);
    } catch (err) {
      toInvalid(err);
    }
    requireDomain(actor, domainName);
    const domain = await this.#domain(this.db, domainName);
    const rows = await this.db
      .select()
      .from(addresses)
      .where(
        and(
          eq(addresses.domainId, domain.id),
          opts.kinds
            ? inArray(addresses.kind, opts.kinds)
            : or(ne(addresses.kind, 'official'), eq(addresses.address, `${POSTMASTER}@${domainName}`)),
        ),
      )
      .orderBy(asc(addresses.address));
    const out: AliasView[] = [];
    for (const r of rows) {
      let targets: AliasTarget[];
      if (r.kind === 'official') {
        // Only postmaster@ pointed elsewhere is listed: as the manual alias it behaves as.
        targets = await targetsOf(this.db, r.id);
        if (targets.length === 0) continue;
        out.push({
          address: r.address,
          kind: 'manual',
          targets: targets.map((t) => t.address),
          ambiguous: false,
        });
        continue;
      }
      if (r.kind === 'legacy') {
        const [mb] = await this.db
          .select()
          .from(mailboxes)
          .where(eq(mailboxes.id, r.mailboxId ?? ''));
        targets = mb ? [{ kind: 'mailbox', address: mb.address, mailboxId: mb.id }] : [];
      } else {
        targets = await targetsOf(this.db, r.id);
      }
      out.push({
        address: r.address,
        kind: r.kind,
        targets: targets.map((t) => t.address),
        ambiguous: r.kind === 'generated' && targets.length > 1,
      });
    }
    return out;
  }

  // ---------------------------------------------------------------- admins

  async hasOperator(): Promise<boolean> {
    const [row] = await this.db.select({ n: count() }).from(admins).where(eq(admins.role, 'operator'));
    return (row?.n ?? 0) > 0;
  }

  async addAdmin(
    actor: Actor,
    input: { username: string; role: 'operator' | 'domain-admin'; domains?: string[]; password: string },
  ): Promise<{ username: string; role: string; domains: string[] }> {
    requireOperator(actor, 'add administrators');
    const username = input.username.trim().toLowerCase();
    if (!ADMIN_USERNAME.test(username)) {
      throw invalid(`invalid admin username "${input.username}": use a-z, 0-9, and . _ @ - (at most 64)`);
    }
    const domainNames = [
      ...new Set(
        (input.domains ?? []).map((d) => {
          try {
            return normaliseDomain(d);
          } catch (err) {
            return toInvalid(err);
          }
        }),
      ),
    ];
    if (input.role === 'domain-admin' && domainNames.length === 0) {
      throw invalid('a domain administrator needs at least one domain (--domains d1,d2)');
    }
    if (input.role === 'operator' && domainNames.length > 0)
      throw invalid('an operator manages every domain: no --domains');
    const domainRows: Array<typeof domains.$inferSelect> = [];
    for (const d of domainNames) domainRows.push(await this.#domain(this.db, d));
    const [existing] = await this.db.select().from(admins).where(eq(admins.username, username));
    if (existing) throw duplicate(`admin ${username} already exists`);
    checkPasswordPolicy(input.password);
    const passwordHash = await hashPassword(input.password);
    return this.#change(actor, 'admin.add', username, null, async (tx) => {
      const now = this.#nowIso();
      const id = ulid();
      await tx
        .insert(admins)
        .values({ id, username, role: input.role, passwordHash, createdAt: now, updatedAt: now });
      for (const d of domainRows) {
        await tx.insert(adminDomains).values({ id: ulid(), adminId: id, domainId: d.id, createdAt: now });
      }
      return {
        result: { username, role: input.role, domains: domainNames },
        details: { role: input.role, domains: domainNames },
      };
    });
  }

  async listAdmins(actor: Actor): Promise<AdminView[]> {
    requireOperator(actor, 'list administrators');
    const rows = await this.db.select().from(admins).orderBy(asc(admins.username));
    const links = await this.db
      .select({ adminId: adminDomains.adminId, name: domains.name })
      .from(adminDomains)
      .innerJoin(domains, eq(domains.id, adminDomains.domainId))
      .orderBy(asc(domains.name));
    return rows.map((a) =>
      adminView(
        a,
        links.filter((l) => l.adminId === a.id).map((l) => l.name),
      ),
    );
  }

  /** One administrator (operators only). */
  async getAdmin(actor: Actor, usernameInput: string): Promise<AdminView> {
    requireOperator(actor, 'read administrators');
    const username = usernameInput.trim().toLowerCase();
    const found = (await this.listAdmins(actor)).find((a) => a.username === username);
    if (!found) throw notFound(`no admin ${username}`);
    return found;
  }

  /**
   * Sets an admin's access restrictions (operators only, also for their own account): the networks they
   * may connect from (`[]` or null: any) and the SHA-256 fingerprint of the TLS client certificate they
   * must present (null: none). A field left undefined is kept.
   */
  async setAdminAccess(
    actor: Actor,
    usernameInput: string,
    input: { allowedNetworks?: readonly string[] | null; certFingerprint?: string | null },
  ): Promise<AdminView> {
    requireOperator(actor, "change administrators' access restrictions");
    const username = usernameInput.trim().toLowerCase();
    const [row] = await this.db.select().from(admins).where(eq(admins.username, username));
    if (!row) throw notFound(`no admin ${username}`);
    const set: { allowedNetworks?: string | null; certFingerprint?: string | null } = {};
    const details: Record<string, unknown> = {};
    if (input.allowedNetworks !== undefined) {
      const networks = normaliseNetworks(input.allowedNetworks ?? []);
      set.allowedNetworks = networks.length > 0 ? JSON.stringify(networks) : null;
      details.allowedNetworks = networks;
    }
    if (input.certFingerprint !== undefined) {
      const fp =
        input.certFingerprint === null || input.certFingerprint.trim() === ''
          ? null
          : normaliseFingerprint(input.certFingerprint);
      set.certFingerprint = fp;
      details.certFingerprint = fp;
    }
    await this.#change(actor, 'admin.access', username, null, async (tx) => {
      await tx
        .update(admins)
        .set({ ...set, updatedAt: this.#nowIso() })
        .where(eq(admins.id, row.id));
      return { result: undefined, details };
    });
    return this.getAdmin(actor, username);
  }

  async removeAdmin(actor: Actor, usernameInput: string): Promise<void> {
    requireOperator(actor, 'remove administrators');
    const username = usernameInput.trim().toLowerCase();
    const [row] = await this.db.select().from(admins).where(eq(admins.username, username));
    if (!row) throw notFound(`no admin ${username}`);
    if (row.role === 'operator') {
      const [ops] = await this.db.select({ n: count() }).from(admins).where(eq(admins.role, 'operator'));
      if ((ops?.n ?? 0) <= 1) throw conflict(`${username} is the last operator and cannot be removed`);
    }
    await this.#change(actor, 'admin.remove', username, null, async (tx) => {
      await tx.delete(adminDomains).where(eq(adminDomains.adminId, row.id));
      await tx.delete(admins).where(eq(admins.id, row.id));
      return { result: undefined };
    });
  }

  async setAdminPassword(actor: Actor, usernameInput: string, password: string): Promise<void> {
    const username = usernameInput.trim().toLowerCase();
    if (!(actor.kind === 'domain-admin' && actor.name === username))
      requireOperator(actor, 'change other admins');
    const [row] = await this.db.select().from(admins).where(eq(admins.username, username));
    if (!row) throw notFound(`no admin ${username}`);
    checkPasswordPolicy(password);
    const passwordHash = await hashPassword(password);
    await this.#change(actor, 'admin.passwd', username, null, async (tx) => {
      const now = this.#nowIso();
      // Sessions and API tokens issued before now are over, in every region (actorForAdmin checks).
      await tx
        .update(admins)
        .set({ passwordHash, updatedAt: now, sessionsValidAfter: now })
        .where(eq(admins.id, row.id));
      return { result: undefined };
    });
  }

  /**
   * The actor for a signed-in admin, with the scope read from the directory now (revocation is
   * immediate); null when there is no such admin. Throws `forbidden` when the admin's access
   * restrictions refuse this client: `from` (the client's IP address) outside their allowed networks, or
   * a pinned certificate fingerprint that `client.certFingerprint` (the verified TLS client certificate of
   * the connection, if any) does not match. Null too for a session or token issued (`client.issuedAt`)
   * before the admin's password was last changed.
   */
  async actorForAdmin(usernameInput: string, from: string, client: AdminClient = {}): Promise<Actor | null> {
    const username = usernameInput.trim().toLowerCase();
    const [row] = await this.db.select().from(admins).where(eq(admins.username, username));
    if (!row) return null;
    if (issuedBeforeStamp(row.sessionsValidAfter, client.issuedAt)) return null;
    const refusal = accessRefusal(row, from, client);
    if (refusal) throw new AdminAccessDenied(row.username, refusal, from);
    if (row.role === 'operator') return { kind: 'operator', name: row.username, from };
    const links = await this.db
      .select({ name: domains.name })
      .from(adminDomains)
      .innerJoin(domains, eq(domains.id, adminDomains.domainId))
      .where(eq(adminDomains.adminId, row.id));
    return { kind: 'domain-admin', name: row.username, domains: links.map((l) => l.name).sort(), from };
  }

  /**
   * Checks an admin's password; returns the actor on success. The access restrictions are checked after
   * the password (an `AdminAccessDenied` then), so a refused client learns nothing about the account
   * unless the password was right.
   */
  async authenticateAdmin(
    username: string,
    password: string,
    from: string,
    client: AdminClient = {},
  ): Promise<Actor | null> {
    const [row] = await this.db
      .select()
      .from(admins)
      .where(eq(admins.username, username.trim().toLowerCase()));
    // An unknown name costs one verification too: the timing must not tell which admins exist.
    if (!row) return verifyWithoutAccount(password).then(() => null);
    if (!(await verifyPassword(row.passwordHash, password))) return null;
    const { issuedAt: _fresh, ...connection } = client;
    return this.actorForAdmin(row.username, from, connection);
  }

  /** An admin's role, without any access check (for the audit log); null when there is no such admin. */
  async adminRole(usernameInput: string): Promise<'operator' | 'domain-admin' | null> {
    const [row] = await this.db
      .select({ role: admins.role })
      .from(admins)
      .where(eq(admins.username, usernameInput.trim().toLowerCase()));
    return row?.role ?? null;
  }

  /** The admin's TOTP secret (base32), opened with the federation key; null when they have none. */
  async adminTotpSecret(usernameInput: string): Promise<string | null> {
    const username = usernameInput.trim().toLowerCase();
    const [row] = await this.db
      .select({ totpSecret: admins.totpSecret })
      .from(admins)
      .where(eq(admins.username, username));
    return row?.totpSecret ? this.options.key.decrypt(row.totpSecret) : null;
  }

  /**
   * Sets (or with null, removes) an admin's TOTP secret, sealed with the federation key so it works in
   * every region. An admin may change their own; operators anyone's (a reset after a lost phone).
   */
  async setAdminTotpSecret(actor: Actor, usernameInput: string, secret: string | null): Promise<void> {
    const username = usernameInput.trim().toLowerCase();
    const self = actor.kind !== 'system' && actor.name === username;
    if (!self) requireOperator(actor, "change other admins' two-step sign-in");
    const [row] = await this.db.select().from(admins).where(eq(admins.username, username));
    if (!row) throw notFound(`no admin ${username}`);
    if (secret !== null && !/^[A-Z2-7]{16,128}=*$/.test(secret)) throw invalid('not a base32 TOTP secret');
    const sealed = secret === null ? null : this.options.key.encrypt(secret);
    await this.#change(
      actor,
      secret === null ? 'admin.totp-off' : 'admin.totp-on',
      username,
      null,
      async (tx) => {
        await tx
          .update(admins)
          .set({ totpSecret: sealed, updatedAt: this.#nowIso() })
          .where(eq(admins.id, row.id));
        return { result: undefined };
      },
    );
  }

  /**
   * Records a sign-in event in the audit log (no scope check: it is not a change): `auth.signin`,
   * `auth.signin-failed`, `auth.signout`, `auth.lockout`, `auth.token` (an API token issued). `actor` is
   * who it was (`domain-admin:alice`, `mailbox:rose@...`), or `anonymous` when no account was proven;
   * `target` the account name typed. Never pass a password or code in `details`.
   */
  async recordAuthEvent(event: {
    action: AuthEventAction;
    actor: string;
    from: string;
    target: string;
    domain?: string | null;
    details?: Record<string, unknown>;
  }): Promise<void> {
    await this.engine.transaction(async (tx) => {
      await tx.insert(auditLog).values({
        id: ulid(),
        at: this.#nowIso(),
        actor: event.actor.slice(0, 400),
        actorFrom: event.from.slice(0, 100),
        action: event.action,
        target: event.target.slice(0, 320),
        domain: event.domain ?? null,
        details: event.details ? JSON.stringify(event.details) : null,
      });
    });
  }

  // ---------------------------------------------------------------- mail-side reads

  #lookupContext(db: DirectoryDb = this.db) {
    return {
      db,
      timezone: this.options.timezone,
      now: this.#now,
      regionName: (id: string) => this.#regionName(id),
    };
  }

  /** What mail to `address` becomes (SMTP RCPT policy reads this). */
  lookupRecipient(address: string): Promise<RecipientLookup> {
    const key = address.toLowerCase();
    const now = this.#now();
    // Expiry is by calendar day in the appliance's zone: an entry never outlives its day.
    const day = todayIn(this.options.timezone, now);
    const hit = this.#lookupCache.get(key);
    if (
      hit &&
      hit.generation === this.#generation &&
      hit.day === day &&
      now.getTime() - hit.at < LOOKUP_CACHE_TTL_MS
    ) {
      return hit.result;
    }
    const result = lookupRecipient(this.#lookupContext(), address);
    if (this.#lookupCache.size >= LOOKUP_CACHE_MAX) this.#lookupCache.clear();
    this.#lookupCache.set(key, { generation: this.#generation, day, at: now.getTime(), result });
    result.catch(() => this.#lookupCache.delete(key));
    return result;
  }

  /** The mailbox a login name names (official address, unambiguous alias, or username@domain). */
  resolveLogin(login: string): Promise<MailboxRow | null> {
    return resolveLogin(this.db, login);
  }

  /**
   * Checks a mailbox login: the mailbox must exist, be active, not expired, and have a password.
   * Returns the official address on success.
   */
  async authenticateMailbox(
    login: string,
    password: string,
  ): Promise<{ address: string; mailboxId: string } | null> {
    const mb = await this.resolveLogin(login);
    // Unknown, removed, expired or password-less: one verification all the same (no timing difference).
    if (!mb || !this.mayLogIn(mb) || !mb.passwordHash) return verifyWithoutAccount(password).then(() => null);
    if (!(await verifyPassword(mb.passwordHash, password))) return null;
    return { address: mb.address, mailboxId: mb.id };
  }

  /**
   * Whether a mailbox's session that began at `issuedAt` (ms since the epoch) is still good: the mailbox
   * may log in, and its password has not changed since (`sessions_valid_after`).
   */
  mailboxSessionValid(mb: MailboxRow, issuedAt: number): boolean {
    return this.mayLogIn(mb) && !issuedBeforeStamp(mb.sessionsValidAfter, issuedAt);
  }

  /**
   * The addresses a mailbox may send as (SMTP submission): its official address, its legacy addresses and
   * the generated aliases that lead to it alone (an ambiguous alias belongs to nobody).
   */
  async sendersOf(mailboxId: string): Promise<string[]> {
    const own = await this.db
      .select({ address: addresses.address })
      .from(addresses)
      .where(and(eq(addresses.mailboxId, mailboxId), inArray(addresses.kind, ['official', 'legacy'])));
    const generated = await this.db
      .select({ id: addresses.id, address: addresses.address })
      .from(addressTargets)
      .innerJoin(addresses, eq(addresses.id, addressTargets.addressId))
      .where(and(eq(addressTargets.targetMailboxId, mailboxId), eq(addresses.kind, 'generated')));
    const out = own.map((r) => r.address);
    for (const g of generated) {
      const targets = await this.db.select().from(addressTargets).where(eq(addressTargets.addressId, g.id));
      if (targets.length === 1) out.push(g.address);
    }
    return out.sort();
  }

  /** A mailbox by its id (the mail store's user id), or null. */
  async mailboxById(id: string): Promise<MailboxRow | null> {
    const [mb] = await this.db.select().from(mailboxes).where(eq(mailboxes.id, id));
    return mb ?? null;
  }

  /** Removed and expired mailboxes cannot log in. */
  mayLogIn(mb: MailboxRow): boolean {
    return mb.state === 'active' && !isExpired(mb.expiresOn, this.options.timezone, this.#now());
  }

  /** The CRAM-MD5 secret of a mailbox, or null when CRAM-MD5 is off or the mailbox may not log in. */
  cramSecretOf(mb: MailboxRow): string | null {
    if (!this.options.cramMd5 || !mb.cramSecret || !this.mayLogIn(mb)) return null;
    return this.options.key.decrypt(mb.cramSecret);
  }

  // ---------------------------------------------------------------- audit

  async listAudit(
    actor: Actor,
    opts: { domain?: string; limit?: number } = {},
  ): Promise<Array<typeof auditLog.$inferSelect>> {
    let domain: string | undefined;
    if (opts.domain !== undefined) {
      try {
        domain = normaliseDomain(opts.domain);
      } catch (err) {
        toInvalid(err);
      }
      requireDomain(actor, domain);
    } else requireOperator(actor, 'read the whole audit log');
    return this.db
      .select()
      .from(auditLog)
      .where(domain ? eq(auditLog.domain, domain) : undefined)
      .orderBy(desc(auditLog.id))
      .limit(Math.min(opts.limit ?? 100, 10_000));
  }
}
