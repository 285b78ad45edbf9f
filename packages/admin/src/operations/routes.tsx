/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * GET /stats and /stats.csv (operators: every domain of every region), GET /d/:domain/stats and
 * /d/:domain/stats.csv (that domain's admins and operators), GET /health (operators). The source checks
 * the scope again with the same Actor (source.ts): the routes are not the only guard.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv, Deps } from '../env.js';
import { adminActor, type Ctx, operatorActor, scopedDomain } from '../guard.js';
import { tr } from '../i18n/index.js';
import { render } from '../render.js';
import { statsCsv } from './csv.js';
import type { OperationsSource } from './source.js';
import { HealthPage, StatsPage } from './views.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_DAYS = 366;

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** The period of `?from=&to=`: default the last 30 days; a clear 400 for anything else. */
export function period(c: Ctx, today: string): { from: string; to: string } {
  const to = c.req.query('to')?.trim() || today;
  const from = c.req.query('from')?.trim() || addDays(to, -29);
  for (const [name, v] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!DAY.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)))
      throw new HTTPException(400, { message: `"${name}" must be a day written YYYY-MM-DD.` });
  }
  if (from > to) throw new HTTPException(400, { message: '"from" must not be after "to".' });
  if (Date.parse(to) - Date.parse(from) > MAX_DAYS * 86_400_000)
    throw new HTTPException(400, { message: `A period covers at most ${MAX_DAYS} days.` });
  return { from, to };
}

function csvResponse(c: Ctx, name: string, body: string): Response {
  c.header('Content-Type', 'text/csv; charset=utf-8');
  c.header('Content-Disposition', `attachment; filename="${name}"`);
  c.header('Cache-Control', 'no-store');
  return c.body(body);
}

export function operationsRoutes(deps: Deps, source: OperationsSource): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/stats', async (c) => {
    const actor = await operatorActor(c, deps);
    const p = period(c, source.today());
    const answer = await source.stats(actor, p);
    return render(
      c,
      deps,
      { title: tr(c)('stats.title'), help: 'index', section: 'stats' },
      <StatsPage answer={answer} {...p} base="/stats" scope={tr(c)('stats.allScope')} />,
    );
  });

  app.get('/stats.csv', async (c) => {
    const actor = await operatorActor(c, deps);
    const p = period(c, source.today());
    const answer = await source.stats(actor, p);
    return csvResponse(c, `delegato-stats-${p.from}-${p.to}.csv`, statsCsv(answer.rows));
  });

  app.get('/d/:domain/stats', async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const p = period(c, source.today());
    const answer = await source.stats(actor, { ...p, domain });
    return render(
      c,
      deps,
      { title: tr(c)('stats.titleDomain', { domain }), help: 'index', domain, section: 'domain-stats' },
      <StatsPage answer={answer} {...p} base={`/d/${encodeURIComponent(domain)}/stats`} scope={domain} />,
    );
  });

  app.get('/d/:domain/stats.csv', async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const p = period(c, source.today());
    const answer = await source.stats(actor, { ...p, domain });
    return csvResponse(c, `delegato-stats-${domain}-${p.from}-${p.to}.csv`, statsCsv(answer.rows));
  });

  app.get('/health', async (c) => {
    const actor = await operatorActor(c, deps);
    const regions = await source.health(actor);
    return render(
      c,
      deps,
      { title: tr(c)('health.title'), help: 'index', section: 'health' },
      <HealthPage regions={regions} />,
    );
  });

  return app;
}
