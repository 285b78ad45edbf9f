/** List aliases: GET/POST /api/v1/domains/:domain/lists, DELETE .../lists/:address. */
import type { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { apiNewList } from '../schemas.js';
import { addressApi } from './address-routes.js';

export function listApi(deps: Deps): Hono<AppEnv> {
  return addressApi(deps, {
    section: 'lists',
    kinds: ['list'],
    schema: apiNewList,
    add: (deps, actor, address, req) =>
      deps.directory.addListAlias(actor, address(req.address), req.listServer),
  });
}
