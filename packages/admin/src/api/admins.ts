/**
 * Administrators: GET/POST /api/v1/admins, GET/DELETE /api/v1/admins/:username,
 * PUT /api/v1/admins/:username/access (operators only).
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv, Deps } from '../env.js';
import { apiAdminAccess, apiNewAdmin } from '../schemas.js';
import { apiActor, body } from './common.js';

export function adminApi(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/admins', async (c) => {
    const actor = await apiActor(c, deps);
    return c.json(await deps.directory.listAdmins(actor));
  });

  app.post('/admins', async (c) => {
    const actor = await apiActor(c, deps);
    const req = await body(c, apiNewAdmin);
    const added = await deps.directory.addAdmin(actor, {
      username: req.username,
      role: req.role,
      password: req.password,
      ...(req.domains ? { domains: req.domains } : {}),
    });
    return c.json(added, 201);
  });

  app.get('/admins/:username', async (c) => {
    const actor = await apiActor(c, deps);
    return c.json(await deps.directory.getAdmin(actor, c.req.param('username')));
  });

  app.put('/admins/:username/access', async (c) => {
    const actor = await apiActor(c, deps);
    // Operators only: checked here first and again by the directory.
    if (actor.kind !== 'operator') throw new HTTPException(403, { message: 'operators only' });
    const req = await body(c, apiAdminAccess);
    const updated = await deps.directory.setAdminAccess(actor, c.req.param('username'), {
      ...(req.allowedNetworks !== undefined ? { allowedNetworks: req.allowedNetworks } : {}),
      ...(req.certFingerprint !== undefined ? { certFingerprint: req.certFingerprint } : {}),
    });
    return c.json(updated);
  });

  app.delete('/admins/:username', async (c) => {
    const actor = await apiActor(c, deps);
    const username = c.req.param('username').trim().toLowerCase();
    await deps.directory.removeAdmin(actor, username);
    // Their sessions and tokens end now; the TOTP secret went with the directory row.
    await deps.sessions.destroyOwner({ kind: 'admin', username });
    await deps.tokens.revokeUser(username);
    return c.json({ username, removed: true });
  });

  return app;
}
