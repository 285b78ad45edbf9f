/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * CSV import of aliases and of a built-in list's members in the admin UI (issue 19):
 *
 *   GET/POST /d/:domain/aliases/import              the upload; POST: every row checked, nothing written
 *   POST     /d/:domain/aliases/import/apply        the rows (those with errors left out only when the
 *                                                   preview named them), all in one transaction
 *   GET/POST /d/:domain/mailing-lists/:address/members/import   and   .../members/import/apply
 *   GET      /d/:domain/mailing-lists/:address/members.csv      the members as CSV
 *
 * Each handler starts with the admin's actor and `:domain` in their scope (and the list read through the
 * directory with that actor) before the body is read; the directory checks everything again on apply.
 */
import {
  type AliasImportRow,
  DirectoryError,
  MAX_CSV_BYTES,
  type MemberImportRow,
  membersCsv,
  readAliasCsv,
  readMemberCsv,
} from '@delegato/directory';
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { adminActor, type Ctx, scopedAddress, scopedDomain } from '../guard.js';
import { tr } from '../i18n/index.js';
import { csrfOf, flash, render } from '../render.js';
import { ImportPreviewPage, type PreviewRow, UploadPage } from '../views/address-import.js';
import { seg as enc } from '../views/paths.js';

/** The uploaded file's text, or the message to show on the upload page. */
async function uploaded(c: Ctx): Promise<{ csv: string } | { error: string }> {
  const body = await c.req.parseBody();
  const file = body.file;
  if (!(file instanceof File) || file.size === 0) return { error: tr(c)('bulk.noFile') };
  if (file.size > MAX_CSV_BYTES) return { error: `the file is larger than ${MAX_CSV_BYTES} bytes` };
  return { csv: await file.text() };
}

/** The apply form's fields: the file again and the lines the preview named as wrong. */
async function applied(c: Ctx): Promise<{ csv: string; skip: Set<number> }> {
  const body = await c.req.parseBody();
  return {
    csv: typeof body.csv === 'string' ? body.csv : '',
    skip: new Set(
      (typeof body.skip === 'string' ? body.skip : '')
        .split(',')
        .map((x) => Number.parseInt(x, 10))
        .filter((n) => Number.isSafeInteger(n)),
    ),
  };
}

const invalidOnly = (err: unknown): string => {
  if (err instanceof DirectoryError && (err.code === 'invalid' || err.code === 'duplicate')) {
    return err.message;
  }
  throw err;
};

