/**
 * Issue 19's CSV import of aliases and of a built-in list's members in the JSON API (docs/api.md):
 *
 *   POST /domains/:domain/aliases/import                     { rows: [{address, targets}] } | { csv }
 *   POST /domains/:domain/mailing-lists/:address/members/import   { addresses: [...] } | { csv }
 *   GET  /domains/:domain/mailing-lists/:address/members.csv
 *
 * Both imports take `dryRun` (the checked rows, nothing written) and `skipLines`; any wrong row that is
 * not skipped: 422 with every row, nothing imported. Rows given as JSON are numbered from 1 in order.
 * The scope is checked by the directory (the domain, the list) before any row is looked at.
 */
import { membersCsv, readAliasCsv, readMemberCsv } from '@delegato/directory';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Deps } from '../env.js';
import { addressIn, apiActor, body } from './common.js';

const MAX_ROWS = 5000;
const common = {
  dryRun: z.boolean().optional(),
  skipLines: z.array(z.number().int().min(1)).max(10_000).optional(),
};
const csvBody = z.object({ csv: z.string().max(5 * 1024 * 1024), ...common }).strict();

export const aliasImportBody = z.union([
  z
    .object({
      rows: z
        .array(
          z
            .object({
              address: z.string().min(1).max(320),
              targets: z.array(z.string().min(1).max(320)).min(1).max(100),
            })
            .strict(),
        )
        .min(1)
        .max(MAX_ROWS),
      ...common,
    })
    .strict(),
  csvBody,
]);

export const memberImportBody = z.union([
  z.object({ addresses: z.array(z.string().min(1).max(320)).min(1).max(MAX_ROWS), ...common }).strict(),
  csvBody,
]);

/** 422 with the plan when a row is wrong, else the plan with what was done. */
function refused(plan: { errorLines: number[] }) {
  return {
    ...plan,
    error: 'invalid',
    message: `nothing imported: rows with errors: lines ${plan.errorLines.join(', ')}`,
  };
}

export function addressImportApi(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/domains/:domain/aliases/import', async (c) => {
    const actor = await apiActor(c, deps);
    const domain = c.req.param('domain');
    const req = await body(c, aliasImportBody);
    const skip = new Set(req.skipLines ?? []);
    const all = 'csv' in req ? readAliasCsv(req.csv) : req.rows.map((r, i) => ({ line: i + 1, ...r }));
    const rows = all.filter((r) => !skip.has(r.line));
    const plan = await deps.directory.planAliasImport(actor, domain, rows);
    if (req.dryRun) return c.json({ ...plan, imported: [] });
    if (plan.errorLines.length > 0) return c.json({ ...refused(plan), imported: [] }, 422);
    const done = await deps.directory.importAliases(actor, domain, rows);
    return c.json({ ...plan, imported: done.aliases }, 201);
  });

  app.post('/domains/:domain/mailing-lists/:address/members/import', async (c) => {
    const actor = await apiActor(c, deps);
    const list = (await deps.directory.getList(actor, addressIn(c, actor))).address;
    const req = await body(c, memberImportBody);
    const skip = new Set(req.skipLines ?? []);
    const all =
      'csv' in req ? readMemberCsv(req.csv) : req.addresses.map((address, i) => ({ line: i + 1, address }));
    const rows = all.filter((r) => !skip.has(r.line));
    const plan = await deps.directory.planMemberImport(actor, list, rows);
    if (req.dryRun) return c.json({ ...plan, added: [] });
    if (plan.errorLines.length > 0) return c.json({ ...refused(plan), added: [] }, 422);
    const done = await deps.directory.importListMembers(actor, list, rows);
    return c.json({ ...plan, added: done.added }, 201);
  });

  app.get('/domains/:domain/mailing-lists/:address/members.csv', async (c) => {
    const actor = await apiActor(c, deps);
    const view = await deps.directory.getList(actor, addressIn(c, actor));
    c.header('Content-Type', 'text/csv; charset=utf-8');
    return c.body(membersCsv(view.members));
  });

  return app;
}
