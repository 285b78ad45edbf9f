/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Operators: GET /regions. */
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { operatorActor } from '../guard.js';
import { tr } from '../i18n/index.js';
import { render } from '../render.js';
import { RegionsPage } from '../views/operator.js';

export function regionRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/regions', async (c) => {
    await operatorActor(c, deps);
    const regions = await deps.directory.listRegions();
    return render(
      c,
      deps,
      { title: tr(c)('regions.title'), help: 'regions', section: 'regions' },
      <RegionsPage regions={regions} current={deps.region} />,
    );
  });
  return app;
}
