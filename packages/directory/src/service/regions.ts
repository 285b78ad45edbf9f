/** Regions: one appliance each; a domain's mail lives in its region. Operators add them. */
import { asc, desc, eq } from 'drizzle-orm';
import { conflict, invalid, notFound } from '../errors.js';
import { federationWriter, regions } from '../schema.js';
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

/**
 * The writer region the replica names (decision 0011): the newest `federation_writer` row; null when the
 * writer role never moved (the region file's `federation.writer` is the writer then) or before migration
 * 0004 reached this replica.
 */
export async function recordedWriter(ctx: Pick<DirectoryContext, 'db'>): Promise<string | null> {
  try {
    const [row] = await ctx.db.select().from(federationWriter).orderBy(desc(federationWriter.id)).limit(1);
    return row?.region ?? null;
  } catch {
    return null; // the table is not there yet (the writer's migration has not replicated)
  }
}

/**
 * `federation.writer`: moves the writer role to `region` (operators). Applied, like every change, by the
 * current writer, which records it and pushes it before confirming; from then on every region routes
 * changes to the region named here. `initial` is the caller's `federation.writer` (the writer while no
 * move is recorded).
 */
export async function setWriterRegion(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { region: string; initial: string },
): Promise<{ region: string; previous: string }> {
  requireOperator(change.actor, 'move the writer role');
  const [known] = await ctx.db.select().from(regions).where(eq(regions.name, input.region));
  if (!known) throw notFound(`no region ${input.region} in the directory (region add, or start it once)`);
  const previous = (await recordedWriter(ctx)) ?? input.initial;
  if (previous === input.region) throw conflict(`${input.region} is already the writer region`);
  return change.commit({ action: 'federation.writer', target: input.region, domain: null }, async (tx) => {
    await tx.insert(federationWriter).values({
      id: newId(),
      region: input.region,
      previous,
      setBy: change.actor.name,
      setAt: ctx.nowIso(),
    });
    return { result: { region: input.region, previous } };
  });
}
