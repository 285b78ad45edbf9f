/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * GET/POST /admins/:username/domains (operators, issue 19): the domains a domain administrator manages,
 * each with or without its sub-domains (the directory's `admin.domains`, service/admin-scope.ts).
 */
import { DirectoryError } from '@delegato/directory';
import { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { AppEnv, Deps } from '../env.js';
import { readForm } from '../forms.js';
import { type Ctx, operatorActor } from '../guard.js';
import { tr, useT } from '../i18n/index.js';
import { csrfOf, flash, render } from '../render.js';
import { CsrfInput, FormError } from '../views/form.js';

const AdminDomainsPage: FC<{
  csrf: string;
  username: string;
  all: string[];
  mine: string[];
  sub: string[];
  error?: string | undefined;
}> = (p) => {
  const t = useT();
  return (
    <section>
      <h1>{t('adminDomains.title', { username: p.username })}</h1>
      <p>{t('adminDomains.intro', { username: p.username })}</p>
      <FormError error={p.error} />
      <form method="post" action={`/admins/${encodeURIComponent(p.username)}/domains`} class="card">
        <CsrfInput token={p.csrf} />
        <table>
          <thead>
            <tr>
              <th>{t('adminDomains.col.domain')}</th>
              <th>{t('adminDomains.col.manages')}</th>
              <th>{t('adminDomains.col.sub')}</th>
            </tr>
          </thead>
          <tbody>
            {p.all.map((d, i) => (
              <tr>
                <td>{d}</td>
                <td>
                  <input
                    type="checkbox"
                    id={`dom-${i}`}
                    name="domains"
                    value={d}
                    checked={p.mine.includes(d)}
                    aria-label={`${t('adminDomains.col.manages')} ${d}`}
                  />
                </td>
                <td>
                  <input
                    type="checkbox"
                    id={`sub-${i}`}
                    name="withSubdomains"
                    value={d}
                    checked={p.sub.includes(d)}
                    aria-label={`${t('adminDomains.col.sub')} ${d}`}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="submit">{t('adminDomains.submit')}</button>
      </form>
    </section>
  );
};

export function adminDomainRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const page = async (c: Ctx, error?: string) => {
    const actor = await operatorActor(c, deps);
    const admin = await deps.directory.getAdmin(actor, c.req.param('username') ?? '');
    const all = (await deps.directory.listDomains(actor)).map((d) => d.name);
    const sub = await deps.directory.adminSubdomainRoots(admin.username);
    // The stored domains (not those the sub-domain rule adds).
    const mine = admin.domains.filter((d) => all.includes(d));
    return render(
      c,
      deps,
      { title: tr(c)('adminDomains.title', { username: admin.username }), help: 'admins', section: 'admins' },
      <AdminDomainsPage
        csrf={csrfOf(c)}
        username={admin.username}
        all={all}
        mine={mine}
        sub={sub}
        error={error}
      />,
      error ? 400 : 200,
    );
  };

  app.get('/admins/:username/domains', (c) => page(c));

  app.post('/admins/:username/domains', async (c) => {
    const actor = await operatorActor(c, deps);
    const username = (c.req.param('username') ?? '').trim().toLowerCase();
    const form = await readForm(c);
    const list = (v: string | string[] | undefined) => (Array.isArray(v) ? v : v ? [v] : []);
    const domains = list(form.domains);
    const sub = list(form.withSubdomains).filter((d) => domains.includes(d));
    try {
      await deps.directory.setAdminDomains(actor, username, domains, sub);
    } catch (err) {
      if (!(err instanceof DirectoryError) || err.code !== 'invalid') throw err;
      return page(c, err.message);
    }
    flash(c, { kind: 'ok', text: tr(c)('adminDomains.saved', { username }) });
    return c.redirect(`/admins/${encodeURIComponent(username)}`, 303);
  });

  return app;
}
