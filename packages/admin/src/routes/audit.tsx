/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * GET /audit (operators: everything, `?domain=` to narrow) and GET /d/:domain/audit (that domain), in plain
 * words, filtered by `?kind=` (views/audit.tsx AUDIT_KINDS), `?who=`, `?q=`, paged by `?page=`.
 */
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { adminActor, type Ctx, operatorActor, scopedDomain } from '../guard.js';
import { tr } from '../i18n/index.js';
import { render } from '../render.js';
import { AUDIT_KINDS, type AuditFilters, type AuditKind, AuditLogPage } from '../views/audit.js';
import { PAGE_SIZE, pageOf } from '../views/list-controls.js';

function filtersOf(c: Ctx): AuditFilters {
  const kind = c.req.query('kind');
  const who = c.req.query('who')?.trim().slice(0, 100);
  const q = c.req.query('q')?.trim().slice(0, 200);
  return {
    ...(kind && Object.hasOwn(AUDIT_KINDS, kind) ? { kind: kind as AuditKind } : {}),
    ...(who ? { who } : {}),
    ...(q ? { q } : {}),
  };
}

const queryOf = (f: AuditFilters) => ({
  ...(f.kind ? { action: AUDIT_KINDS[f.kind] } : {}),
  ...(f.who ? { actor: f.who } : {}),
  ...(f.q ? { text: f.q } : {}),
});

export function auditRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/audit', async (c) => {
    const actor = await operatorActor(c, deps);
    const domain = c.req.query('domain')?.trim() || undefined;
    const filters = filtersOf(c);
    const page = pageOf(c.req.query('page'));
    const { total, rows } = await deps.directory.queryAudit(actor, {
      ...queryOf(filters),
      ...(domain ? { domain } : {}),
      limit: PAGE_SIZE,
      offset: (page - 1) * PAGE_SIZE,
    });
    return render(
      c,
      deps,
      { title: tr(c)('audit.title'), help: 'audit', section: 'audit' },
      <AuditLogPage
        rows={rows}
        total={total}
        page={page}
        pageSize={PAGE_SIZE}
        path="/audit"
        filters={filters}
      />,
    );
  });

  app.get('/d/:domain/audit', async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const filters = filtersOf(c);
    const page = pageOf(c.req.query('page'));
    const { total, rows } = await deps.directory.queryAudit(actor, {
      ...queryOf(filters),
      domain,
      limit: PAGE_SIZE,
      offset: (page - 1) * PAGE_SIZE,
    });
    return render(
      c,
      deps,
      { title: tr(c)('audit.titleDomain', { domain }), help: 'audit', domain, section: 'domain-audit' },
      <AuditLogPage
        rows={rows}
        total={total}
        page={page}
        pageSize={PAGE_SIZE}
        path={`/d/${encodeURIComponent(domain)}/audit`}
        domain={domain}
        filters={filters}
      />,
    );
  });

  return app;
}
