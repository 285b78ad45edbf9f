/** The audit log: GET /api/v1/audit[?domain=&limit=] (operators; domain admins with `domain`). */
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { apiActor, limitOf } from './common.js';

export function auditApi(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/audit', async (c) => {
    const actor = await apiActor(c, deps);
    const domain = c.req.query('domain');
    return c.json(
      await deps.directory.listAudit(actor, { limit: limitOf(c), ...(domain ? { domain } : {}) }),
    );
  });

  return app;
}
