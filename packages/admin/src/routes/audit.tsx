/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** GET /audit (operators: everything, `?domain=` to filter) and GET /d/:domain/audit (that domain). */
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { adminActor, operatorActor, scopedDomain } from '../guard.js';
import { render } from '../render.js';
import { AuditPage } from '../views/operator.js';

const LIMIT = 200;

export function auditRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/audit', async (c) => {
    const actor = await operatorActor(c, deps);
    const domain = c.req.query('domain')?.trim() || undefined;
    const rows = await deps.directory.listAudit(actor, { limit: LIMIT, ...(domain ? { domain } : {}) });
    return render(
      c,
      deps,
      { title: 'Audit log', help: 'audit', section: 'audit' },
      <AuditPage rows={rows} limit={LIMIT} {...(domain ? { domain } : {})} />,
    );
  });

  app.get('/d/:domain/audit', async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const rows = await deps.directory.listAudit(actor, { domain, limit: LIMIT });
    return render(
      c,
      deps,
      { title: `Changes in ${domain}`, help: 'audit', domain, section: 'domain-audit' },
      <AuditPage rows={rows} domain={domain} limit={LIMIT} />,
    );
  });

  return app;
}
