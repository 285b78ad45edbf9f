/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Distribution-list aliases: GET/POST /d/:domain/lists, POST /d/:domain/lists/:address/remove. */
import type { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { inDomain } from '../guard.js';
import { listForm } from '../schemas.js';
import { ListsPage } from '../views/addresses.js';
import { addressRoutes } from './address-routes.js';

export function listRoutes(deps: Deps): Hono<AppEnv> {
  return addressRoutes(deps, {
    section: 'lists',
    title: 'Distribution lists',
    help: 'lists',
    kinds: ['list'],
    schema: listForm,
    Page: ListsPage,
    add: async (deps, actor, domain, data) => {
      const added = await deps.directory.addListAlias(
        actor,
        inDomain(data.address, domain),
        data.listServer.trim(),
      );
      return `${added.address} now goes to the list server address ${added.targets.join(', ')}.`;
    },
    fields: ['address', 'listServer'],
  });
}
