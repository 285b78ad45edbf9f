/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * Local mailboxes: the list, the "add user" form, one mailbox with its official address and aliases
 * (docs/background.md, "The add-user form").
 */
import type { AliasView, DomainLimits, MailboxSort, MailboxView } from '@delegato/directory';
import type { FC } from 'hono/jsx';
import { type FieldErrors, type FormValues, one } from '../forms.js';
import { useT } from '../i18n/index.js';
import { CsrfInput, Field, FieldError, FormError } from './form.js';
import { Pager, SortHeader } from './list-controls.js';
import { seg as enc } from './paths.js';

export const mailboxPath = (domain: string, address: string) => `/d/${enc(domain)}/mailboxes/${enc(address)}`;

export const StateTags: FC<{ mb: MailboxView }> = ({ mb }) => {
  const t = useT();
  return (
    <>
      {mb.state === 'removed' ? <span class="tag bad">{t('mailboxes.tag.removed')}</span> : null}
      {mb.state === 'active' && mb.expired ? (
        <span class="tag warn">{t('mailboxes.tag.expired')}</span>
      ) : null}
      {mb.kind === 'role' ? <span class="tag">{t('mailboxes.tag.role')}</span> : null}
    </>
  );
};

/** A size for people: KB below a megabyte, MB with one decimal below 10 MB, GB above a gigabyte. */
export function humanSize(bytes: number): string {
  const MB = 1024 * 1024;
  if (bytes < MB) return `${Math.round(bytes / 1024)} KB`;
  if (bytes < 1024 * MB) return `${(bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0)} MB`;
  return `${(bytes / (1024 * MB)).toFixed(1)} GB`;
}

/** A size as the quota field shows it: the largest unit that divides it (40K, 2G), else bytes. */
export function sizeInput(bytes: number | null): string {
  if (bytes === null) return '';
  for (const [unit, n] of [
    ['G', 1024 ** 3],
    ['M', 1024 ** 2],
    ['K', 1024],
  ] as const) {
    if (bytes > 0 && bytes % n === 0) return `${bytes / n}${unit}`;
  }
  return String(bytes);
}

/** "12 KB used of 40 KB (30 %)", or the quota alone when usage is not known. */
export const QuotaText: FC<{ quota: number | null; used?: number | null | undefined }> = ({
  quota,
  used,
}) => {
  const t = useT();
  if (used === undefined || used === null) {
    return <>{quota === null ? t('mailbox.quota.none') : humanSize(quota)}</>;
  }
  if (quota === null) return <>{t('mailbox.quota.usageUnlimited', { used: humanSize(used) })}</>;
  const pct = quota === 0 ? 100 : Math.floor((used / quota) * 100);
  return (
    <span class={pct >= 90 ? 'warn-text' : undefined}>
      {t('mailbox.quota.usage', { used: humanSize(used), limit: humanSize(quota), pct })}
    </span>
  );
};

export interface MailboxListQuery {
  q: string;
  group: string;
  state: '' | 'active' | 'removed' | 'expired';
  sort?: MailboxSort | undefined;
  desc: boolean;
}

