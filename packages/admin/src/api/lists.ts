/**
 * List aliases (mail to a list server elsewhere): GET/POST /api/v1/domains/:domain/lists, DELETE
 * .../lists/:address; built-in lists under .../mailing-lists (mailing-lists.ts), mounted here too.
 */
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { apiNewList } from '../schemas.js';
import { addressApi } from './address-routes.js';
import { mailingListApi } from './mailing-lists.js';

export function listApi(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.route('/', mailingListApi(deps));
  app.route('/', aliasListApi(deps));
  return app;
}

function aliasListApi(deps: Deps): Hono<AppEnv> {
  return addressApi(deps, {
    section: 'lists',
    kinds: ['list'],
    schema: apiNewList,
    add: (deps, actor, address, req) =>
      deps.directory.addListAlias(actor, address(req.address), req.listServer),
  });
}
