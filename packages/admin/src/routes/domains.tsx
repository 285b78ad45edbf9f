/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Operators: GET /domains, POST /domains, POST /domains/:domain/remove. */
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { directoryStatus, isFixableByUser } from '../errors.js';
import { type FieldErrors, type FormValues, readForm, validate } from '../forms.js';
import { type Ctx, operatorActor } from '../guard.js';
import { tr } from '../i18n/index.js';
import { csrfOf, flash, render } from '../render.js';
import { domainForm, removeDomainForm } from '../schemas.js';
import { DomainsPage } from '../views/operator.js';

export function domainRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const page = async (
    c: Ctx,
    extra: { values?: FormValues; errors?: FieldErrors; formError?: string } = {},
    status: 200 | 400 | 409 = 200,
  ) => {
    const actor = await operatorActor(c, deps);
    const [domains, regions] = await Promise.all([
      deps.directory.listDomains(actor),
      deps.directory.listRegions(),
    ]);
    return render(
      c,
      deps,
      { title: tr(c)('domains.title'), help: 'domains', section: 'domains' },
      <DomainsPage
        csrf={csrfOf(c)}
        domains={domains}
        regions={regions}
        defaultRegion={deps.region}
        {...extra}
      />,
      status,
    );
  };

  app.get('/domains', (c) => page(c));

  app.post('/domains', async (c) => {
    const actor = await operatorActor(c, deps);
    const form = validate(domainForm, await readForm(c));
    if (!form.ok) return page(c, { values: form.values, errors: form.errors }, 400);
    try {
      const added = await deps.directory.addDomain(actor, form.data.domain, {
        ...(form.data.region ? { region: form.data.region } : {}),
      });
      flash(c, {
        kind: 'ok',
        text: tr(c)('domains.addedFlash', { domain: added.name, region: added.region }),
      });
      return c.redirect('/domains', 303);
    } catch (err) {
      if (!isFixableByUser(err)) throw err;
      const status = directoryStatus(err) === 409 ? 409 : 400;
      return page(c, { values: form.values, errors: { domain: err.message } }, status);
    }
  });

  app.post('/domains/:domain/remove', async (c) => {
    const actor = await operatorActor(c, deps);
    const form = validate(removeDomainForm, await readForm(c));
    const force = form.ok && form.data.force !== undefined && form.data.force !== '';
    const domain = c.req.param('domain');
    const removed = await deps.directory.removeDomain(actor, domain, { force });
    flash(c, {
      kind: 'ok',
      text:
        removed.mailboxIds.length > 0
          ? tr(c)('domains.removedWithFlash', { domain, count: removed.mailboxIds.length })
          : tr(c)('domains.removedFlash', { domain }),
    });
    return c.redirect('/domains', 303);
  });

  return app;
}