export const MailboxListPage: FC<{
  domain: string;
  mailboxes: MailboxView[];
  total: number;
  page: number;
  pageSize: number;
  query: MailboxListQuery;
  usage: Map<string, number | null>;
  limits: DomainLimits | null;
  /** Bytes all the domain's mailboxes take (null: not known here). */
  domainUsed?: number | null;
}> = (p) => {
  const t = useT();
  const path = `/d/${enc(p.domain)}/mailboxes`;
  const query: Record<string, string> = {
    ...(p.query.q ? { q: p.query.q } : {}),
    ...(p.query.group ? { group: p.query.group } : {}),
    ...(p.query.state ? { state: p.query.state } : {}),
    ...(p.query.sort ? { sort: p.query.sort } : {}),
    ...(p.query.desc ? { desc: '1' } : {}),
  };
  const header = (label: string, sort: MailboxSort) => (
    <SortHeader
      label={label}
      sort={sort}
      current={p.query.sort ?? 'address'}
      descending={p.query.desc}
      path={path}
      query={query}
    />
  );
  const l = p.limits;
  return (
    <section>
      <h1>{t('mailboxes.heading', { domain: p.domain })}</h1>
      <p>
        <a href={`${path}/new`}>{t('mailboxes.addUser')}</a> ·{' '}
        <a href={`/d/${enc(p.domain)}/import`}>{t('mailboxes.importExport')}</a>
      </p>
      {l ? (
        <p class="muted">
          {t('mailboxes.usage', {
            domain: p.domain,
            mailboxes: l.mailboxes,
            maxMailboxes:
              l.maxMailboxes === null ? '' : t('mailboxes.usage.maxMailboxes', { max: l.maxMailboxes }),
            assigned: humanSize(l.quotaBytesAssigned),
            maxQuota:
              l.maxQuotaBytes === null
                ? ''
                : t('mailboxes.usage.maxQuota', { max: humanSize(l.maxQuotaBytes) }),
          })}
          {p.domainUsed === null || p.domainUsed === undefined
            ? null
            : t('mailboxes.usedMail', { used: humanSize(p.domainUsed) })}
        </p>
      ) : null}
      <form method="get" action={path} class="search filters">
        <label for="q">{t('common.search')}</label>
        <input id="q" name="q" type="search" value={p.query.q} />
        <label for="group-filter">{t('mailboxes.filter.group')}</label>
        <input id="group-filter" name="group" type="search" value={p.query.group} />
        <label for="state-filter">{t('mailboxes.filter.state')}</label>
        <select id="state-filter" name="state">
          <option value="">{t('mailboxes.filter.all')}</option>
          <option value="active" selected={p.query.state === 'active'}>
            {t('mailboxes.filter.active')}
          </option>
          <option value="expired" selected={p.query.state === 'expired'}>
            {t('mailboxes.filter.expired')}
          </option>
          <option value="removed" selected={p.query.state === 'removed'}>
            {t('mailboxes.filter.removed')}
          </option>
        </select>
        {p.query.sort ? <input type="hidden" name="sort" value={p.query.sort} /> : null}
        {p.query.desc ? <input type="hidden" name="desc" value="1" /> : null}
        <button type="submit">{t('common.search')}</button>
      </form>
      <p class="muted">
        {p.total === 0
          ? p.query.q || p.query.group || p.query.state
            ? t('mailboxes.noneMatch')
            : t('mailboxes.noneYet')
          : t(p.query.q ? 'mailboxes.countFound' : 'mailboxes.count', { count: p.total })}
      </p>
      {p.mailboxes.length > 0 ? (
        <table>
          <thead>
            <tr>
              {header(t('mailboxes.col.address'), 'address')}
              {header(t('mailboxes.col.name'), 'name')}
              <th>{t('mailboxes.col.username')}</th>
              {header(t('mailboxes.col.group'), 'group')}
              {header(t('mailboxes.col.quota'), 'quota')}
              {header(t('mailboxes.col.expires'), 'expires')}
              <th />
            </tr>
          </thead>
          <tbody>
            {p.mailboxes.map((mb) => (
              <tr>
                <td>
                  <a href={mailboxPath(p.domain, mb.address)}>{mb.address}</a>
                </td>
                <td>{[mb.firstName, mb.lastName].filter(Boolean).join(' ')}</td>
                <td>{mb.username}</td>
                <td>{mb.group ?? ''}</td>
                <td>
                  <QuotaText quota={mb.quotaBytes} used={p.usage.get(mb.address)} />
                </td>
                <td>{mb.expiresOn ?? <span class="muted">{t('mailboxes.never')}</span>}</td>
                <td>
                  <StateTags mb={mb} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager path={path} query={query} page={p.page} pageSize={p.pageSize} total={p.total} />
    </section>
  );
};

export const NewMailboxPage: FC<{
  csrf: string;
  domain: string;
  values?: FormValues;
  errors?: FieldErrors;
  formError?: string;
}> = ({ csrf, domain, values, errors, formError }) => {
  const t = useT();
  const kind = one(values, 'kind') || 'personal';
  return (
    <section>
      <h1>{t('new.heading', { domain })}</h1>
      <FormError error={formError} />
      <form method="post" action={`/d/${enc(domain)}/mailboxes`} class="card">
        <CsrfInput token={csrf} />
        <Field
          name="firstName"
          label={t('form.firstName')}
          value={one(values, 'firstName')}
          error={errors?.firstName}
        />
        <Field
          name="lastName"
          label={t('form.lastName')}
          value={one(values, 'lastName')}
          error={errors?.lastName}
        />
        <Field
          name="username"
          label={t('new.username')}
          value={one(values, 'username')}
          error={errors?.username}
          autocomplete="off"
          hint={t('new.username.hint')}
        />
        <Field
          name="group"
          label={t('form.group')}
          value={one(values, 'group')}
          error={errors?.group}
          hint={t('new.group.hint')}
        />
        <Field
          name="password"
          label={t('new.password')}
          type="password"
          error={errors?.password}
          autocomplete="new-password"
          hint={t('new.password.hint')}
        />
        <fieldset>
          <legend>{t('new.kind')}</legend>
          <div class="radio">
            <input type="radio" id="kind-personal" name="kind" value="personal" checked={kind !== 'role'} />
            <label for="kind-personal">{t('form.kind.personal')}</label>
          </div>
          <p class="hint">{t('new.kind.personal.hint')}</p>
          <div class="radio">
            <input type="radio" id="kind-role" name="kind" value="role" checked={kind === 'role'} />
            <label for="kind-role">{t('form.kind.role')}</label>
          </div>
          <p class="hint">{t('new.kind.role.hint')}</p>
          <FieldError id="kind" error={errors?.kind} />
        </fieldset>
        <Field
          name="email"
          label={t('new.email')}
          value={one(values, 'email')}
          error={errors?.email}
          hint={t('new.email.hint', { domain })}
        />
        <Field
          name="quota"
          label={t('mailbox.quota.label')}
          value={one(values, 'quota')}
          error={errors?.quota}
          hint={t('mailbox.quota.hint')}
        />
        <Field
          name="expiresOn"
          label={t('mailbox.expiry.label')}
          type="date"
          value={one(values, 'expiresOn')}
          error={errors?.expiresOn}
          hint={t('new.expires.hint')}
        />
        <Field
          name="contact"
          label={t('form.contact')}
          value={one(values, 'contact')}
          error={errors?.contact}
          hint={t('new.contact.hint')}
        />
        <Field
          name="flag"
          label={t('form.flag')}
          value={one(values, 'flag')}
          error={errors?.flag}
          hint={t('new.flag.hint')}
        />
        <button type="submit">{t('new.submit')}</button>
      </form>
    </section>
  );
};

const kindKey = {
  generated: 'mailbox.kind.alias',
  legacy: 'mailbox.kind.legacy',
  manual: 'mailbox.kind.alias',
  forward: 'mailbox.kind.forward',
  list: 'mailbox.kind.list',
  'mailing-list': 'mailbox.kind.mailingList',
} as const satisfies Record<AliasView['kind'], string>;

export const MailboxPage: FC<{
  csrf: string;
  domain: string;
  mb: MailboxView;
  aliases: AliasView[];
  retentionDays: number;
  usedBytes?: number | null | undefined;
  errors?: FieldErrors;
  values?: FormValues;
}> = ({ csrf, domain, mb, aliases, retentionDays, usedBytes, errors, values }) => {
  const t = useT();
  const base = mailboxPath(domain, mb.address);
  return (
    <section>
      <h1>{t('mailbox.heading', { domain })}</h1>
      <p>
        {t('mailbox.user')} <strong>{mb.username}</strong> <StateTags mb={mb} />
      </p>
      <table class="addresses">
        <thead>
          <tr>
            <th>{t('mailboxes.col.address')}</th>
            <th>{t('mailbox.aliases')}</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>
              <a href={`mailto:${mb.address}`}>{mb.address}</a>
            </td>
            <td>
              {aliases.length === 0 ? (
                <span class="muted">{t('mailbox.noAliases')}</span>
              ) : (
                <ul class="alias-list">
                  {aliases.map((a) => (
                    <li>
                      <a href={`mailto:${a.address}`}>{a.address}</a>{' '}
                      {a.ambiguous ? (
                        <span class="tag warn">
                          {t('mailbox.ambiguousAlso', {
                            others: a.targets.filter((x) => x !== mb.address).join(', '),
                          })}
                        </span>
                      ) : a.kind !== 'generated' ? (
                        <span class="tag">{t(kindKey[a.kind])}</span>
                      ) : null}
                    </li>
                  ))}
                </ul>
              )}
            </td>
          </tr>
        </tbody>
      </table>
      {aliases.some((a) => a.ambiguous) ? <p class="muted">{t('mailbox.ambiguousNote')}</p> : null}
      <p>
        <a href={`${base}/setup`}>{t('mailbox.setupSheet')}</a> {t('mailbox.setupSheetNote')}
      </p>
      <h2>{t('mailbox.details')}</h2>
      <table>
        <tbody>
          <tr>
            <th>{t('mailboxes.col.name')}</th>
            <td>{[mb.firstName, mb.lastName].filter(Boolean).join(' ') || <span class="muted">—</span>}</td>
          </tr>
          <tr>
            <th>{t('mailbox.type')}</th>
            <td>{mb.kind === 'role' ? t('mailbox.typeRole') : t('mailbox.typePersonal')}</td>
          </tr>
          <tr>
            <th>{t('mailboxes.col.group')}</th>
            <td>{mb.group ?? ''}</td>
          </tr>
          <tr>
            <th>{t('mailbox.contact')}</th>
            <td>{mb.contact ?? ''}</td>
          </tr>
          <tr>
            <th>{t('mailbox.flag')}</th>
            <td>{mb.flag ?? ''}</td>
          </tr>
          <tr>
            <th>{t('mailboxes.col.quota')}</th>
            <td id="quota-shown">
              <QuotaText quota={mb.quotaBytes} used={usedBytes} />
            </td>
          </tr>
          <tr>
            <th>{t('mailboxes.col.expires')}</th>
            <td>{mb.expiresOn ?? t('mailboxes.never')}</td>
          </tr>
          <tr>
            <th>{t('mailboxes.col.created')}</th>
            <td>{mb.createdAt.slice(0, 10)}</td>
          </tr>
          {mb.state === 'removed' ? (
            <tr>
              <th>{t('mailbox.purgeAfter')}</th>
              <td>{mb.purgeAfter?.slice(0, 10) ?? ''}</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {mb.state === 'removed' ? (
        <form method="post" action={`${base}/restore`} class="card">
          <h2>{t('mailbox.restore.title')}</h2>
          <CsrfInput token={csrf} />
          <p>{t('mailbox.restore.note', { date: mb.purgeAfter?.slice(0, 10) ?? '' })}</p>
          <button type="submit">{t('mailbox.restore.submit')}</button>
        </form>
      ) : (
        <MailboxForms
          csrf={csrf}
          base={base}
          mb={mb}
          retentionDays={retentionDays}
          errors={errors}
          values={values}
        />
      )}
    </section>
  );
};

const MailboxForms: FC<{
  csrf: string;
  base: string;
  mb: MailboxView;
  retentionDays: number;
  errors?: FieldErrors | undefined;
  values?: FormValues | undefined;
}> = ({ csrf, base, mb, retentionDays, errors, values }) => {
  const t = useT();
  const v = (key: string, current: string | null) =>
    values && key in values ? one(values, key) : (current ?? '');
  const kind = values && 'kind' in values ? one(values, 'kind') : mb.kind;
  return (
    <div class="columns">
      <form method="post" action={`${base}/details`} class="card">
        <h2>{t('mailbox.edit.title')}</h2>
        <CsrfInput token={csrf} />
        <p class="hint">{t('mailbox.edit.hint')}</p>
        <Field
          name="firstName"
          label={t('form.firstName')}
          value={v('firstName', mb.firstName)}
          error={errors?.firstName}
        />
        <Field
          name="lastName"
          label={t('form.lastName')}
          value={v('lastName', mb.lastName)}
          error={errors?.lastName}
        />
        <Field name="group" label={t('form.group')} value={v('group', mb.group)} error={errors?.group} />
        <Field
          name="contact"
          label={t('form.contact')}
          value={v('contact', mb.contact)}
          error={errors?.contact}
        />
        <Field name="flag" label={t('form.flag')} value={v('flag', mb.flag)} error={errors?.flag} />
        <fieldset>
          <legend>{t('form.kind')}</legend>
          <div class="radio">
            <input
              type="radio"
              id="edit-kind-personal"
              name="kind"
              value="personal"
              checked={kind !== 'role'}
            />
            <label for="edit-kind-personal">{t('form.kind.personal')}</label>
          </div>
          <div class="radio">
            <input type="radio" id="edit-kind-role" name="kind" value="role" checked={kind === 'role'} />
            <label for="edit-kind-role">{t('form.kind.role')}</label>
          </div>
          <FieldError id="kind" error={errors?.kind} />
        </fieldset>
        <button type="submit">{t('mailbox.edit.submit')}</button>
      </form>
      <form method="post" action={`${base}/quota`} class="card">
        <h2>{t('mailbox.quota.title')}</h2>
        <CsrfInput token={csrf} />
        <Field
          name="quota"
          label={t('mailbox.quota.label')}
          value={values && 'quota' in values ? one(values, 'quota') : sizeInput(mb.quotaBytes)}
          error={errors?.quota}
          hint={t('mailbox.quota.hint')}
        />
        <button type="submit">{t('mailbox.quota.submit')}</button>
      </form>
      <form method="post" action={`${base}/password`} class="card">
        <h2>{t('mailbox.password.title')}</h2>
        <CsrfInput token={csrf} />
        <Field
          name="newPassword"
          label={t('mailbox.password.label')}
          type="password"
          required
          autocomplete="new-password"
          error={errors?.newPassword}
          hint={t('mailbox.password.hint')}
        />
        <button type="submit">{t('mailbox.password.submit')}</button>
      </form>
      <form method="post" action={`${base}/expiry`} class="card">
        <h2>{t('mailbox.expiry.title')}</h2>
        <CsrfInput token={csrf} />
        <Field
          name="expiresOn"
          label={t('mailbox.expiry.label')}
          type="date"
          value={values ? one(values, 'expiresOn') : (mb.expiresOn ?? '')}
          error={errors?.expiresOn}
          hint={t('mailbox.expiry.hint')}
        />
        <button type="submit">{t('mailbox.expiry.submit')}</button>
      </form>
      <form method="get" action={`${base}/remove`} class="card">
        <h2>{t('mailbox.remove.title')}</h2>
        <p>{t('mailbox.remove.note', { days: retentionDays })}</p>
        <div class="radio">
          <input type="checkbox" id="purge" name="purge" value="yes" />
          <label for="purge">{t('mailbox.remove.purgeNow')}</label>
        </div>
        <button type="submit" class="danger">
          {t('mailbox.remove.submit')}
        </button>
      </form>
    </div>
  );
};

/** The confirmation step of a removal: what will be lost, and the one button that does it. */
export const ConfirmRemovePage: FC<{
  csrf: string;
  domain: string;
  mb: MailboxView;
  aliases: AliasView[];
  purge: boolean;
  retentionDays: number;
  keptUntil: string;
}> = (p) => {
  const t = useT();
  const base = mailboxPath(p.domain, p.mb.address);
  const lost = p.aliases.filter((a) => a.kind !== 'legacy').map((a) => a.address);
  return (
    <section class="narrow">
      <h1>{t('mailbox.confirm.title', { address: p.mb.address })}</h1>
      <div class="flash flash-warn" role="alert">
        <p>{t('mailbox.confirm.lost')}</p>
        <ul>
          <li>{t('mailbox.confirm.stops', { address: p.mb.address })}</li>
          {lost.length > 0 ? <li>{t('mailbox.confirm.aliases', { aliases: lost.join(', ') })}</li> : null}
          <li>
            {p.purge
              ? t('mailbox.confirm.purge')
              : t('mailbox.confirm.kept', { days: p.retentionDays, date: p.keptUntil })}
          </li>
        </ul>
      </div>
      <form method="post" action={`${base}/remove`} class="card">
        <CsrfInput token={p.csrf} />
        <input type="hidden" name="confirmed" value="yes" />
        {p.purge ? <input type="hidden" name="purge" value="yes" /> : null}
        <button type="submit" class="danger">
          {t('mailbox.confirm.submit', { address: p.mb.address })}
        </button>{' '}
        <a href={base}>{t('common.cancel')}</a>
      </form>
    </section>
  );
};
