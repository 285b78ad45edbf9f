/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Operators: GET /admins, POST /admins, POST /admins/:username/remove. */
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { directoryStatus, isFixableByUser } from '../errors.js';
import { type FieldErrors, type FormValues, readForm, validate, withoutSecrets } from '../forms.js';
import { type Ctx, operatorActor } from '../guard.js';
import { csrfOf, flash, render } from '../render.js';
import { adminForm } from '../schemas.js';
import { AdminsPage } from '../views/operator.js';

export function adminRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const page = async (
    c: Ctx,
    extra: { values?: FormValues; errors?: FieldErrors; formError?: string } = {},
    status: 200 | 400 | 409 = 200,
  ) => {
    const actor = await operatorActor(c, deps);
    const [admins, domains] = await Promise.all([
      deps.directory.listAdmins(actor),
      deps.directory.listDomains(actor),
    ]);
    return render(
      c,
      deps,
      { title: 'Administrators', help: 'admins', section: 'admins' },
      <AdminsPage
        csrf={csrfOf(c)}
        self={actor.name}
        admins={admins}
        domains={domains.map((d) => d.name)}
        {...extra}
      />,
      status,
    );
  };

  app.get('/admins', (c) => page(c));

  app.post('/admins', async (c) => {
    const actor = await operatorActor(c, deps);
    const raw = await readForm(c);
    const form = validate(adminForm, raw);
    const values = withoutSecrets(raw);
    if (!form.ok) return page(c, { values, errors: form.errors }, 400);
    try {
      const added = await deps.directory.addAdmin(actor, {
        username: form.data.username,
        role: form.data.role,
        domains: form.data.domains,
        password: form.data.password,
      });
      flash(c, { kind: 'ok', text: `Administrator ${added.username} added.` });
      return c.redirect('/admins', 303);
    } catch (err) {
      if (!isFixableByUser(err)) throw err;
      return page(c, { values, formError: err.message }, directoryStatus(err) === 409 ? 409 : 400);
    }
  });

  app.post('/admins/:username/remove', async (c) => {
    const actor = await operatorActor(c, deps);
    const username = c.req.param('username').trim().toLowerCase();
    await deps.directory.removeAdmin(actor, username);
    // Their sessions and API tokens end now (actorForAdmin would refuse them anyway).
    deps.sessions.destroyWhere((s) => s.principal?.kind === 'admin' && s.principal.username === username);
    deps.tokens.revokeUser(username);
    await deps.totp.set(username, null);
    flash(c, { kind: 'ok', text: `Administrator ${username} removed.` });
    return c.redirect('/admins', 303);
  });

  return app;
}
