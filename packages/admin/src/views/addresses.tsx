/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Aliases, addresses for remote mailboxes (forwards) and distribution-list aliases of a domain. */
import type { AliasView } from '@delegato/directory';
import type { Child, FC } from 'hono/jsx';
import { type FieldErrors, type FormValues, one } from '../forms.js';
import { ButtonForm, CsrfInput, Field, FormError, TextArea } from './form.js';
import { seg as enc } from './paths.js';

const KIND_TEXT: Record<AliasView['kind'], string> = {
  generated: 'made from a name',
  manual: 'added by hand',
  legacy: 'former official address',
  forward: 'remote mailbox',
  list: 'distribution list',
  'mailing-list': 'mailing list',
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
}> = (p) =>
  p.rows.length === 0 ? (
    <p>{p.empty}</p>
  ) : (
    <table>
      <thead>
        <tr>
          <th>{p.heading}</th>
          {p.showKind ? <th>Kind</th> : null}
          <th>{p.targetHeading}</th>
          <th>Remove</th>
        </tr>
      </thead>
      <tbody>
        {p.rows.map((a) => (
          <tr class={a.ambiguous ? 'ambiguous' : undefined}>
            <td>{a.address}</td>
            {p.showKind ? (
              <td>
                {a.ambiguous ? <span class="tag warn">ambiguous</span> : null} {KIND_TEXT[a.kind]}
              </td>
            ) : null}
            <td>
              {a.ambiguous ? <span class="muted">Candidates: </span> : null}
              {a.targets.join(', ')}
            </td>
            <td>
              <ButtonForm
                action={`/d/${enc(p.domain)}/${p.section}/${enc(a.address)}/remove`}
                csrf={p.csrf}
                label="Remove"
                danger
              />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );

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

export const AliasesPage: FC<PageProps> = (p) => (
  <section>
    <h1>Aliases of {p.domain}</h1>
    <p>
      An alias is an extra address that delivers to one or more mailboxes (here or elsewhere). Aliases made
      from names belong to their person; when two people share one it is <strong>ambiguous</strong> and mail
      to it is returned to the sender with the candidates' official addresses.
    </p>
    <AddressTable
      csrf={p.csrf}
      domain={p.domain}
      section="aliases"
      rows={p.rows}
      heading="Alias"
      targetHeading="Delivers to"
      empty="No aliases yet."
      showKind
    />
    <AddForm
      action={`/d/${enc(p.domain)}/aliases`}
      csrf={p.csrf}
      formError={p.formError}
      title="Add an alias"
    >
      <Field
        name="alias"
        label="Alias"
        value={one(p.values, 'alias')}
        required
        error={p.errors?.alias}
        hint={`The new address, for example info (for info@${p.domain}).`}
      />
      <TextArea
        name="targets"
        label="Targets"
        value={one(p.values, 'targets')}
        required
        error={p.errors?.targets}
        hint="Where the mail goes: one address per line, or separated by commas. Adding to an existing alias adds targets."
      />
      <button type="submit">Add alias</button>
    </AddForm>
  </section>
);

/** What differs between the two sections of single-target addresses (remote mailboxes, list aliases). */
interface SingleTargetSection {
  section: 'forwards' | 'lists';
  title: (domain: string) => string;
  intro: string;
  targetField: { name: string; label: string; hint: string };
  addressHint: (domain: string) => string;
  empty: string;
  formTitle: string;
  submit: string;
}

/** A section of addresses that each pass mail on to one address elsewhere: the list, then the add form. */
const singleTargetPage =
  (s: SingleTargetSection): FC<PageProps> =>
  (p) => (
    <section>
      <h1>{s.title(p.domain)}</h1>
      <p>{s.intro}</p>
      <AddressTable
        csrf={p.csrf}
        domain={p.domain}
        section={s.section}
        rows={p.rows}
        heading="Address"
        targetHeading={s.targetField.label}
        empty={s.empty}
      />
      <AddForm
        action={`/d/${enc(p.domain)}/${s.section}`}
        csrf={p.csrf}
        formError={p.formError}
        title={s.formTitle}
      >
        <Field
          name="address"
          label="Address"
          value={one(p.values, 'address')}
          required
          error={p.errors?.address}
          hint={s.addressHint(p.domain)}
        />
        <Field
          name={s.targetField.name}
          label={s.targetField.label}
          value={one(p.values, s.targetField.name)}
          required
          error={p.errors?.[s.targetField.name]}
          hint={s.targetField.hint}
        />
        <button type="submit">{s.submit}</button>
      </AddForm>
    </section>
  );

export const ForwardsPage = singleTargetPage({
  section: 'forwards',
  title: (domain) => `Addresses for remote mailboxes in ${domain}`,
  intro:
    'An address of this domain whose mailbox is on another server: mail to it is passed on there. Useful while people move to this service one by one.',
  targetField: {
    name: 'remote',
    label: 'Remote address',
    hint: 'The full address of the mailbox on the other server.',
  },
  addressHint: (domain) => `The address here, for example anna.verdi (for anna.verdi@${domain}).`,
  empty: 'No addresses for remote mailboxes yet.',
  formTitle: 'Add an address for a remote mailbox',
  submit: 'Add forward',
});

export const ListsPage = singleTargetPage({
  section: 'lists',
  title: (domain) => `Distribution-list aliases of ${domain}`,
  intro: 'An address of this domain for a mailing list that runs on a list server elsewhere.',
  targetField: {
    name: 'listServer',
    label: 'List server address',
    hint: "The list's address on the list server.",
  },
  addressHint: (domain) => `The list's address here, for example staff (for staff@${domain}).`,
  empty: 'No distribution-list aliases yet.',
  formTitle: 'Add a list alias',
  submit: 'Add list alias',
});
