/**
 * Issue 19 in the JSON API (docs/api.md):
 * PUT /domains/:domain/mailboxes/:address/quota `{quotaBytes}` (null: none),
 * PATCH /domains/:domain/mailboxes/:address/details `{group?, contact?, flag?, kind?}`,
 * POST /domains/:domain/mailboxes/:address/restore,
 * POST /domains/:domain/import `{csv, dryRun?, passwords?, skipLines?}` (422 with every row when any is
 * wrong and not skipped: nothing imported), GET /domains/:domain/export/mailboxes.csv and /aliases.csv,
 * GET and PUT /domains/:domain/limits (PUT: operators).
 */
import { aliasesCsv, mailboxesCsv, readMailboxCsv } from '@delegato/directory';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv, Deps } from '../env.js';
import { addressIn, apiActor, body } from './common.js';

export const quotaBody = z.object({ quotaBytes: z.number().int().min(0).nullable() });
export const updateBody = z
  .object({
    group: z.string().max(256).nullable().optional(),
    contact: z.string().max(256).nullable().optional(),
    flag: z.string().max(256).nullable().optional(),
    kind: z.enum(['personal', 'role']).optional(),
  })
  .strict();
export const importBody = z
  .object({
    csv: z.string().max(5 * 1024 * 1024),
    dryRun: z.boolean().optional(),
    passwords: z.boolean().optional(),
    skipLines: z.array(z.number().int().min(1)).max(10_000).optional(),
  })
  .strict();
export const limitsBody = z
  .object({
    maxMailboxes: z.number().int().min(0).nullable(),
    maxQuotaBytes: z.number().int().min(0).nullable(),
  })
  .strict();

export function mailboxBulkApi(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.put('/domains/:domain/mailboxes/:address/quota', async (c) => {
    const actor = await apiActor(c, deps);
    const address = addressIn(c, actor);
    const req = await body(c, quotaBody);
    return c.json(await deps.directory.setQuota(actor, address, req.quotaBytes));
  });

  app.patch('/domains/:domain/mailboxes/:address/details', async (c) => {
    const actor = await apiActor(c, deps);
    const address = addressIn(c, actor);
    const req = await body(c, updateBody);
    return c.json(await deps.directory.updateMailbox(actor, { ...req, address }));
  });

  app.post('/domains/:domain/mailboxes/:address/restore', async (c) => {
    const actor = await apiActor(c, deps);
    const address = addressIn(c, actor);
    const r = await deps.directory.restoreMailbox(actor, address);
    return c.json({ address: r.address, aliases: r.aliases, skippedAliases: r.skippedAliases });
  });

  app.post('/domains/:domain/import', async (c) => {
    const actor = await apiActor(c, deps);
    const domain = c.req.param('domain');
    const req = await body(c, importBody);
    const skip = new Set(req.skipLines ?? []);
    const rows = readMailboxCsv(req.csv).filter((r) => !skip.has(r.line));
    const plan = await deps.directory.planImport(actor, domain, rows);
    if (req.dryRun) return c.json({ ...plan, imported: [] });
    if (plan.errorLines.length > 0 || plan.error) {
      return c.json(
        {
          ...plan,
          error: 'invalid',
          message: `nothing imported: ${plan.error ?? `rows with errors: lines ${plan.errorLines.join(', ')}`}`,
          imported: [],
        },
        422,
      );
    }
    const done = await deps.directory.importMailboxes(actor, domain, rows, {
      passwords: req.passwords === true,
    });
    return c.json({ ...plan, imported: done.imported }, 201);
  });

  app.get('/domains/:domain/export/mailboxes.csv', async (c) => {
    const actor = await apiActor(c, deps);
    const { mailboxes } = await deps.directory.listMailboxes(actor, c.req.param('domain'), { limit: 10_000 });
    c.header('Content-Type', 'text/csv; charset=utf-8');
    return c.body(mailboxesCsv(mailboxes));
  });

  app.get('/domains/:domain/export/aliases.csv', async (c) => {
    const actor = await apiActor(c, deps);
    c.header('Content-Type', 'text/csv; charset=utf-8');
    return c.body(aliasesCsv(await deps.directory.listAliases(actor, c.req.param('domain'))));
  });

  app.get('/domains/:domain/limits', async (c) => {
    const actor = await apiActor(c, deps);
    return c.json(await deps.directory.domainLimits(actor, c.req.param('domain')));
  });

  app.put('/domains/:domain/limits', async (c) => {
    const actor = await apiActor(c, deps);
    const req = await body(c, limitsBody);
    return c.json(await deps.directory.setDomainLimits(actor, c.req.param('domain'), req));
  });

  return app;
}
