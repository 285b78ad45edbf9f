/** Aliases: GET/POST /api/v1/domains/:domain/aliases, DELETE .../aliases/:address. */
import type { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { apiNewAlias } from '../schemas.js';
import { addressApi } from './address-routes.js';

export function aliasApi(deps: Deps): Hono<AppEnv> {
  return addressApi(deps, {
    section: 'aliases',
    kinds: ['generated', 'manual', 'legacy'],
    schema: apiNewAlias,
    add: (deps, actor, address, req) => deps.directory.addAlias(actor, address(req.alias), req.targets),
  });
}
