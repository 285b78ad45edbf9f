/**
 * The statistics in the JSON API: GET /api/v1/stats[?from=&to=] (operators: every domain of every region;
 * domain admins: their own domains) and GET /api/v1/domains/:domain/stats[?from=&to=] (that domain's
 * admins, operators). Answered `{ rows, unreachable }` (source.ts), with the same scope checks as the
 * pages: the source refuses another domain with 403.
 */
import { normaliseDomain } from '@delegato/directory';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { apiActor } from '../api/common.js';
import type { AppEnv, Deps } from '../env.js';
import { period } from './routes.js';
import type { OperationsSource } from './source.js';

export function operationsApi(deps: Deps, source: OperationsSource): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/stats', async (c) => {
    const actor = await apiActor(c, deps);
    return c.json(await source.stats(actor, period(c, source.today())));
  });

  app.get('/domains/:domain/stats', async (c) => {
    const actor = await apiActor(c, deps);
    let domain: string;
    try {
      domain = normaliseDomain(c.req.param('domain'));
    } catch {
      throw new HTTPException(404, { message: 'no such domain' });
    }
    return c.json(await source.stats(actor, { ...period(c, source.today()), domain }));
  });

  return app;
}
