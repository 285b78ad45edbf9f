/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * Lists: distribution-list aliases (mail to a list server elsewhere: GET/POST /d/:domain/lists, POST
 * /d/:domain/lists/:address/remove), and built-in lists under /d/:domain/mailing-lists
 * (mailing-lists.tsx); the owners' pages under /me/lists (me-lists.tsx). All mounted here.
 */
import { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { AppEnv, Deps } from '../env.js';
import { inDomain } from '../guard.js';
import { useT } from '../i18n/index.js';
import { listForm } from '../schemas.js';
import { ListsPage } from '../views/addresses.js';
import { addressRoutes } from './address-routes.js';
import { mailingListRoutes } from './mailing-lists.js';
import { meListRoutes } from './me-lists.js';

/** The list aliases' page, with the way to the built-in lists above it. */
const AliasListsPage: FC<Parameters<typeof ListsPage>[0]> = (p) => {
  const t = useT();
  return (
    <>
      <p class="notice">
        {t('lists.aliasNotice')}{' '}
        <a href={`/d/${encodeURIComponent(p.domain)}/mailing-lists`}>{t('lists.aliasNoticeLink')}</a>.
      </p>
      <ListsPage {...p} />
    </>
  );
};

export function listRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.route('/', mailingListRoutes(deps));
  app.route('/', meListRoutes(deps));
  app.route('/', aliasListRoutes(deps));
  return app;
}

function aliasListRoutes(deps: Deps): Hono<AppEnv> {
  return addressRoutes(deps, {
    section: 'lists',
    title: 'listAliases.section',
    help: 'lists',
    kinds: ['list'],
    schema: listForm,
    Page: AliasListsPage,
    add: async (deps, actor, domain, data, t) => {
      const added = await deps.directory.addListAlias(
        actor,
        inDomain(data.address, domain),
        data.listServer.trim(),
      );
      return t('listAliases.added', { address: added.address, targets: added.targets.join(', ') });
    },
    fields: ['address', 'listServer'],
  });
}
