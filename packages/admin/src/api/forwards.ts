/** Addresses for remote mailboxes: GET/POST /api/v1/domains/:domain/forwards, DELETE .../forwards/:address. */
import type { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { apiNewForward } from '../schemas.js';
import { addressApi } from './address-routes.js';

export function forwardApi(deps: Deps): Hono<AppEnv> {
  return addressApi(deps, {
    section: 'forwards',
    kinds: ['forward'],
    schema: apiNewForward,
    add: (deps, actor, address, req) => deps.directory.addForward(actor, address(req.address), req.remote),
  });
}
