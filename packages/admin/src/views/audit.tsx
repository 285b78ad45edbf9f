/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * The audit log in plain words (issue 19): "Rose Pinkcheeks added by iat-admin", filterable by kind, who
 * and text, paged; the raw details stay one click away (a <details> element, no script).
 */
import type { AuditRow } from '@delegato/directory';
import type { FC } from 'hono/jsx';
import { hasMessage, type T, useT } from '../i18n/index.js';
import { Pager } from './list-controls.js';

/** The kinds the filter offers: a label and the action prefix it selects. */
export const AUDIT_KINDS = {
  mailboxes: 'mailbox.',
  aliases: 'alias.',
  admins: 'admin.',
  domains: 'domain.',
  signins: 'auth.',
} as const;
export type AuditKind = keyof typeof AUDIT_KINDS;

/** Who did it, as people say it: the admin's name, "the system", "the user themself". */
export function whoOf(actor: string, t: T): string {
  const [kind = '', ...rest] = actor.split(':');
  const name = rest.join(':');
  if (kind === 'operator' || kind === 'domain-admin' || kind === 'admin') return name;
  if (kind === 'system')
    return name.startsWith('self-service:') ? t('audit.who.self') : t('audit.who.system');
  if (kind === 'mailbox') return name;
  if (actor === 'anonymous') return t('audit.who.anonymous');
  return actor;
}

function detailsOf(row: AuditRow): Record<string, unknown> {
  if (!row.details) return {};
  try {
    const v: unknown = JSON.parse(row.details);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** One audit row as a sentence in the page's language. */
export function auditSentence(row: AuditRow, t: T): string {
  const details = detailsOf(row);
  const who = whoOf(row.actor, t);
  const name = typeof details.name === 'string' ? details.name : row.target;
  const count = typeof details.count === 'number' ? details.count : 0;
  const key = `audit.do.${row.action}`;
  const params = { who, target: row.target, name, count, action: row.action };
  return hasMessage(key) ? t(key, params) : t('audit.do.other', params);
}

export interface AuditFilters {
  kind?: AuditKind;
  who?: string;
  q?: string;
}

export const AuditLogPage: FC<{
  rows: AuditRow[];
  total: number;
  page: number;
  pageSize: number;
  /** The page's own path (filters and pages are its query). */
  path: string;
  domain?: string;
  filters: AuditFilters;
}> = (p) => {
  const t = useT();
  const query = {
    ...(p.filters.kind ? { kind: p.filters.kind } : {}),
    ...(p.filters.who ? { who: p.filters.who } : {}),
    ...(p.filters.q ? { q: p.filters.q } : {}),
  };
  return (
    <section>
      <h1>{p.domain ? t('audit.titleDomain', { domain: p.domain }) : t('audit.title')}</h1>
      <p class="muted">{t('audit.intro')}</p>
      <form method="get" action={p.path} class="filters">
        <label for="audit-kind">{t('audit.filter.action')}</label>
        <select id="audit-kind" name="kind">
          <option value="">{t('audit.filter.all')}</option>
          {(Object.keys(AUDIT_KINDS) as AuditKind[]).map((k) => (
            <option value={k} selected={p.filters.kind === k}>
              {t(`audit.filter.${k}`)}
            </option>
          ))}
        </select>
        <label for="audit-who">{t('audit.filter.who')}</label>
        <input id="audit-who" name="who" type="search" value={p.filters.who ?? ''} />
        <label for="audit-q">{t('audit.filter.text')}</label>
        <input id="audit-q" name="q" type="search" value={p.filters.q ?? ''} />
        <button type="submit">{t('common.filter')}</button>
      </form>
      {p.rows.length === 0 ? (
        <p>{t('audit.none')}</p>
      ) : (
        <table class="audit">
          <thead>
            <tr>
              <th>{t('audit.col.when')}</th>
              <th>{t('audit.col.what')}</th>
              <th>{t('audit.col.from')}</th>
              <th>{t('audit.col.details')}</th>
            </tr>
          </thead>
          <tbody>
            {p.rows.map((r) => (
              <tr>
                <td class="nowrap">{r.at.replace('T', ' ').slice(0, 16)}</td>
                <td>
                  {auditSentence(r, t)}
                  {p.domain || !r.domain ? null : <span class="muted"> · {r.domain}</span>}
                </td>
                <td class="mono">{r.actorFrom}</td>
                <td>
                  {r.details ? (
                    <details>
                      <summary>{r.action}</summary>
                      <code class="wrap">{r.details}</code>
                    </details>
                  ) : (
                    <span class="muted">{r.action}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager path={p.path} query={query} page={p.page} pageSize={p.pageSize} total={p.total} />
    </section>
  );
};
