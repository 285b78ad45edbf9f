/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Bulk import and export of a domain's mailboxes (issue 19): the upload, the preview, the result. */
import { IMPORT_COLUMNS, type ImportPlan } from '@delegato/directory';
import type { FC } from 'hono/jsx';
import { useT } from '../i18n/index.js';
import { CsrfInput } from './form.js';
import { seg as enc } from './paths.js';

export const ImportPage: FC<{ csrf: string; domain: string; error?: string | undefined }> = ({
  csrf,
  domain,
  error,
}) => {
  const t = useT();
  const d = enc(domain);
  return (
    <section>
      <h1>{t('bulk.title', { domain })}</h1>
      <h2>{t('bulk.export.title')}</h2>
      <p>
        <a href={`/d/${d}/export/mailboxes.csv`} download>
          {t('bulk.export.mailboxes')}
        </a>{' '}
        ·{' '}
        <a href={`/d/${d}/export/aliases.csv`} download>
          {t('bulk.export.aliases')}
        </a>
      </p>
      <p class="muted">{t('bulk.export.note')}</p>
      <h2>{t('bulk.import.title')}</h2>
      <p>{t('bulk.import.note', { columns: IMPORT_COLUMNS.join(', ') })}</p>
      {error ? (
        <div class="form-error" role="alert">
          {error}
        </div>
      ) : null}
      <form method="post" action={`/d/${d}/import`} enctype="multipart/form-data" class="card">
        <CsrfInput token={csrf} />
        <label for="import-file">{t('bulk.import.file')}</label>
        <input id="import-file" name="file" type="file" accept=".csv,text/csv" required />
        <div class="radio">
          <input type="checkbox" id="import-passwords" name="passwords" value="yes" />
          <label for="import-passwords">{t('bulk.import.passwords')}</label>
        </div>
        <button type="submit">{t('bulk.import.preview')}</button>
      </form>
      <p>
        <a href={`/d/${d}/aliases/import`}>{t('aliasImport.link')}</a>
      </p>
    </section>
  );
};

export const PreviewPage: FC<{
  csrf: string;
  domain: string;
  plan: ImportPlan;
  csv: string;
  passwords: boolean;
  notice?: string | undefined;
}> = ({ csrf, domain, plan, csv, passwords, notice }) => {
  const t = useT();
  const d = enc(domain);
  const bad = plan.errorLines.length;
  const good = plan.rows.length - bad;
  return (
    <section>
      <h1>{t('bulk.preview.title', { domain })}</h1>
      {notice ? (
        <div class="flash flash-warn" role="alert">
          <p>{notice}</p>
        </div>
      ) : null}
      {bad > 0 ? (
        <div class="flash flash-warn" role="alert">
          <p>{t('bulk.preview.summary', { good, bad })}</p>
        </div>
      ) : (
        <p>{t('bulk.preview.allGood', { good })}</p>
      )}
      {plan.error ? (
        <div class="form-error" role="alert">
          {t('bulk.preview.problem', { error: plan.error })}
        </div>
      ) : null}
      {good > 0 && !plan.error ? (
        <form method="post" action={`/d/${d}/import/apply`} class="card">
          <CsrfInput token={csrf} />
          <input type="hidden" name="csv" value={csv} />
          <input type="hidden" name="skip" value={plan.errorLines.join(',')} />
          {passwords ? <input type="hidden" name="passwords" value="yes" /> : null}
          <button type="submit">
            {bad > 0 ? t('bulk.preview.applySkipping', { good, bad }) : t('bulk.preview.apply', { good })}
          </button>
        </form>
      ) : null}
      <table class="preview">
        <thead>
          <tr>
            <th>{t('bulk.preview.col.line')}</th>
            <th>{t('mailboxes.col.address')}</th>
            <th>{t('mailboxes.col.name')}</th>
            <th>{t('mailboxes.col.username')}</th>
            <th>{t('mailboxes.col.group')}</th>
            <th>{t('bulk.preview.col.result')}</th>
          </tr>
        </thead>
        <tbody>
          {plan.rows.map((r) => (
            <tr class={r.error ? 'row-error' : undefined}>
              <td>{r.line}</td>
              <td>{r.address ?? ''}</td>
              <td>{r.name ?? ''}</td>
              <td>{r.username ?? ''}</td>
              <td>{r.group ?? ''}</td>
              <td>{r.error ? <span class="error-text">{r.error}</span> : t('bulk.preview.ok')}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        {t('bulk.preview.fix')} <a href={`/d/${d}/import`}>{t('bulk.import.title')}</a>
      </p>
    </section>
  );
};

/** After an import with made-up passwords: each shown once. */
export const ImportedPage: FC<{
  domain: string;
  imported: Array<{ address: string; username: string; password?: string | undefined }>;
}> = ({ domain, imported }) => {
  const t = useT();
  return (
    <section>
      <h1>{t('bulk.applied', { count: imported.length, domain })}</h1>
      <table>
        <thead>
          <tr>
            <th>{t('mailboxes.col.address')}</th>
            <th>{t('mailboxes.col.username')}</th>
            <th>{t('mailbox.password.label')}</th>
          </tr>
        </thead>
        <tbody>
          {imported.map((m) => (
            <tr>
              <td>{m.address}</td>
              <td>{m.username}</td>
              <td class="mono secret">{m.password ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <a href={`/d/${enc(domain)}/mailboxes`}>{t('nav.mailboxes')}</a>
      </p>
    </section>
  );
};
