/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * CSV import of aliases and of a list's members (issue 19): the upload and the preview, one pair of
 * pages for both (routes/address-import.tsx). The preview shows every row with its outcome or its error;
 * "apply" sends the file again with the lines to leave out, and the directory checks it all again.
 */
import type { FC } from 'hono/jsx';
import { useT } from '../i18n/index.js';
import { CsrfInput } from './form.js';
import { seg as enc } from './paths.js';

export const UploadPage: FC<{
  csrf: string;
  title: string;
  intro: string;
  action: string;
  back: { href: string; label: string };
  exportLink?: { href: string; label: string } | undefined;
  error?: string | undefined;
}> = (p) => {
  const t = useT();
  return (
    <section>
      <h1>{p.title}</h1>
      <p>{p.intro}</p>
      {p.exportLink ? (
        <p>
          <a href={p.exportLink.href} download>
            {p.exportLink.label}
          </a>
        </p>
      ) : null}
      {p.error ? (
        <div class="form-error" role="alert">
          {p.error}
        </div>
      ) : null}
      <form method="post" action={p.action} enctype="multipart/form-data" class="card">
        <CsrfInput token={p.csrf} />
        <label for="import-file">{t('bulk.import.file')}</label>
        <input id="import-file" name="file" type="file" accept=".csv,text/csv" required />
        <button type="submit">{t('bulk.import.preview')}</button>
      </form>
      <p>
        <a href={p.back.href}>{p.back.label}</a>
      </p>
    </section>
  );
};

/** One previewed row: its line, its cells, and its error or its outcome. */
export interface PreviewRow {
  line: number;
  cells: string[];
  error?: string | undefined;
  outcome?: string | undefined;
}

export const ImportPreviewPage: FC<{
  csrf: string;
  title: string;
  headings: string[];
  rows: PreviewRow[];
  csv: string;
  applyAction: string;
  /** The button's text for the good rows (all rows, or the correct ones with the others left out). */
  applyLabel: (good: number, bad: number) => string;
  again: string;
  notice?: string | undefined;
}> = (p) => {
  const t = useT();
  const bad = p.rows.filter((r) => r.error).map((r) => r.line);
  const good = p.rows.length - bad.length;
  return (
    <section>
      <h1>{p.title}</h1>
      {p.notice ? (
        <div class="flash flash-warn" role="alert">
          <p>{p.notice}</p>
        </div>
      ) : null}
      {bad.length > 0 ? (
        <div class="flash flash-warn" role="alert">
          <p>{t('bulk.preview.summary', { good, bad: bad.length })}</p>
        </div>
      ) : (
        <p>{t('bulk.preview.allGood', { good })}</p>
      )}
      {good > 0 ? (
        <form method="post" action={p.applyAction} class="card">
          <CsrfInput token={p.csrf} />
          <input type="hidden" name="csv" value={p.csv} />
          <input type="hidden" name="skip" value={bad.join(',')} />
          <button type="submit">{p.applyLabel(good, bad.length)}</button>
        </form>
      ) : null}
      <table class="preview">
        <thead>
          <tr>
            <th>{t('bulk.preview.col.line')}</th>
            {p.headings.map((h) => (
              <th>{h}</th>
            ))}
            <th>{t('bulk.preview.col.result')}</th>
          </tr>
        </thead>
        <tbody>
          {p.rows.map((r) => (
            <tr class={r.error ? 'row-error' : undefined}>
              <td>{r.line}</td>
              {r.cells.map((c) => (
                <td>{c}</td>
              ))}
              <td>
                {r.error ? <span class="error-text">{r.error}</span> : (r.outcome ?? t('bulk.preview.ok'))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        {t('bulk.preview.fix')} <a href={p.again}>{p.title}</a>
      </p>
    </section>
  );
};

/** The aliases page's link to the import (views/addresses.tsx). */
export const AliasImportLink: FC<{ domain: string }> = ({ domain }) => {
  const t = useT();
  return (
    <p>
      <a href={`/d/${enc(domain)}/aliases/import`}>{t('aliasImport.link')}</a> ·{' '}
      <a href={`/d/${enc(domain)}/export/aliases.csv`} download>
        {t('bulk.export.aliases')}
      </a>
    </p>
  );
};

/** A list page's links to the member import and export (views/mailing-lists.tsx); `base`: the list's page. */
export const MemberImportLinks: FC<{ base: string }> = ({ base }) => {
  const t = useT();
  return (
    <p>
      <a href={`${base}/members/import`}>{t('memberImport.link')}</a> ·{' '}
      <a href={`${base}/members.csv`} download>
        {t('memberImport.export')}
      </a>
    </p>
  );
};
