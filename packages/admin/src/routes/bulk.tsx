/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * Bulk work on a domain's mailboxes (issue 19): GET /d/:domain/import (the export links and the upload),
 * POST /d/:domain/import (a CSV file: every row checked, nothing written), POST /d/:domain/import/apply
 * (the checked rows, those with errors left out only when the preview named them; all in one transaction),
 * GET /d/:domain/export/mailboxes.csv and /export/aliases.csv.
 */
import {
  aliasesCsv,
  DirectoryError,
  type ImportRow,
  MAX_CSV_BYTES,
  mailboxesCsv,
  readMailboxCsv,
} from '@delegato/directory';
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { adminActor, type Ctx, scopedDomain } from '../guard.js';
import { tr } from '../i18n/index.js';
import { csrfOf, flash, render } from '../render.js';
import { ImportedPage, ImportPage, PreviewPage } from '../views/bulk.js';

const csvResponse = (c: Ctx, name: string, body: string) => {
  c.header('Content-Type', 'text/csv; charset=utf-8');
  c.header('Content-Disposition', `attachment; filename="${name}"`);
  c.header('Cache-Control', 'no-store');
  return c.body(body);
};

export function bulkRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const scope = async (c: Ctx) => {
    const actor = await adminActor(c, deps);
    return { actor, domain: scopedDomain(c, actor) };
  };

  const importPage = (c: Ctx, domain: string, error?: string) =>
    render(
      c,
      deps,
      { title: tr(c)('bulk.title', { domain }), help: 'import', domain, section: 'mailboxes' },
      <ImportPage csrf={csrfOf(c)} domain={domain} error={error} />,
      error ? 400 : 200,
    );

  const preview = async (
    c: Ctx,
    s: Awaited<ReturnType<typeof scope>>,
    csv: string,
    rows: ImportRow[],
    passwords: boolean,
    notice?: string,
  ) => {
    const plan = await deps.directory.planImport(s.actor, s.domain, rows);
    return render(
      c,
      deps,
      {
        title: tr(c)('bulk.preview.title', { domain: s.domain }),
        help: 'import',
        domain: s.domain,
        section: 'mailboxes',
      },
      <PreviewPage
        csrf={csrfOf(c)}
        domain={s.domain}
        plan={plan}
        csv={csv}
        passwords={passwords}
        notice={notice}
      />,
    );
  };

  app.get('/d/:domain/import', async (c) => importPage(c, (await scope(c)).domain));

  app.post('/d/:domain/import', async (c) => {
    const s = await scope(c);
    const body = await c.req.parseBody();
    const file = body.file;
    if (!(file instanceof File) || file.size === 0) return importPage(c, s.domain, tr(c)('bulk.noFile'));
    if (file.size > MAX_CSV_BYTES)
      return importPage(c, s.domain, `the file is larger than ${MAX_CSV_BYTES} bytes`);
    const csv = await file.text();
    try {
      return await preview(c, s, csv, readMailboxCsv(csv), body.passwords === 'yes');
    } catch (err) {
      if (!(err instanceof DirectoryError) || err.code !== 'invalid') throw err;
      return importPage(c, s.domain, err.message);
    }
  });

  app.post('/d/:domain/import/apply', async (c) => {
    const s = await scope(c);
    const body = await c.req.parseBody();
    const csv = typeof body.csv === 'string' ? body.csv : '';
    const passwords = body.passwords === 'yes';
    const skip = new Set(
      (typeof body.skip === 'string' ? body.skip : '')
        .split(',')
        .map((x) => Number.parseInt(x, 10))
        .filter((n) => Number.isSafeInteger(n)),
    );
    let rows: ImportRow[];
    try {
      rows = readMailboxCsv(csv);
    } catch (err) {
      if (!(err instanceof DirectoryError) || err.code !== 'invalid') throw err;
      return importPage(c, s.domain, err.message);
    }
    const chosen = rows.filter((r) => !skip.has(r.line));
    try {
      const done = await deps.directory.importMailboxes(s.actor, s.domain, chosen, { passwords });
      const t = tr(c);
      flash(c, { kind: 'ok', text: t('bulk.applied', { count: done.imported.length, domain: s.domain }) });
      if (skip.size > 0)
        flash(c, { kind: 'ok', text: t('bulk.appliedSkipped', { lines: [...skip].join(', ') }) });
      if (passwords) {
        return render(
          c,
          deps,
          {
            title: t('bulk.title', { domain: s.domain }),
            help: 'import',
            domain: s.domain,
            section: 'mailboxes',
          },
          <ImportedPage domain={s.domain} imported={done.imported} />,
        );
      }
      flash(c, { kind: 'ok', text: t('bulk.appliedNoPasswords') });
      return c.redirect(`/d/${encodeURIComponent(s.domain)}/mailboxes`, 303);
    } catch (err) {
      if (!(err instanceof DirectoryError) || (err.code !== 'invalid' && err.code !== 'duplicate')) throw err;
      // Something changed since the preview (another admin took an address): the rows again, nothing done.
      return preview(c, s, csv, rows, passwords, tr(c)('bulk.changed'));
    }
  });

  app.get('/d/:domain/export/mailboxes.csv', async (c) => {
    const s = await scope(c);
    const { mailboxes } = await deps.directory.listMailboxes(s.actor, s.domain, { limit: 10_000 });
    return csvResponse(c, `${s.domain}-mailboxes.csv`, mailboxesCsv(mailboxes));
  });

  app.get('/d/:domain/export/aliases.csv', async (c) => {
    const s = await scope(c);
    return csvResponse(
      c,
      `${s.domain}-aliases.csv`,
      aliasesCsv(await deps.directory.listAliases(s.actor, s.domain)),
    );
  });

  return app;
}
