/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Aliases: GET/POST /d/:domain/aliases, POST /d/:domain/aliases/:address/remove. */
import type { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { inDomain } from '../guard.js';
import { aliasForm } from '../schemas.js';
import { AliasesPage } from '../views/addresses.js';
import { addressRoutes } from './address-routes.js';

export function aliasRoutes(deps: Deps): Hono<AppEnv> {
  return addressRoutes(deps, {
    section: 'aliases',
    title: 'aliases.section',
    help: 'aliases',
    kinds: ['generated', 'manual', 'legacy'],
    schema: aliasForm,
    Page: AliasesPage,
    add: async (deps, actor, domain, data, t) => {
      const added = await deps.directory.addAlias(
        actor,
        inDomain(data.alias, domain),
        data.targets.map((t) => inDomain(t, domain)),
      );
      return t('aliases.added', { address: added.address, targets: added.targets.join(', ') });
    },
    fields: ['alias', 'targets'],
  });
}
