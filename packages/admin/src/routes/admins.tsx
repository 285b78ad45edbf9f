/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * Operators: GET /admins, POST /admins, GET /admins/:username (one admin), POST /admins/:username/access
 * (allowed networks, pinned client certificate), POST /admins/:username/remove.
 */
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { directoryStatus, isFixableByUser } from '../errors.js';
import { type FieldErrors, type FormValues, readForm, validate, withoutSecrets } from '../forms.js';
import { type Ctx, operatorActor } from '../guard.js';
import { tr } from '../i18n/index.js';
import { csrfOf, flash, render } from '../render.js';
import { adminAccessForm, adminForm } from '../schemas.js';
import { AdminEditPage, AdminsPage } from '../views/operator.js';

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
      { title: tr(c)('admins.title'), help: 'admins', section: 'admins' },
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
      flash(c, { kind: 'ok', text: tr(c)('admins.addedFlash', { username: added.username }) });
      return c.redirect('/admins', 303);
    } catch (err) {
      if (!isFixableByUser(err)) throw err;
      return page(c, { values, formError: err.message }, directoryStatus(err) === 409 ? 409 : 400);
    }
  });

  const editPage = async (
    c: Ctx,
    extra: { values?: FormValues; errors?: FieldErrors; formError?: string } = {},
    status: 200 | 400 = 200,
  ) => {
    const actor = await operatorActor(c, deps);
    const admin = await deps.directory.getAdmin(actor, c.req.param('username') ?? '');
    return render(
      c,
      deps,
      { title: tr(c)('admins.editTitle', { username: admin.username }), help: 'admins', section: 'admins' },
      <AdminEditPage csrf={csrfOf(c)} admin={admin} {...extra} />,
      status,
    );
  };

  app.get('/admins/:username', (c) => editPage(c));

  app.post('/admins/:username/access', async (c) => {
    const actor = await operatorActor(c, deps);
    const raw = await readForm(c);
    const form = validate(adminAccessForm, raw);
    if (!form.ok) return editPage(c, { values: raw, errors: form.errors }, 400);
    const username = c.req.param('username').trim().toLowerCase();
    try {
      await deps.directory.setAdminAccess(actor, username, {
        allowedNetworks: form.data.allowedNetworks,
        certFingerprint: form.data.certFingerprint,
      });
    } catch (err) {
      if (!isFixableByUser(err)) throw err;
      return editPage(c, { values: raw, formError: err.message }, 400);
    }
    flash(c, { kind: 'ok', text: tr(c)('admins.accessSaved', { username }) });
    return c.redirect(`/admins/${encodeURIComponent(username)}`, 303);
  });

  app.post('/admins/:username/remove', async (c) => {
    const actor = await operatorActor(c, deps);
    const username = c.req.param('username').trim().toLowerCase();
    await deps.directory.removeAdmin(actor, username);
    // Their sessions and API tokens end now (actorForAdmin would refuse them anyway).
    // (Their TOTP secret went with the directory row.)
    await deps.sessions.destroyOwner({ kind: 'admin', username });
    await deps.tokens.revokeUser(username);
    flash(c, { kind: 'ok', text: tr(c)('admins.removedFlash', { username }) });
    return c.redirect('/admins', 303);
  });

  return app;
}
