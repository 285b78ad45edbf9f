/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Operator pages: domains, administrators, regions (the audit log: audit.tsx). */
import type { AdminView } from '@delegato/directory';
import type { FC } from 'hono/jsx';
import { type FieldErrors, type FormValues, many, one } from '../forms.js';
import { useT } from '../i18n/index.js';
import { ButtonForm, CsrfInput, Field, FieldError, FormError, TextArea } from './form.js';

export interface DomainRow {
  name: string;
  region: string;
  mailboxes: number;
  createdAt: string;
}

export const DomainsPage: FC<{
  csrf: string;
  domains: DomainRow[];
  regions: Array<{ name: string; title: string }>;
  defaultRegion: string;
  values?: FormValues;
  errors?: FieldErrors;
  formError?: string;
}> = (p) => {
  const t = useT();
  return (
    <section>
      <h1>{t('domains.title')}</h1>
      {p.domains.length === 0 ? (
        <p>{t('domains.empty')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{t('domains.domain')}</th>
              <th>{t('domains.region')}</th>
              <th>{t('domains.mailboxes')}</th>
              <th>{t('domains.added')}</th>
              <th>{t('domains.remove')}</th>
            </tr>
          </thead>
          <tbody>
            {p.domains.map((d) => (
              <tr>
                <td>
                  <a href={`/d/${encodeURIComponent(d.name)}/mailboxes`}>{d.name}</a>
                </td>
                <td>{d.region}</td>
                <td>
                  {d.mailboxes}{' '}
                  <a href={`/domains/${encodeURIComponent(d.name)}/limits`}>{t('domains.limits')}</a>
                </td>
                <td>{d.createdAt.slice(0, 10)}</td>
                <td>
                  <ButtonForm
                    action={`/domains/${encodeURIComponent(d.name)}/remove`}
                    csrf={p.csrf}
                    label={t('domains.removeDomain')}
                    danger
                  >
                    {d.mailboxes > 1 ? (
                      <span class="radio">
                        <input type="checkbox" id={`force-${d.name}`} name="force" value="yes" required />
                        <label for={`force-${d.name}`}>
                          {t('domains.forceRemove', { count: d.mailboxes })}
                        </label>
                      </span>
                    ) : null}
                  </ButtonForm>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t('domains.addHeading')}</h2>
      <FormError error={p.formError} />
      <form method="post" action="/domains" class="card">
        <CsrfInput token={p.csrf} />
        <Field
          name="domain"
          label={t('domains.domain')}
          value={one(p.values, 'domain')}
          required
          error={p.errors?.domain}
          hint={t('domains.domainHint')}
        />
        <div class={p.errors?.region ? 'field has-error' : 'field'}>
          <label for="region">{t('domains.region')}</label>
          <select id="region" name="region">
            {p.regions.map((r) => (
              <option value={r.name} selected={(one(p.values, 'region') || p.defaultRegion) === r.name}>
                {r.title === r.name ? r.name : `${r.title} (${r.name})`}
              </option>
            ))}
          </select>
          <p class="hint">{t('domains.regionHint')}</p>
          <FieldError id="region" error={p.errors?.region} />
        </div>
        <button type="submit">{t('domains.submit')}</button>
      </form>
    </section>
  );
};

export const AdminsPage: FC<{
  csrf: string;
  self: string;
  admins: Array<{ username: string; role: string; domains: string[]; createdAt: string }>;
  domains: string[];
  values?: FormValues;
  errors?: FieldErrors;
  formError?: string;
}> = (p) => {
  const t = useT();
  const chosen = new Set(many(p.values, 'domains'));
  const role = one(p.values, 'role') || 'domain-admin';
  return (
    <section>
      <h1>{t('admins.title')}</h1>
      <table>
        <thead>
          <tr>
            <th>{t('admins.username')}</th>
            <th>{t('admins.role')}</th>
            <th>{t('admins.domains')}</th>
            <th>{t('domains.added')}</th>
            <th>{t('domains.remove')}</th>
          </tr>
        </thead>
        <tbody>
          {p.admins.map((a) => (
            <tr>
              <td>
                <a href={`/admins/${encodeURIComponent(a.username)}`}>{a.username}</a>
              </td>
              <td>{a.role === 'operator' ? t('admins.operator') : t('admins.domainAdmin')}</td>
              <td>
                {a.role === 'operator' ? <span class="muted">{t('admins.all')}</span> : a.domains.join(', ')}
              </td>
              <td>{a.createdAt.slice(0, 10)}</td>
              <td>
                {a.username === p.self ? (
                  <span class="muted">{t('admins.you')}</span>
                ) : (
                  <ButtonForm
                    action={`/admins/${encodeURIComponent(a.username)}/remove`}
                    csrf={p.csrf}
                    label={t('domains.remove')}
                    danger
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{t('admins.addHeading')}</h2>
      <FormError error={p.formError} />
      <form method="post" action="/admins" class="card">
        <CsrfInput token={p.csrf} />
        <Field
          name="username"
          label={t('admins.username')}
          value={one(p.values, 'username')}
          required
          autocomplete="off"
          error={p.errors?.username}
          hint={t('admins.usernameHint')}
        />
        <Field
          name="password"
          label={t('admins.password')}
          type="password"
          required
          autocomplete="new-password"
          error={p.errors?.password}
          hint={t('admins.passwordHint')}
        />
        <div class={p.errors?.role ? 'field has-error' : 'field'}>
          <label for="role">{t('admins.role')}</label>
          <select id="role" name="role">
            <option value="domain-admin" selected={role === 'domain-admin'}>
              {t('admins.domainAdmin')}
            </option>
            <option value="operator" selected={role === 'operator'}>
              {t('admins.operator')}
            </option>
          </select>
          <FieldError id="role" error={p.errors?.role} />
        </div>
        <div class={p.errors?.domains ? 'field has-error' : 'field'}>
          <label for="domains">{t('admins.domains')}</label>
          <select id="domains" name="domains" multiple aria-describedby="domains-hint">
            {p.domains.map((d) => (
              <option value={d} selected={chosen.has(d)}>
                {d}
              </option>
            ))}
          </select>
          <p class="hint" id="domains-hint">
            {t('admins.domainsHint')}
          </p>
          <FieldError id="domains" error={p.errors?.domains} />
        </div>
        <button type="submit">{t('admins.submit')}</button>
      </form>
    </section>
  );
};

/** One administrator: who they are, and the access restrictions operators set (networks, certificate). */
export const AdminEditPage: FC<{
  csrf: string;
  admin: AdminView;
  values?: FormValues;
  errors?: FieldErrors;
  formError?: string;
}> = (p) => {
  const t = useT();
  const a = p.admin;
  const networks = p.values ? one(p.values, 'allowedNetworks') : a.allowedNetworks.join('\n');
  const fp = p.values ? one(p.values, 'certFingerprint') : (a.certFingerprint ?? '');
  return (
    <section>
      <p>
        <a href="/admins">{t('admins.back')}</a>
      </p>
      <h1>{t('admins.editTitle', { username: a.username })}</h1>
      <table>
        <tbody>
          <tr>
            <th scope="row">{t('admins.role')}</th>
            <td>{a.role === 'operator' ? t('admins.operator') : t('admins.domainAdmin')}</td>
          </tr>
          <tr>
            <th scope="row">{t('admins.domains')}</th>
            <td>
              {a.role === 'operator' ? (
                t('admins.all')
              ) : (
                <>
                  {a.domains.join(', ')}{' '}
                  <a href={`/admins/${encodeURIComponent(a.username)}/domains`}>{t('admins.change')}</a>
                </>
              )}
            </td>
          </tr>
          <tr>
            <th scope="row">{t('admins.totp')}</th>
            <td>{a.totp ? t('me.on') : t('me.off')}</td>
          </tr>
        </tbody>
      </table>
      <h2>{t('admins.access')}</h2>
      <FormError error={p.formError} />
      <form method="post" action={`/admins/${encodeURIComponent(a.username)}/access`} class="card">
        <CsrfInput token={p.csrf} />
        <TextArea
          name="allowedNetworks"
          label={t('admins.networks')}
          value={networks}
          rows={4}
          error={p.errors?.allowedNetworks}
          hint={t('admins.networksHint')}
        />
        <Field
          name="certFingerprint"
          label={t('admins.fingerprint')}
          value={fp}
          autocomplete="off"
          error={p.errors?.certFingerprint}
          hint={t('admins.fingerprintHint')}
        />
        <button type="submit">{t('admins.saveAccess')}</button>
      </form>
    </section>
  );
};

export const RegionsPage: FC<{ regions: Array<{ name: string; title: string }>; current: string }> = (p) => {
  const t = useT();
  return (
    <section>
      <h1>{t('regions.title')}</h1>
      <p>{t('regions.intro')}</p>
      <table>
        <thead>
          <tr>
            <th>{t('regions.region')}</th>
            <th>{t('regions.name')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {p.regions.map((r) => (
            <tr>
              <td class="mono">{r.name}</td>
              <td>{r.title}</td>
              <td>{r.name === p.current ? <span class="tag">{t('regions.thisAppliance')}</span> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
};
