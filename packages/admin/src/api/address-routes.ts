/**
 * The three address sections of the API share their shape, as the UI's do (routes/address-routes.tsx):
 * GET /api/v1/domains/:domain/<section> lists, POST adds, DELETE .../<section>/:address removes.
 * `aliases.ts`, `forwards.ts` and `lists.ts` are the three sub-apps built from this.
 */
import type { Actor, AliasView } from '@delegato/directory';
import { Hono } from 'hono';
import type { z } from 'zod';
import type { AppEnv, Deps } from '../env.js';
import { addressIn, apiActor, body, type Ctx } from './common.js';

export interface ApiAddressSection<S extends z.ZodType> {
  section: 'aliases' | 'forwards' | 'lists';
  kinds: AliasView['kind'][];
  schema: S;
  /** Adds it (`address` resolves the body's address in `:domain`); returns what the API answers. */
  add: (deps: Deps, actor: Actor, address: (input: string) => string, data: z.output<S>) => Promise<unknown>;
}

export function addressApi<S extends z.ZodType>(deps: Deps, s: ApiAddressSection<S>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get(`/domains/:domain/${s.section}`, async (c) => {
    const actor = await apiActor(c, deps);
    return c.json(await deps.directory.listAliases(actor, c.req.param('domain'), { kinds: [...s.kinds] }));
  });

  app.delete(`/domains/:domain/${s.section}/:address`, async (c) => {
    const actor = await apiActor(c, deps);
    const address = addressIn(c, actor);
    await deps.directory.removeAlias(actor, address);
    return c.json({ address, removed: true });
  });

  app.post(`/domains/:domain/${s.section}`, async (c: Ctx) => {
    const actor = await apiActor(c, deps);
    const req = await body(c, s.schema);
    return c.json(await s.add(deps, actor, (input) => addressIn(c, actor, input), req), 201);
  });

  return app;
}
