/** Domains: GET/POST /api/v1/domains, DELETE /api/v1/domains/:domain (`?force=true`). */
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { apiNewDomain } from '../schemas.js';
import { apiActor, body } from './common.js';

export function domainApi(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/domains', async (c) => {
    const actor = await apiActor(c, deps);
    return c.json(await deps.directory.listDomains(actor));
  });

  app.post('/domains', async (c) => {
    const actor = await apiActor(c, deps);
    const req = await body(c, apiNewDomain);
    const added = await deps.directory.addDomain(actor, req.name, req.region ? { region: req.region } : {});
    return c.json(added, 201);
  });

  app.delete('/domains/:domain', async (c) => {
    const actor = await apiActor(c, deps);
    const force = c.req.query('force') === 'true';
    const removed = await deps.directory.removeDomain(actor, c.req.param('domain'), { force });
    return c.json({ name: c.req.param('domain'), removed: true, mailboxes: removed.mailboxIds.length });
  });

  return app;
}