export function addressImportRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // ------------------------------------------------------------------------------------ aliases

  const aliasScope = async (c: Ctx) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    return { actor, domain, base: `/d/${enc(domain)}/aliases` };
  };
  type AliasScope = Awaited<ReturnType<typeof aliasScope>>;

  const aliasUpload = (c: Ctx, s: AliasScope, error?: string) => {
    const t = tr(c);
    return render(
      c,
      deps,
      {
        title: t('aliasImport.title', { domain: s.domain }),
        help: 'aliases',
        domain: s.domain,
        section: 'aliases',
      },
      <UploadPage
        csrf={csrfOf(c)}
        title={t('aliasImport.title', { domain: s.domain })}
        intro={t('aliasImport.intro', { domain: s.domain })}
        action={`${s.base}/import`}
        back={{ href: s.base, label: t('aliasImport.back') }}
        exportLink={{ href: `/d/${enc(s.domain)}/export/aliases.csv`, label: t('bulk.export.aliases') }}
        error={error}
      />,
      error ? 400 : 200,
    );
  };

  const aliasPreview = async (
    c: Ctx,
    s: AliasScope,
    csv: string,
    rows: AliasImportRow[],
    notice?: string,
  ) => {
    const t = tr(c);
    const plan = await deps.directory.planAliasImport(s.actor, s.domain, rows);
    const shown: PreviewRow[] = plan.rows.map((r, i) => ({
      line: r.line,
      cells: [r.address ?? rows[i]?.address ?? '', (r.targets ?? rows[i]?.targets ?? []).join(', ')],
      error: r.error,
      outcome: r.extends
        ? r.already?.length
          ? t('aliasImport.extendsAlready', { already: r.already.join(', ') })
          : t('aliasImport.extends')
        : t('aliasImport.new'),
    }));
    return render(
      c,
      deps,
      {
        title: t('aliasImport.preview', { domain: s.domain }),
        help: 'aliases',
        domain: s.domain,
        section: 'aliases',
      },
      <ImportPreviewPage
        csrf={csrfOf(c)}
        title={t('aliasImport.preview', { domain: s.domain })}
        headings={[t('aliasImport.col.alias'), t('aliasImport.col.targets')]}
        rows={shown}
        csv={csv}
        applyAction={`${s.base}/import/apply`}
        applyLabel={(good, bad) =>
          bad > 0 ? t('aliasImport.applySkipping', { good, bad }) : t('aliasImport.apply', { good })
        }
        again={`${s.base}/import`}
        notice={notice}
      />,
    );
  };

  app.get('/d/:domain/aliases/import', async (c) => aliasUpload(c, await aliasScope(c)));

  app.post('/d/:domain/aliases/import', async (c) => {
    const s = await aliasScope(c);
    const file = await uploaded(c);
    if ('error' in file) return aliasUpload(c, s, file.error);
    let rows: AliasImportRow[];
    try {
      rows = readAliasCsv(file.csv);
    } catch (err) {
      return aliasUpload(c, s, invalidOnly(err));
    }
    return aliasPreview(c, s, file.csv, rows);
  });

  app.post('/d/:domain/aliases/import/apply', async (c) => {
    const s = await aliasScope(c);
    const { csv, skip } = await applied(c);
    let rows: AliasImportRow[];
    try {
      rows = readAliasCsv(csv);
    } catch (err) {
      return aliasUpload(c, s, invalidOnly(err));
    }
    try {
      const done = await deps.directory.importAliases(
        s.actor,
        s.domain,
        rows.filter((r) => !skip.has(r.line)),
      );
      const t = tr(c);
      flash(c, {
        kind: 'ok',
        text: t('aliasImport.applied', { count: done.aliases.length, domain: s.domain }),
      });
      if (skip.size > 0)
        flash(c, { kind: 'ok', text: t('bulk.appliedSkipped', { lines: [...skip].join(', ') }) });
      return c.redirect(s.base, 303);
    } catch (err) {
      // Something changed since the preview: the rows again, nothing done.
      invalidOnly(err);
      return aliasPreview(c, s, csv, rows, tr(c)('bulk.changed'));
    }
  });

  // ------------------------------------------------------------------------------------ list members

  const listScope = async (c: Ctx) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const list = await deps.directory.getList(actor, scopedAddress(c, actor, domain));
    return { actor, domain, list, base: `/d/${enc(domain)}/mailing-lists/${enc(list.address)}` };
  };
  type ListScope = Awaited<ReturnType<typeof listScope>>;

  const memberUpload = (c: Ctx, s: ListScope, error?: string) => {
    const t = tr(c);
    return render(
      c,
      deps,
      {
        title: t('memberImport.title', { list: s.list.address }),
        help: 'lists',
        domain: s.domain,
        section: 'lists',
      },
      <UploadPage
        csrf={csrfOf(c)}
        title={t('memberImport.title', { list: s.list.address })}
        intro={t('memberImport.intro')}
        action={`${s.base}/members/import`}
        back={{ href: s.base, label: s.list.address }}
        exportLink={{ href: `${s.base}/members.csv`, label: t('memberImport.export') }}
        error={error}
      />,
      error ? 400 : 200,
    );
  };

  const memberPreview = async (
    c: Ctx,
    s: ListScope,
    csv: string,
    rows: MemberImportRow[],
    notice?: string,
  ) => {
    const t = tr(c);
    const plan = await deps.directory.planMemberImport(s.actor, s.list.address, rows);
    const shown: PreviewRow[] = plan.rows.map((r, i) => ({
      line: r.line,
      cells: [r.address ?? rows[i]?.address ?? ''],
      error: r.error,
      outcome: r.already ? t('memberImport.already') : t('memberImport.new'),
    }));
    return render(
      c,
      deps,
      {
        title: t('memberImport.preview', { list: s.list.address }),
        help: 'lists',
        domain: s.domain,
        section: 'lists',
      },
      <ImportPreviewPage
        csrf={csrfOf(c)}
        title={t('memberImport.preview', { list: s.list.address })}
        headings={[t('memberImport.col.address')]}
        rows={shown}
        csv={csv}
        applyAction={`${s.base}/members/import/apply`}
        applyLabel={(good, bad) =>
          bad > 0 ? t('memberImport.applySkipping', { good, bad }) : t('memberImport.apply', { good })
        }
        again={`${s.base}/members/import`}
        notice={notice}
      />,
    );
  };

  const members = '/d/:domain/mailing-lists/:address/members';

  app.get(`${members}/import`, async (c) => memberUpload(c, await listScope(c)));

  app.post(`${members}/import`, async (c) => {
    const s = await listScope(c);
    const file = await uploaded(c);
    if ('error' in file) return memberUpload(c, s, file.error);
    let rows: MemberImportRow[];
    try {
      rows = readMemberCsv(file.csv);
    } catch (err) {
      return memberUpload(c, s, invalidOnly(err));
    }
    return memberPreview(c, s, file.csv, rows);
  });

  app.post(`${members}/import/apply`, async (c) => {
    const s = await listScope(c);
    const { csv, skip } = await applied(c);
    let rows: MemberImportRow[];
    try {
      rows = readMemberCsv(csv);
    } catch (err) {
      return memberUpload(c, s, invalidOnly(err));
    }
    try {
      const done = await deps.directory.importListMembers(
        s.actor,
        s.list.address,
        rows.filter((r) => !skip.has(r.line)),
      );
      const t = tr(c);
      flash(c, {
        kind: 'ok',
        text: t('memberImport.applied', { count: done.added.length, list: done.list }),
      });
      if (skip.size > 0)
        flash(c, { kind: 'ok', text: t('bulk.appliedSkipped', { lines: [...skip].join(', ') }) });
      return c.redirect(s.base, 303);
    } catch (err) {
      invalidOnly(err);
      return memberPreview(c, s, csv, rows, tr(c)('bulk.changed'));
    }
  });

  app.get('/d/:domain/mailing-lists/:address/members.csv', async (c) => {
    const s = await listScope(c);
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header('Content-Disposition', `attachment; filename="${s.list.address}-members.csv"`);
    c.header('Cache-Control', 'no-store');
    return c.body(membersCsv(s.list.members));
  });

  return app;
}
