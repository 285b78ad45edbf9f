/**
 * Which domains a domain administrator manages (issue 19): the operator sets them after creation
 * (`admin.domains`), and a domain may be given "with its sub-domains": the admin then manages every
 * domain under it, those that exist and those added later, and may add sub-domains of it themselves
 * (an organisation's admin adding its departments' domains). The scope check itself stays ../scope.ts:
 * the actor's domain list is expanded when it is built (login.ts).
 */
import { eq } from 'drizzle-orm';
import { normaliseDomain } from '../addressing/index.js';
import type { DirectoryDb } from '../engine.js';
import { invalid } from '../errors.js';
import { adminDomains, admins, domains } from '../schema.js';
import { type Actor, requireOperator } from '../scope.js';
import { adminRow } from './admins.js';
import { type DirectoryContext, domainName, domainRow, newId } from './context.js';
import type { ChangeContext } from './writer.js';

/** Every hosted domain under one of `roots` (not the roots themselves). */
async function domainsUnder(db: DirectoryDb, roots: readonly string[]): Promise<string[]> {
  if (roots.length === 0) return [];
  const all = await db.select({ name: domains.name }).from(domains);
  return all.map((d) => d.name).filter((n) => roots.some((r) => n.endsWith(`.${r}`)));
}

/** The domains whose sub-domains an admin also manages (by username). */
export async function subdomainRoots(db: DirectoryDb, adminId: string): Promise<string[]> {
  const rows = await db
    .select({ name: domains.name, sub: adminDomains.includeSubdomains })
    .from(adminDomains)
    .innerJoin(domains, eq(domains.id, adminDomains.domainId))
    .where(eq(adminDomains.adminId, adminId));
  return rows.filter((r) => r.sub === 1).map((r) => r.name);
}

/** `names` plus the hosted sub-domains of the admin's "with sub-domains" domains, sorted, once each. */
export async function withSubdomains(db: DirectoryDb, adminId: string, names: string[]): Promise<string[]> {
  const extra = await domainsUnder(db, await subdomainRoots(db, adminId));
  return [...new Set([...names, ...extra])].sort();
}

/** Whether `actor` (a domain admin) may add the domain typed as a sub-domain of one of their domains. */
export async function mayAddSubdomain(db: DirectoryDb, actor: Actor, input: string): Promise<boolean> {
  if (actor.kind !== 'domain-admin') return false;
  let domain: string;
  try {
    domain = normaliseDomain(input);
  } catch {
    return false;
  }
  const [row] = await db.select({ id: admins.id }).from(admins).where(eq(admins.username, actor.name));
  if (!row) return false;
  return (await subdomainRoots(db, row.id)).some((r) => domain.endsWith(`.${r}`));
}

/**
 * `admin.domains`: the domains of a domain administrator, replaced (operators only); those in
 * `withSubdomains` include their sub-domains.
 */
export async function setAdminDomains(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { username: string; domains: string[]; withSubdomains?: string[] },
): Promise<{ username: string; domains: string[]; withSubdomains: string[] }> {
  requireOperator(change.actor, "change administrators' domains");
  const row = await adminRow(ctx, input.username);
  if (row.role !== 'domain-admin') throw invalid(`${row.username} is an operator: every domain is theirs`);
  const names = [...new Set(input.domains.map(domainName))].sort();
  if (names.length === 0) throw invalid('a domain administrator needs at least one domain');
  const sub = new Set((input.withSubdomains ?? []).map(domainName));
  for (const s of sub) if (!names.includes(s)) throw invalid(`${s} is not one of the domains given`);
  const rows: Array<typeof domains.$inferSelect> = [];
  for (const n of names) rows.push(await domainRow(ctx.db, n));
  return change.commit({ action: 'admin.domains', target: row.username, domain: null }, async (tx) => {
    await tx.delete(adminDomains).where(eq(adminDomains.adminId, row.id));
    const now = ctx.nowIso();
    for (const d of rows) {
      await tx.insert(adminDomains).values({
        id: newId(),
        adminId: row.id,
        domainId: d.id,
        createdAt: now,
        includeSubdomains: sub.has(d.name) ? 1 : 0,
      });
    }
    const result = { username: row.username, domains: names, withSubdomains: [...sub].sort() };
    return { result, details: { domains: names, withSubdomains: result.withSubdomains } };
  });
}

/** The "with sub-domains" domains of an admin, by username (none for an unknown one). */
export async function subdomainRootsOf(ctx: DirectoryContext, username: string): Promise<string[]> {
  const [row] = await ctx.db.select({ id: admins.id }).from(admins).where(eq(admins.username, username));
  return row ? subdomainRoots(ctx.db, row.id) : [];
}
