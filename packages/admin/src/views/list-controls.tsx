/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** What every list page shares (issue 19): the pager, sortable column headers, and reading ?page=&sort=. */
import type { FC } from 'hono/jsx';
import { useT } from '../i18n/index.js';

export const PAGE_SIZE = 50;

/** `?page=` as a number from 1 (bounded). */
export function pageOf(value: string | undefined): number {
  return Math.max(1, Math.min(Number.parseInt(value ?? '1', 10) || 1, 100_000));
}

const href = (path: string, query: Record<string, string>) => {
  const qs = new URLSearchParams(query).toString();
  return qs ? `${path}?${qs}` : path;
};

/** "Page 2 of 6", with previous and next links keeping the other query parameters. */
export const Pager: FC<{
  path: string;
  query: Record<string, string>;
  page: number;
  pageSize: number;
  total: number;
}> = (p) => {
  const t = useT();
  const pages = Math.max(1, Math.ceil(p.total / p.pageSize));
  if (p.total === 0) return null;
  const from = (p.page - 1) * p.pageSize + 1;
  const to = Math.min(p.total, p.page * p.pageSize);
  return (
    <nav class="pager" aria-label={t('common.pageOf', { page: p.page, pages })}>
      {p.page > 1 ? (
        <a href={href(p.path, { ...p.query, page: String(p.page - 1) })}>{t('common.previous')}</a>
      ) : null}
      <span>
        {t('common.pageOf', { page: p.page, pages })} · {t('common.shown', { from, to, total: p.total })}
      </span>
      {p.page < pages ? (
        <a href={href(p.path, { ...p.query, page: String(p.page + 1) })}>{t('common.next')}</a>
      ) : null}
    </nav>
  );
};

/** A column header that sorts the list by `sort` (again: the other way round). */
export const SortHeader: FC<{
  label: string;
  sort: string;
  current?: string | undefined;
  descending?: boolean;
  path: string;
  query: Record<string, string>;
}> = (p) => {
  const active = p.current === p.sort;
  const next = { ...p.query, sort: p.sort, ...(active && !p.descending ? { desc: '1' } : {}) };
  delete (next as Record<string, string>).page;
  if (!(active && !p.descending)) delete (next as Record<string, string>).desc;
  return (
    <th aria-sort={active ? (p.descending ? 'descending' : 'ascending') : undefined}>
      <a href={href(p.path, next)}>
        {p.label}
        {active ? (p.descending ? ' ▼' : ' ▲') : ''}
      </a>
    </th>
  );
};
