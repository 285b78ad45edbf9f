/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** The start page: everybody is sent where their work is. */
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { adminActor, toLogin } from '../guard.js';
import { tr } from '../i18n/index.js';
import { render } from '../render.js';

export function homeRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', async (c) => {
    const session = c.get('session');
    if (!session?.principal) toLogin(c);
    if (session.principal.kind === 'mailbox') return c.redirect('/me', 303);
    const actor = await adminActor(c, deps);
    if (actor.kind !== 'domain-admin') return c.redirect('/domains', 303);
    const first = actor.domains[0];
    if (first) return c.redirect(`/d/${encodeURIComponent(first)}/mailboxes`, 303);
    return render(
      c,
      deps,
      { title: tr(c)('home.noDomains'), help: 'index' },
      <section>
        <h1>{tr(c)('home.noDomainsHeading')}</h1>
        <p>{tr(c)('home.noDomainsText')}</p>
      </section>,
    );
  });

  /** The domain selector (a plain GET form: it works without JavaScript). */
  app.get('/go', async (c) => {
    await adminActor(c, deps);
    const domain = c.req.query('domain') ?? '';
    if (!domain) return c.redirect('/', 303);
    return c.redirect(`/d/${encodeURIComponent(domain)}/mailboxes`, 303);
  });

  app.get('/d/:domain', (c) => c.redirect(`/d/${encodeURIComponent(c.req.param('domain'))}/mailboxes`, 303));

  return app;
}
