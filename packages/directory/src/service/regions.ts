/** Regions: one appliance each; a domain's mail lives in its region. Operators add them. */
import { asc, eq } from 'drizzle-orm';
import { invalid } from '../errors.js';
import { regions } from '../schema.js';
import { requireOperator } from '../scope.js';
import { type DirectoryContext, newId } from './context.js';
import type { ChangeContext } from './writer.js';

export async function listRegions(ctx: DirectoryContext): Promise<Array<{ name: string; title: string }>> {
  const rows = await ctx.db.select().from(regions).orderBy(asc(regions.name));
  return rows.map((r) => ({ name: r.name, title: r.title }));
}

async function insertRegion(
  ctx: DirectoryContext,
  change: ChangeContext,
  name: string,
  title: string | undefined,
): Promise<void> {
  await change.commit({ action: 'region.add', target: name, domain: null }, async (tx) => {
    await tx.insert(regions).values({ id: newId(), name, title: title ?? name, createdAt: ctx.nowIso() });
    return { result: undefined };
  });
}

/** `region.add`: a new region (operators). */
export async function addRegion(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { name: string; title?: string },
): Promise<void> {
  requireOperator(change.actor, 'add regions');
  if (!/^[a-z0-9-]{1,32}$/.test(input.name))
    throw invalid(`invalid region id "${input.name}": use a-z, 0-9 and -`);
  await insertRegion(ctx, change, input.name, input.title);
}

/** `region.ensure`: the appliance's own region, added at the writer's start when missing. */
export async function ensureRegion(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { name: string; title?: string },
): Promise<void> {
  requireOperator(change.actor, 'add regions');
  const [row] = await ctx.db.select().from(regions).where(eq(regions.name, input.name));
  if (!row) await insertRegion(ctx, change, input.name, input.title);
}
