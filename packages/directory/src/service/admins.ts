/**
 * Administrators and their scopes: operators (everything) and domain admins (their domains only, see
 * ../scope.ts), and the per-admin access restrictions (allowed networks, pinned client-certificate
 * fingerprint; ../access.ts). Operators manage admins; passwords and TOTP are in passwords.ts.
 */
import { asc, count, eq } from 'drizzle-orm';
import { normaliseFingerprint, normaliseNetworks } from '../access.js';
import { checkPasswordPolicy, hashPassword } from '../credentials.js';
import { conflict, duplicate, invalid, notFound } from '../errors.js';
import { checkPasswordFor } from '../password-policy.js';
import { adminDomains, admins, domains } from '../schema.js';
import { type Actor, requireOperator } from '../scope.js';
import { type DirectoryContext, domainName, domainRow, newId } from './context.js';
import type { ChangeContext } from './writer.js';

const ADMIN_USERNAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

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

/** An admin's row by username as typed (trimmed, lowercase); `not-found` when missing. */
export async function adminRow(ctx: DirectoryContext, usernameInput: string) {
  const username = usernameInput.trim().toLowerCase();
  const [row] = await ctx.db.select().from(admins).where(eq(admins.username, username));
  if (!row) throw notFound(`no admin ${username}`);
  return row;
}

export async function hasOperator(ctx: DirectoryContext): Promise<boolean> {
  const [row] = await ctx.db.select({ n: count() }).from(admins).where(eq(admins.role, 'operator'));
  return (row?.n ?? 0) > 0;
}

/** `admin.add`: an operator, or a domain admin of at least one domain (operators only). */
export async function addAdmin(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { username: string; role: 'operator' | 'domain-admin'; domains?: string[]; password: string },
): Promise<{ username: string; role: string; domains: string[] }> {
  requireOperator(change.actor, 'add administrators');
  const username = input.username.trim().toLowerCase();
  if (!ADMIN_USERNAME.test(username)) {
    throw invalid(`invalid admin username "${input.username}": use a-z, 0-9, and . _ @ - (at most 64)`);
  }
  const domainNames = [...new Set((input.domains ?? []).map(domainName))];
  if (input.role === 'domain-admin' && domainNames.length === 0) {
    throw invalid('a domain administrator needs at least one domain (--domains d1,d2)');
  }
  if (input.role === 'operator' && domainNames.length > 0)
    throw invalid('an operator manages every domain: no --domains');
  const domainRows: Array<typeof domains.$inferSelect> = [];
  for (const d of domainNames) domainRows.push(await domainRow(ctx.db, d));
  const [existing] = await ctx.db.select().from(admins).where(eq(admins.username, username));
  if (existing) throw duplicate(`admin ${username} already exists`);
  checkPasswordPolicy(input.password);
  checkPasswordFor(input.password, {});
  const passwordHash = await hashPassword(input.password);
  return change.commit({ action: 'admin.add', target: username, domain: null }, async (tx) => {
    const now = ctx.nowIso();
    const id = newId();
    await tx
      .insert(admins)
      .values({ id, username, role: input.role, passwordHash, createdAt: now, updatedAt: now });
    for (const d of domainRows) {
      await tx.insert(adminDomains).values({ id: newId(), adminId: id, domainId: d.id, createdAt: now });
    }
    return {
      result: { username, role: input.role, domains: domainNames },
      details: { role: input.role, domains: domainNames },
    };
  });
}

export async function listAdmins(ctx: DirectoryContext, actor: Actor): Promise<AdminView[]> {
  requireOperator(actor, 'list administrators');
  const rows = await ctx.db.select().from(admins).orderBy(asc(admins.username));
  const links = await ctx.db
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
export async function getAdmin(
  ctx: DirectoryContext,
  actor: Actor,
  usernameInput: string,
): Promise<AdminView> {
  requireOperator(actor, 'read administrators');
  const username = usernameInput.trim().toLowerCase();
  const found = (await listAdmins(ctx, actor)).find((a) => a.username === username);
  if (!found) throw notFound(`no admin ${username}`);
  return found;
}

/**
 * `admin.access`: an admin's access restrictions (operators only, also for their own account): the
 * networks they may connect from (`[]` or null: any) and the SHA-256 fingerprint of the TLS client
 * certificate they must present (null: none). A field left undefined is kept. Returns the admin as
 * changed.
 */
export async function setAdminAccess(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { username: string; allowedNetworks?: readonly string[] | null; certFingerprint?: string | null },
): Promise<AdminView> {
  requireOperator(change.actor, "change administrators' access restrictions");
  const row = await adminRow(ctx, input.username);
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
  await change.commit({ action: 'admin.access', target: row.username, domain: null }, async (tx) => {
    await tx
      .update(admins)
      .set({ ...set, updatedAt: ctx.nowIso() })
      .where(eq(admins.id, row.id));
    return { result: undefined, details };
  });
  return getAdmin(ctx, change.actor, row.username);
}

/** `admin.remove`: any admin but the last operator (operators only). */
export async function removeAdmin(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { username: string },
): Promise<void> {
  requireOperator(change.actor, 'remove administrators');
  const row = await adminRow(ctx, input.username);
  if (row.role === 'operator') {
    const [ops] = await ctx.db.select({ n: count() }).from(admins).where(eq(admins.role, 'operator'));
    if ((ops?.n ?? 0) <= 1) throw conflict(`${row.username} is the last operator and cannot be removed`);
  }
  await change.commit({ action: 'admin.remove', target: row.username, domain: null }, async (tx) => {
    await tx.delete(adminDomains).where(eq(adminDomains.adminId, row.id));
    await tx.delete(admins).where(eq(admins.id, row.id));
    return { result: undefined };
  });
}

/** An admin's role, without any access check (for the audit log); null when there is no such admin. */
export async function adminRole(
  ctx: DirectoryContext,
  usernameInput: string,
): Promise<'operator' | 'domain-admin' | null> {
  const [row] = await ctx.db
    .select({ role: admins.role })
    .from(admins)
    .where(eq(admins.username, usernameInput.trim().toLowerCase()));
  return row?.role ?? null;
}
