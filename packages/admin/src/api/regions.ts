/** Regions: GET /api/v1/regions. */
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { apiActor } from './common.js';

export function regionApi(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/regions', async (c) => {
    await apiActor(c, deps);
    return c.json(await deps.directory.listRegions());
  });

  return app;
}
