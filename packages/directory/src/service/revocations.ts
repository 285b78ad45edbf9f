/**
 * Revoked region certificates (decision 0013). The federation CA is private and has no CRL: a region whose
 * certificate or key may be compromised, or that leaves the federation, is revoked in the directory, which
 * every region reads. `federation.revoke` appends a row (operators, applied at the writer like every
 * change); from then on every region refuses that region's certificates issued at or before the row's
 * time on the federation channel. A certificate issued for the region later is accepted again.
 */
import { asc, eq } from 'drizzle-orm';
import { conflict, invalid, notFound } from '../errors.js';
import { federationRevocations, regions } from '../schema.js';
import { requireOperator } from '../scope.js';
import { type DirectoryContext, newId } from './context.js';
import { recordedWriter } from './regions.js';
import type { ChangeContext } from './writer.js';

export interface Revocation {
  region: string;
  revokedAt: string;
  revokedBy: string;
  reason: string | null;
}

/** Every revocation, oldest first. */
export async function listRevocations(ctx: DirectoryContext): Promise<Revocation[]> {
  try {
    const rows = await ctx.db
      .select()
      .from(federationRevocations)
      .orderBy(asc(federationRevocations.revokedAt));
    return rows.map((r) => ({
      region: r.region,
      revokedAt: r.revokedAt,
      revokedBy: r.revokedBy,
      reason: r.reason,
    }));
  } catch {
    return []; // the writer's migration 0011 has not reached this replica yet
  }
}

/**
 * `federation.revoke`: revokes the certificates `region` holds now (operators). Refused for the writer
 * region (`initial`: the caller's `federation.writer`, the writer while no move is recorded): move the
 * role first, or the federation could not change its directory any more.
 */
export async function revokeRegion(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { region: string; initial: string; reason?: string },
): Promise<Revocation> {
  requireOperator(change.actor, 'revoke regions');
  const reason = input.reason?.trim() || null;
  if (reason !== null && reason.length > 200) throw invalid('the reason is longer than 200 characters');
  const [known] = await ctx.db.select().from(regions).where(eq(regions.name, input.region));
  if (!known) throw notFound(`no region ${input.region} in the directory`);
  const writer = (await recordedWriter(ctx)) ?? input.initial;
  if (writer === input.region)
    throw conflict(
      `${input.region} is the writer region: move the writer role first (delegato federation writer <region>, or --takeover at another region)`,
    );
  const revocation: Revocation = {
    region: input.region,
    revokedAt: ctx.nowIso(),
    revokedBy: change.actor.name,
    reason,
  };
  return change.commit({ action: 'federation.revoke', target: input.region, domain: null }, async (tx) => {
    await tx.insert(federationRevocations).values({ id: newId(), ...revocation });
    return { result: revocation, ...(reason ? { details: { reason } } : {}) };
  });
}
