/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Aliases, addresses for remote mailboxes (forwards) and distribution-list aliases of a domain. */
import type { AliasView } from '@delegato/directory';
import type { Child, FC } from 'hono/jsx';
import { type FieldErrors, type FormValues, one } from '../forms.js';
import { type MessageKey, useT } from '../i18n/index.js';
import { AliasImportLink } from './address-import.js';
import { ButtonForm, CsrfInput, Field, FormError, TextArea } from './form.js';
import { seg as enc } from './paths.js';

const KIND_TEXT: Record<AliasView['kind'], MessageKey> = {
  generated: 'addresses.kind.generated',
  manual: 'addresses.kind.manual',
  legacy: 'addresses.kind.legacy',
  forward: 'addresses.kind.forward',
  list: 'addresses.kind.list',
  'mailing-list': 'addresses.kind.mailing-list',
};

export const AddressTable: FC<{
  csrf: string;
  domain: string;
  section: 'aliases' | 'forwards' | 'lists';
  rows: AliasView[];
  heading: string;
  targetHeading: string;
  empty: string;
  showKind?: boolean;
}> = (p) => {
  const t = useT();
  return p.rows.length === 0 ? (
    <p>{p.empty}</p>
  ) : (
    <table>
      <thead>
        <tr>
          <th>{p.heading}</th>
          {p.showKind ? <th>{t('addresses.kind')}</th> : null}
          <th>{p.targetHeading}</th>
          <th>{t('addresses.remove')}</th>
        </tr>
      </thead>
      <tbody>
        {p.rows.map((a) => (
          <tr class={a.ambiguous ? 'ambiguous' : undefined}>
            <td>{a.address}</td>
            {p.showKind ? (
              <td>
                {a.ambiguous ? <span class="tag warn">{t('addresses.ambiguous')}</span> : null}{' '}
                {t(KIND_TEXT[a.kind])}
              </td>
            ) : null}
            <td>
              {a.ambiguous ? <span class="muted">{`${t('addresses.candidates')} `}</span> : null}
              {a.targets.join(', ')}
            </td>
            <td>
              <ButtonForm
                action={`/d/${enc(p.domain)}/${p.section}/${enc(a.address)}/remove`}
                csrf={p.csrf}
                label={t('addresses.remove')}
                danger
              />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
};

interface PageProps {
  csrf: string;
  domain: string;
  rows: AliasView[];
  values?: FormValues;
  errors?: FieldErrors;
  formError?: string;
}

const AddForm: FC<{
  action: string;
  csrf: string;
  formError?: string | undefined;
  title: string;
  children?: Child;
}> = (p) => (
  <>
    <h2>{p.title}</h2>
    <FormError error={p.formError} />
    <form method="post" action={p.action} class="card">
      <CsrfInput token={p.csrf} />
      {p.children}
    </form>
  </>
);

export const AliasesPage: FC<PageProps> = (p) => {
  const t = useT();
  return (
    <section>
      <h1>{t('aliases.heading', { domain: p.domain })}</h1>
      <p>
        {t('aliases.intro')} <strong>{t('aliases.introAmbiguous')}</strong> {t('aliases.introEnd')}
      </p>
      <AliasImportLink domain={p.domain} />
      <AddressTable
        csrf={p.csrf}
        domain={p.domain}
        section="aliases"
        rows={p.rows}
        heading={t('aliases.alias')}
        targetHeading={t('aliases.deliversTo')}
        empty={t('aliases.empty')}
        showKind
      />
      <AddForm
        action={`/d/${enc(p.domain)}/aliases`}
        csrf={p.csrf}
        formError={p.formError}
        title={t('aliases.formTitle')}
      >
        <Field
          name="alias"
          label={t('aliases.alias')}
          value={one(p.values, 'alias')}
          required
          error={p.errors?.alias}
          hint={t('aliases.aliasHint', { domain: p.domain })}
        />
        <TextArea
          name="targets"
          label={t('aliases.targets')}
          value={one(p.values, 'targets')}
          required
          error={p.errors?.targets}
          hint={t('aliases.targetsHint')}
        />
        <button type="submit">{t('aliases.submit')}</button>
      </AddForm>
    </section>
  );
};

/** What differs between the two sections of single-target addresses (remote mailboxes, list aliases). */
interface SingleTargetSection {
  section: 'forwards' | 'lists';
  /** Messages with `{domain}`: the heading and the address field's hint. */
  heading: MessageKey;
  addressHint: MessageKey;
  intro: MessageKey;
  targetField: { name: string; label: MessageKey; hint: MessageKey };
  empty: MessageKey;
  formTitle: MessageKey;
  submit: MessageKey;
}

/** A section of addresses that each pass mail on to one address elsewhere: the list, then the add form. */
const singleTargetPage =
  (s: SingleTargetSection): FC<PageProps> =>
  (p) => {
    const t = useT();
    return (
      <section>
        <h1>{t(s.heading, { domain: p.domain })}</h1>
        <p>{t(s.intro)}</p>
        <AddressTable
          csrf={p.csrf}
          domain={p.domain}
          section={s.section}
          rows={p.rows}
          heading={t('addresses.address')}
          targetHeading={t(s.targetField.label)}
          empty={t(s.empty)}
        />
        <AddForm
          action={`/d/${enc(p.domain)}/${s.section}`}
          csrf={p.csrf}
          formError={p.formError}
          title={t(s.formTitle)}
        >
          <Field
            name="address"
            label={t('addresses.address')}
            value={one(p.values, 'address')}
            required
            error={p.errors?.address}
            hint={t(s.addressHint, { domain: p.domain })}
          />
          <Field
            name={s.targetField.name}
            label={t(s.targetField.label)}
            value={one(p.values, s.targetField.name)}
            required
            error={p.errors?.[s.targetField.name]}
            hint={t(s.targetField.hint)}
          />
          <button type="submit">{t(s.submit)}</button>
        </AddForm>
      </section>
    );
  };

export const ForwardsPage = singleTargetPage({
  section: 'forwards',
  heading: 'forwards.heading',
  intro: 'forwards.intro',
  targetField: { name: 'remote', label: 'forwards.remote', hint: 'forwards.remoteHint' },
  addressHint: 'forwards.addressHint',
  empty: 'forwards.empty',
  formTitle: 'forwards.formTitle',
  submit: 'forwards.submit',
});

export const ListsPage = singleTargetPage({
  section: 'lists',
  heading: 'listAliases.heading',
  intro: 'listAliases.intro',
  targetField: { name: 'listServer', label: 'listAliases.listServer', hint: 'listAliases.listServerHint' },
  addressHint: 'listAliases.addressHint',
  empty: 'listAliases.empty',
  formTitle: 'listAliases.formTitle',
  submit: 'listAliases.submit',
});
