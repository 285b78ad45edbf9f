/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Addresses for remote mailboxes: GET/POST /d/:domain/forwards, POST /d/:domain/forwards/:address/remove. */
import type { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { inDomain } from '../guard.js';
import { forwardForm } from '../schemas.js';
import { ForwardsPage } from '../views/addresses.js';
import { addressRoutes } from './address-routes.js';

export function forwardRoutes(deps: Deps): Hono<AppEnv> {
  return addressRoutes(deps, {
    section: 'forwards',
    title: 'forwards.section',
    help: 'forwards',
    kinds: ['forward'],
    schema: forwardForm,
    Page: ForwardsPage,
    add: async (deps, actor, domain, data, t) => {
      const added = await deps.directory.addForward(
        actor,
        inDomain(data.address, domain),
        data.remote.trim(),
      );
      return t('forwards.added', { address: added.address, targets: added.targets.join(', ') });
    },
    fields: ['address', 'remote'],
  });
}
