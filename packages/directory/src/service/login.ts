/**
 * Login: checking an admin's or a mailbox's password, building the admin's actor with the scope read
 * from the directory now (revocation is immediate), the admin's access restrictions, whether a session
 * is still valid (`sessions_valid_after`), and who may log in at all (removed and expired mailboxes may not).
 */

import { eq } from 'drizzle-orm';
import { inNetworks } from '../access.js';
import { verifyPassword, verifyWithoutAccount } from '../credentials.js';
import type { DirectoryDb } from '../engine.js';
import { DirectoryError } from '../errors.js';
import { isExpired } from '../expiry.js';
import { type MailboxRow, resolveLogin } from '../lookup.js';
import { adminDomains, admins, domains } from '../schema.js';
import type { Actor } from '../scope.js';
import { withSubdomains } from './admin-scope.js';
import type { DirectoryContext } from './context.js';
import { adminAccountKey, lockedUntil } from './lockouts.js';

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

/** Whether a session that began at `issuedAt` (ms) predates a `sessions_valid_after` stamp. */
function issuedBeforeStamp(stamp: string | null, issuedAt: number | undefined): boolean {
  return stamp !== null && issuedAt !== undefined && issuedAt < Date.parse(stamp);
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

/**
 * The actor for a signed-in admin, with the scope read from the directory now (revocation is
 * immediate); null when there is no such admin. Throws `forbidden` when the admin's access
 * restrictions refuse this client: `from` (the client's IP address) outside their allowed networks, or
 * a pinned certificate fingerprint that `client.certFingerprint` (the verified TLS client certificate of
 * the connection, if any) does not match. Null too for a session or token issued (`client.issuedAt`)
 * before the admin's password was last changed.
 */
export async function actorForAdmin(
  ctx: DirectoryContext,
  usernameInput: string,
  from: string,
  client: AdminClient = {},
): Promise<Actor | null> {
  const username = usernameInput.trim().toLowerCase();
  const [row] = await ctx.db.select().from(admins).where(eq(admins.username, username));
  if (!row) return null;
  if (issuedBeforeStamp(row.sessionsValidAfter, client.issuedAt)) return null;
  const refusal = accessRefusal(row, from, client);
  if (refusal) throw new AdminAccessDenied(row.username, refusal, from);
  if (row.role === 'operator') return { kind: 'operator', name: row.username, from };
  // Issue 19: a domain given "with its sub-domains" brings every hosted domain under it (admin-scope.ts).
  const names = await withSubdomains(ctx.db, row.id, await adminDomainNames(ctx.db, row.id));
  return { kind: 'domain-admin', name: row.username, domains: names, from };
}

/** The names of the domains an admin manages, sorted (the scope of a domain admin's actor). */
export async function adminDomainNames(db: DirectoryDb, adminId: string): Promise<string[]> {
  const links = await db
    .select({ name: domains.name })
    .from(adminDomains)
    .innerJoin(domains, eq(domains.id, adminDomains.domainId))
    .where(eq(adminDomains.adminId, adminId));
  return links.map((l) => l.name).sort();
}

/**
 * Checks an admin's password; returns the actor on success. The access restrictions are checked after
 * the password (an `AdminAccessDenied` then), so a refused client learns nothing about the account
 * unless the password was right.
 */
export async function authenticateAdmin(
  ctx: DirectoryContext,
  username: string,
  password: string,
  from: string,
  client: AdminClient = {},
): Promise<Actor | null> {
  const [row] = await ctx.db.select().from(admins).where(eq(admins.username, username.trim().toLowerCase()));
  // An unknown name costs one verification too: the timing must not tell which admins exist.
  if (!row) return verifyWithoutAccount(password).then(() => null);
  // Locked out in another region (lockouts.ts): answered like a wrong password, at the same cost.
  const locked = (await lockedUntil(ctx, adminAccountKey(row.username))) !== null;
  if (!(await verifyPassword(row.passwordHash, password)) || locked) return null;
  const { issuedAt: _fresh, ...connection } = client;
  return actorForAdmin(ctx, row.username, from, connection);
}

/** Removed and expired mailboxes cannot log in. */
export function mayLogIn(ctx: DirectoryContext, mb: MailboxRow): boolean {
  return mb.state === 'active' && !isExpired(mb.expiresOn, ctx.options.timezone, ctx.now());
}

/**
 * Checks a mailbox login: the mailbox must exist, be active, not expired, and have a password.
 * Returns the official address on success.
 */
export async function authenticateMailbox(
  ctx: DirectoryContext,
  login: string,
  password: string,
): Promise<{ address: string; mailboxId: string } | null> {
  const mb = await resolveLogin(ctx.db, login);
  // Unknown, removed, expired or password-less: one verification all the same (no timing difference).
  if (!mb || !mayLogIn(ctx, mb) || !mb.passwordHash) return verifyWithoutAccount(password).then(() => null);
  if (!(await verifyPassword(mb.passwordHash, password))) return null;
  return { address: mb.address, mailboxId: mb.id };
}

/**
 * Whether a mailbox's session that began at `issuedAt` (ms since the epoch) is still good: the mailbox
 * may log in, and its password has not changed since (`sessions_valid_after`).
 */
export function mailboxSessionValid(ctx: DirectoryContext, mb: MailboxRow, issuedAt: number): boolean {
  return mayLogIn(ctx, mb) && !issuedBeforeStamp(mb.sessionsValidAfter, issuedAt);
}

/** The CRAM-MD5 secret of a mailbox, or null when CRAM-MD5 is off or the mailbox may not log in. */
export function cramSecretOf(ctx: DirectoryContext, mb: MailboxRow): string | null {
  if (!ctx.options.cramMd5 || !mb.cramSecret || !mayLogIn(ctx, mb)) return null;
  return ctx.options.key.decrypt(mb.cramSecret);
}
