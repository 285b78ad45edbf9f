/**
 * Hosted domains: added and removed by operators; every admin sees the domains they manage. Each domain
 * has its postmaster@ role mailbox from the start (RFC 5321 §4.5.1).
 */
import { asc, count, eq, inArray } from 'drizzle-orm';
import { conflict, duplicate, notFound } from '../errors.js';
import {
  addresses,
  addressTargets,
  adminDomains,
  dkimKeys,
  domains,
  groups,
  mailboxes,
  regions,
} from '../schema.js';
import { type Actor, requireOperator, visibleDomains } from '../scope.js';
import { mayAddSubdomain } from './admin-scope.js';
import { type DirectoryContext, domainName, domainRow, newId, POSTMASTER } from './context.js';
import { generateDkimKeys, insertDkimKeys } from './dkim.js';
import { dropEmptyAliases, insertMailbox } from './rows.js';
import type { ChangeContext } from './writer.js';

/** `domain.add`: a domain homed in `region` (default: this appliance's), with its postmaster@. */
export async function addDomain(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { domain: string; region?: string },
): Promise<{ name: string; region: string }> {
  // Issue 19: an admin of a domain "with its sub-domains" adds sub-domains of it (admin-scope.ts); anyone
  // else but an operator is refused before the name is even looked at.
  if (!(await mayAddSubdomain(ctx.db, change.actor, input.domain)))
    requireOperator(change.actor, 'add domains');
  const name = domainName(input.domain);
  const regionName = input.region ?? ctx.options.regionId;
  const [region] = await ctx.db.select().from(regions).where(eq(regions.name, regionName));
  if (!region) throw notFound(`unknown region ${regionName}`);
  const [existing] = await ctx.db.select().from(domains).where(eq(domains.name, name));
  if (existing) throw duplicate(`domain ${name} already exists`);
  const now = ctx.nowIso();
  // DKIM keys (issue 18): created with the domain, generated before the transaction.
  const dkim = await generateDkimKeys(ctx.options.key, ctx.now());
  return change.commit({ action: 'domain.add', target: name, domain: name }, async (tx) => {
    const domainId = newId();
    await tx
      .insert(domains)
      .values({ id: domainId, name, regionId: region.id, createdAt: now, updatedAt: now });
    await insertDkimKeys(tx, domainId, dkim, 'active', now);
    // RFC 5321 §4.5.1: every domain accepts postmaster@. A role mailbox nobody logs into until an
    // admin sets its password.
    await insertMailbox(tx, ctx.nowIso(), {
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

/** The domains the actor may see, with their region and number of active mailboxes. */
export async function listDomains(
  ctx: DirectoryContext,
  actor: Actor,
): Promise<Array<{ name: string; region: string; mailboxes: number; createdAt: string }>> {
  const scope = visibleDomains(actor);
  if (scope !== null && scope.length === 0) return [];
  const rows = await ctx.db
    .select({
      id: domains.id,
      name: domains.name,
      regionId: domains.regionId,
      createdAt: domains.createdAt,
    })
    .from(domains)
    .where(scope === null ? undefined : inArray(domains.name, [...scope]))
    .orderBy(asc(domains.name));
  const counts = await ctx.db
    .select({ domainId: mailboxes.domainId, n: count() })
    .from(mailboxes)
    .where(eq(mailboxes.state, 'active'))
    .groupBy(mailboxes.domainId);
  const byDomain = new Map(counts.map((c) => [c.domainId, c.n]));
  const out = [];
  for (const r of rows) {
    out.push({
      name: r.name,
      region: await ctx.regionName(r.regionId),
      mailboxes: byDomain.get(r.id) ?? 0,
      createdAt: r.createdAt,
    });
  }
  return out;
}

/**
 * `domain.remove`: a domain with everything in it. A domain that still has mailboxes other than
 * postmaster@ needs `force`. Returns the mailbox ids whose mail the mail store must purge.
 */
export async function removeDomain(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { domain: string; force?: boolean },
): Promise<{ mailboxIds: string[] }> {
  requireOperator(change.actor, 'remove domains');
  const name = domainName(input.domain);
  const domain = await domainRow(ctx.db, name);
  const boxes = await ctx.db
    .select({ id: mailboxes.id, localPart: mailboxes.localPart })
    .from(mailboxes)
    .where(eq(mailboxes.domainId, domain.id));
  const others = boxes.filter((b) => b.localPart !== POSTMASTER);
  if (others.length > 0 && !input.force) {
    throw conflict(
      `domain ${name} still has ${others.length} mailbox${others.length === 1 ? '' : 'es'}; use --force to remove it with all of them`,
    );
  }
  return change.commit({ action: 'domain.remove', target: name, domain: name }, async (tx) => {
    const addressIds = (
      await tx.select({ id: addresses.id }).from(addresses).where(eq(addresses.domainId, domain.id))
    ).map((r) => r.id);
    const boxIds = boxes.map((b) => b.id);
    if (addressIds.length > 0)
      await tx.delete(addressTargets).where(inArray(addressTargets.addressId, addressIds));
    if (boxIds.length > 0)
      await tx.delete(addressTargets).where(inArray(addressTargets.targetMailboxId, boxIds));
    await dropEmptyAliases(tx);
    await tx.delete(addresses).where(eq(addresses.domainId, domain.id));
    await tx.delete(mailboxes).where(eq(mailboxes.domainId, domain.id));
    await tx.delete(groups).where(eq(groups.domainId, domain.id));
    await tx.delete(adminDomains).where(eq(adminDomains.domainId, domain.id));
    await tx.delete(dkimKeys).where(eq(dkimKeys.domainId, domain.id));
    await tx.delete(domains).where(eq(domains.id, domain.id));
    return {
      result: { mailboxIds: boxIds },
      details: { mailboxes: boxIds.length, force: !!input.force },
      accounts: boxIds,
    };
  });
}
