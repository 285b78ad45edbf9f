/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * Local mailboxes: the list, the "add user" form, one mailbox with its official address and aliases
 * (docs/background.md, "The add-user form").
 */
import type { AliasView, MailboxView } from '@delegato/directory';
import type { FC } from 'hono/jsx';
import { type FieldErrors, type FormValues, one } from '../forms.js';
import { CsrfInput, Field, FieldError, FormError } from './form.js';
import { seg as enc } from './paths.js';

export const mailboxPath = (domain: string, address: string) => `/d/${enc(domain)}/mailboxes/${enc(address)}`;

export const StateTags: FC<{ mb: MailboxView }> = ({ mb }) => (
  <>
    {mb.state === 'removed' ? <span class="tag bad">removed</span> : null}
    {mb.state === 'active' && mb.expired ? <span class="tag warn">expired</span> : null}
    {mb.kind === 'role' ? <span class="tag">role</span> : null}
  </>
);

export const MailboxListPage: FC<{
  domain: string;
  mailboxes: MailboxView[];
  total: number;
  q: string;
  page: number;
  pageSize: number;
}> = (p) => {
  const pages = Math.max(1, Math.ceil(p.total / p.pageSize));
  const link = (page: number) =>
    `/d/${enc(p.domain)}/mailboxes?${new URLSearchParams({ ...(p.q ? { q: p.q } : {}), page: String(page) })}`;
  return (
    <section>
      <h1>Local mailboxes of {p.domain}</h1>
      <p>
        <a href={`/d/${enc(p.domain)}/mailboxes/new`}>Add a user</a>
      </p>
      <form method="get" action={`/d/${enc(p.domain)}/mailboxes`} class="search">
        <label for="q">Search</label>
        <input id="q" name="q" type="search" value={p.q} />
        <button type="submit">Search</button>
      </form>
      <p class="muted">
        {p.total === 0
          ? p.q
            ? 'No mailbox matches.'
            : 'No mailboxes yet.'
          : `${p.total} mailbox${p.total === 1 ? '' : 'es'}${p.q ? ' found' : ''}.`}
      </p>
      {p.mailboxes.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th>Official e-mail address</th>
              <th>Name</th>
              <th>Username</th>
              <th>Group</th>
              <th>Expires</th>
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
                <td>{mb.expiresOn ?? <span class="muted">never</span>}</td>
                <td>
                  <StateTags mb={mb} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {pages > 1 ? (
        <nav class="pager" aria-label="Pages">
          {p.page > 1 ? <a href={link(p.page - 1)}>Previous page</a> : null}
          <span>
            Page {p.page} of {pages}
          </span>
          {p.page < pages ? <a href={link(p.page + 1)}>Next page</a> : null}
        </nav>
      ) : null}
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
  const kind = one(values, 'kind') || 'personal';
  return (
    <section>
      <h1>Add a new user to {domain}</h1>
      <FormError error={formError} />
      <form method="post" action={`/d/${enc(domain)}/mailboxes`} class="card">
        <CsrfInput token={csrf} />
        <Field
          name="firstName"
          label="First name"
          value={one(values, 'firstName')}
          error={errors?.firstName}
        />
        <Field name="lastName" label="Last name" value={one(values, 'lastName')} error={errors?.lastName} />
        <Field
          name="username"
          label="Username"
          value={one(values, 'username')}
          error={errors?.username}
          autocomplete="off"
          hint="Optional: the short sign-in name. Empty: the official address's part before @."
        />
        <Field
          name="group"
          label="Group"
          value={one(values, 'group')}
          error={errors?.group}
          hint="Optional, for your own sorting (for example a department)."
        />
        <Field
          name="password"
          label="Password"
          type="password"
          error={errors?.password}
          autocomplete="new-password"
          hint="At least 8 characters. Leave it empty to have one made up: it is shown once, after the user is added."
        />
        <fieldset>
          <legend>Select the e-mail address type</legend>
          <div class="radio">
            <input type="radio" id="kind-personal" name="kind" value="personal" checked={kind !== 'role'} />
            <label for="kind-personal">Personal</label>
          </div>
          <p class="hint">For a person: the address is made from the name, you don't need to type it.</p>
          <div class="radio">
            <input type="radio" id="kind-role" name="kind" value="role" checked={kind === 'role'} />
            <label for="kind-role">Role</label>
          </div>
          <p class="hint">For a function such as helpdesk or secretary: you must type the address below.</p>
          <FieldError id="kind" error={errors?.kind} />
        </fieldset>
        <Field
          name="email"
          label="E-mail"
          value={one(values, 'email')}
          error={errors?.email}
          hint={`For a role address: the part before @${domain} (for example helpdesk). For a personal address leave it empty, or type one to replace the usual first.last.`}
        />
        <Field
          name="expiresOn"
          label="Expiration date"
          type="date"
          value={one(values, 'expiresOn')}
          error={errors?.expiresOn}
          hint="Optional: the last day the mailbox works (for example the end of a contract)."
        />
        <Field
          name="contact"
          label="Contact person"
          value={one(values, 'contact')}
          error={errors?.contact}
          hint="Optional: who to ask about this mailbox."
        />
        <Field
          name="flag"
          label="Flag"
          value={one(values, 'flag')}
          error={errors?.flag}
          hint="Optional: a short note of your own."
        />
        <button type="submit">Add user</button>
      </form>
    </section>
  );
};

const kindLabel: Record<AliasView['kind'], string> = {
  generated: 'alias',
  legacy: 'former address',
  manual: 'alias',
  forward: 'forward',
  list: 'list',
  'mailing-list': 'mailing list',
};

export const MailboxPage: FC<{
  csrf: string;
  domain: string;
  mb: MailboxView;
  aliases: AliasView[];
  retentionDays: number;
  errors?: FieldErrors;
  values?: FormValues;
}> = ({ csrf, domain, mb, aliases, retentionDays, errors, values }) => {
  const base = mailboxPath(domain, mb.address);
  return (
    <section>
      <h1>Domain {domain} management</h1>
      <p>
        User: <strong>{mb.username}</strong> <StateTags mb={mb} />
      </p>
      <table class="addresses">
        <thead>
          <tr>
            <th>Official e-mail address</th>
            <th>Aliases</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>
              <a href={`mailto:${mb.address}`}>{mb.address}</a>
            </td>
            <td>
              {aliases.length === 0 ? (
                <span class="muted">none</span>
              ) : (
                <ul class="alias-list">
                  {aliases.map((a) => (
                    <li>
                      <a href={`mailto:${a.address}`}>{a.address}</a>{' '}
                      {a.ambiguous ? (
                        <span class="tag warn">
                          ambiguous: also {a.targets.filter((t) => t !== mb.address).join(', ')}
                        </span>
                      ) : a.kind !== 'generated' ? (
                        <span class="tag">{kindLabel[a.kind]}</span>
                      ) : null}
                    </li>
                  ))}
                </ul>
              )}
            </td>
          </tr>
        </tbody>
      </table>
      {aliases.some((a) => a.ambiguous) ? (
        <p class="muted">
          An ambiguous alias belongs to more than one person: mail to it is returned to the sender with the
          list of official addresses to choose from.
        </p>
      ) : null}
      <p>
        <a href={`${base}/setup`}>Client set-up sheet</a> (to print for the user)
      </p>
      <h2>Details</h2>
      <table>
        <tbody>
          <tr>
            <th>Name</th>
            <td>{[mb.firstName, mb.lastName].filter(Boolean).join(' ') || <span class="muted">—</span>}</td>
          </tr>
          <tr>
            <th>Type</th>
            <td>{mb.kind === 'role' ? 'Role address' : 'Personal address'}</td>
          </tr>
          <tr>
            <th>Group</th>
            <td>{mb.group ?? ''}</td>
          </tr>
          <tr>
            <th>Contact person</th>
            <td>{mb.contact ?? ''}</td>
          </tr>
          <tr>
            <th>Flag</th>
            <td>{mb.flag ?? ''}</td>
          </tr>
          <tr>
            <th>Expires</th>
            <td>{mb.expiresOn ?? 'never'}</td>
          </tr>
          <tr>
            <th>Created</th>
            <td>{mb.createdAt.slice(0, 10)}</td>
          </tr>
          {mb.state === 'removed' ? (
            <tr>
              <th>Mail deleted after</th>
              <td>{mb.purgeAfter?.slice(0, 10) ?? ''}</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {mb.state === 'active' ? (
        <div class="columns">
          <form method="post" action={`${base}/password`} class="card">
            <h2>New password</h2>
            <CsrfInput token={csrf} />
            <Field
              name="newPassword"
              label="New password"
              type="password"
              required
              autocomplete="new-password"
              error={errors?.newPassword}
              hint="At least 8 characters."
            />
            <button type="submit">Set password</button>
          </form>
          <form method="post" action={`${base}/expiry`} class="card">
            <h2>Expiration</h2>
            <CsrfInput token={csrf} />
            <Field
              name="expiresOn"
              label="Expiration date"
              type="date"
              value={values ? one(values, 'expiresOn') : (mb.expiresOn ?? '')}
              error={errors?.expiresOn}
              hint="The last day it works. Empty: never expires."
            />
            <button type="submit">Save expiration date</button>
          </form>
          <form method="post" action={`${base}/remove`} class="card">
            <h2>Remove</h2>
            <CsrfInput token={csrf} />
            <p>The mailbox stops working at once. Its mail is kept for {retentionDays} days, then deleted.</p>
            <div class="radio">
              <input type="checkbox" id="purge" name="purge" value="yes" />
              <label for="purge">Delete its mail now</label>
            </div>
            <button type="submit" class="danger">
              Remove mailbox
            </button>
          </form>
        </div>
      ) : null}
    </section>
  );
};
