/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** The attachment gateway section of a domain: disk usage, the domain's rules, who it applies to. */
import type { GatewayDomainView } from '@delegato/directory';
import type { FC } from 'hono/jsx';
import { type FieldErrors, type FormValues, one } from '../forms.js';
import { useT } from '../i18n/index.js';
import { ButtonForm, CsrfInput, Field, FieldError, FormError } from '../views/form.js';
import { seg as enc } from '../views/paths.js';
import type { GatewayUsage } from './schemas.js';

/** 5242880 -> "5.0 MiB" (as the CLI prints it). */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

export interface GatewayPageProps {
  csrf: string;
  view: GatewayDomainView;
  usage: GatewayUsage | null;
  /** Which form the values and errors belong to. */
  form?: 'rules' | 'register';
  values?: FormValues;
  errors?: FieldErrors;
  formError?: string;
}

const RulesForm: FC<GatewayPageProps> = (p) => {
  const t = useT();
  const mine = p.form === 'rules';
  const r = p.view.rules;
  const value = (key: string, current: string) => (mine ? one(p.values, key) : current);
  const checked = mine ? one(p.values, 'loginRequired') === 'yes' : r.loginRequired;
  return (
    <>
      <h2>{t('gateway.rulesTitle')}</h2>
      {mine ? <FormError error={p.formError} /> : null}
      <form method="post" action={`/d/${enc(p.view.domain)}/gateway/settings`} class="card">
        <CsrfInput token={p.csrf} />
        <Field
          name="threshold"
          label={t('gateway.threshold')}
          value={value('threshold', String(Number((r.thresholdBytes / (1024 * 1024)).toFixed(3))))}
          required
          error={mine ? p.errors?.threshold : undefined}
          hint={t('gateway.thresholdHint')}
        />
        <Field
          name="types"
          label={t('gateway.types')}
          value={value('types', r.mediaTypes.join(', '))}
          error={mine ? p.errors?.types : undefined}
          hint={t('gateway.typesHint')}
        />
        <Field
          name="expiryDays"
          label={t('gateway.expiry')}
          value={value('expiryDays', String(r.expiryDays))}
          required
          error={mine ? p.errors?.expiryDays : undefined}
          hint={t('gateway.expiryHint')}
        />
        <div class="field">
          <label>
            <input type="checkbox" name="loginRequired" value="yes" checked={checked} /> {t('gateway.login')}
          </label>
        </div>
        <button type="submit">{t('gateway.saveRules')}</button>
      </form>
    </>
  );
};

const Registrations: FC<GatewayPageProps> = (p) => {
  const t = useT();
  const rows = p.view.registrations;
  if (rows.length === 0) return <p>{t('gateway.none')}</p>;
  return (
    <table>
      <thead>
        <tr>
          <th>{t('gateway.target')}</th>
          <th>{t('gateway.kind')}</th>
          <th>{t('gateway.since')}</th>
          <th>{t('gateway.remove')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr>
            <td>{r.target}</td>
            <td>{t(`gateway.kind.${r.kind}`)}</td>
            <td>
              {r.createdBy}, {r.createdAt.slice(0, 10)}
            </td>
            <td>
              <ButtonForm
                action={`/d/${enc(p.view.domain)}/gateway/unregister`}
                csrf={p.csrf}
                label={t('gateway.remove')}
                danger
              >
                <input type="hidden" name="kind" value={r.kind} />
                <input type="hidden" name="target" value={r.target} />
              </ButtonForm>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
};

const RegisterForm: FC<GatewayPageProps> = (p) => {
  const t = useT();
  const mine = p.form === 'register';
  const kind = mine ? one(p.values, 'kind') : 'mailbox';
  return (
    <>
      <h2>{t('gateway.registerTitle')}</h2>
      {mine ? <FormError error={p.formError} /> : null}
      <form method="post" action={`/d/${enc(p.view.domain)}/gateway/register`} class="card">
        <CsrfInput token={p.csrf} />
        <div class={mine && p.errors?.kind ? 'field has-error' : 'field'}>
          <label for="kind">{t('gateway.what')}</label>
          <select id="kind" name="kind">
            {(['mailbox', 'domain', 'sender'] as const).map((k) => (
              <option value={k} selected={kind === k}>
                {t(`gateway.what.${k}`)}
              </option>
            ))}
          </select>
          <FieldError id="kind" error={mine ? p.errors?.kind : undefined} />
        </div>
        <Field
          name="target"
          label={t('gateway.targetField')}
          value={mine ? one(p.values, 'target') : ''}
          error={mine ? p.errors?.target : undefined}
          hint={t('gateway.targetHint', { domain: p.view.domain })}
        />
        <button type="submit">{t('gateway.register')}</button>
      </form>
    </>
  );
};

export const GatewayPage: FC<GatewayPageProps> = (p) => {
  const t = useT();
  return (
    <section>
      <h1>{t('gateway.title', { domain: p.view.domain })}</h1>
      <p>{t('gateway.intro')}</p>
      <h2>{t('gateway.usageTitle')}</h2>
      <p>
        {p.usage && p.usage.links > 0
          ? t('gateway.usage', { size: humanSize(p.usage.bytes), files: p.usage.files, links: p.usage.links })
          : t('gateway.usageNone')}
      </p>
      <h2>{t('gateway.registrationsTitle')}</h2>
      <Registrations {...p} />
      <RegisterForm {...p} />
      <RulesForm {...p} />
    </section>
  );
};
