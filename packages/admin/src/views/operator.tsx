/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Operator pages: domains, administrators, regions, audit log. */
import type { AdminView } from '@delegato/directory';
import type { FC } from 'hono/jsx';
import { type FieldErrors, type FormValues, many, one } from '../forms.js';
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
}> = (p) => (
  <section>
    <h1>Domains</h1>
    {p.domains.length === 0 ? (
      <p>No domains yet. Add the first one below.</p>
    ) : (
      <table>
        <thead>
          <tr>
            <th>Domain</th>
            <th>Region</th>
            <th>Mailboxes</th>
            <th>Added</th>
            <th>Remove</th>
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
                {d.mailboxes} <a href={`/domains/${encodeURIComponent(d.name)}/limits`}>Limits</a>
              </td>
              <td>{d.createdAt.slice(0, 10)}</td>
              <td>
                <ButtonForm
                  action={`/domains/${encodeURIComponent(d.name)}/remove`}
                  csrf={p.csrf}
                  label="Remove domain"
                  danger
                >
                  {d.mailboxes > 1 ? (
                    <span class="radio">
                      <input type="checkbox" id={`force-${d.name}`} name="force" value="yes" required />
                      <label for={`force-${d.name}`}>
                        Also remove its {d.mailboxes} mailboxes and all their mail
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
    <h2>Add a domain</h2>
    <FormError error={p.formError} />
    <form method="post" action="/domains" class="card">
      <CsrfInput token={p.csrf} />
      <Field
        name="domain"
        label="Domain"
        value={one(p.values, 'domain')}
        required
        error={p.errors?.domain}
        hint="For example iat.example.org. Every domain gets a postmaster@ mailbox."
      />
      <div class={p.errors?.region ? 'field has-error' : 'field'}>
        <label for="region">Region</label>
        <select id="region" name="region">
          {p.regions.map((r) => (
            <option value={r.name} selected={(one(p.values, 'region') || p.defaultRegion) === r.name}>
              {r.title === r.name ? r.name : `${r.title} (${r.name})`}
            </option>
          ))}
        </select>
        <p class="hint">Where the domain's mail is stored.</p>
        <FieldError id="region" error={p.errors?.region} />
      </div>
      <button type="submit">Add domain</button>
    </form>
  </section>
);

export const AdminsPage: FC<{
  csrf: string;
  self: string;
  admins: Array<{ username: string; role: string; domains: string[]; createdAt: string }>;
  domains: string[];
  values?: FormValues;
  errors?: FieldErrors;
  formError?: string;
}> = (p) => {
  const chosen = new Set(many(p.values, 'domains'));
  const role = one(p.values, 'role') || 'domain-admin';
  return (
    <section>
      <h1>Administrators</h1>
      <table>
        <thead>
          <tr>
            <th>Username</th>
            <th>Role</th>
            <th>Domains</th>
            <th>Added</th>
            <th>Remove</th>
          </tr>
        </thead>
        <tbody>
          {p.admins.map((a) => (
            <tr>
              <td>
                <a href={`/admins/${encodeURIComponent(a.username)}`}>{a.username}</a>
              </td>
              <td>{a.role === 'operator' ? 'Operator' : 'Domain administrator'}</td>
              <td>{a.role === 'operator' ? <span class="muted">all</span> : a.domains.join(', ')}</td>
              <td>{a.createdAt.slice(0, 10)}</td>
              <td>
                {a.username === p.self ? (
                  <span class="muted">you</span>
                ) : (
                  <ButtonForm
                    action={`/admins/${encodeURIComponent(a.username)}/remove`}
                    csrf={p.csrf}
                    label="Remove"
                    danger
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Add an administrator</h2>
      <FormError error={p.formError} />
      <form method="post" action="/admins" class="card">
        <CsrfInput token={p.csrf} />
        <Field
          name="username"
          label="Username"
          value={one(p.values, 'username')}
          required
          autocomplete="off"
          error={p.errors?.username}
          hint="Letters, digits and . _ @ - (for example rossi or rossi@iat.example.org)."
        />
        <Field
          name="password"
          label="Password"
          type="password"
          required
          autocomplete="new-password"
          error={p.errors?.password}
          hint="At least 8 characters. Tell it to the new administrator in person or by phone."
        />
        <div class={p.errors?.role ? 'field has-error' : 'field'}>
          <label for="role">Role</label>
          <select id="role" name="role">
            <option value="domain-admin" selected={role === 'domain-admin'}>
              Domain administrator
            </option>
            <option value="operator" selected={role === 'operator'}>
              Operator
            </option>
          </select>
          <FieldError id="role" error={p.errors?.role} />
        </div>
        <div class={p.errors?.domains ? 'field has-error' : 'field'}>
          <label for="domains">Domains</label>
          <select id="domains" name="domains" multiple aria-describedby="domains-hint">
            {p.domains.map((d) => (
              <option value={d} selected={chosen.has(d)}>
                {d}
              </option>
            ))}
          </select>
          <p class="hint" id="domains-hint">
            The domains a domain administrator manages (hold Ctrl or ⌘ to choose several). Operators manage
            all.
          </p>
          <FieldError id="domains" error={p.errors?.domains} />
        </div>
        <button type="submit">Add administrator</button>
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
  const a = p.admin;
  const networks = p.values ? one(p.values, 'allowedNetworks') : a.allowedNetworks.join('\n');
  const fp = p.values ? one(p.values, 'certFingerprint') : (a.certFingerprint ?? '');
  return (
    <section>
      <p>
        <a href="/admins">← Administrators</a>
      </p>
      <h1>Administrator {a.username}</h1>
      <table>
        <tbody>
          <tr>
            <th scope="row">Role</th>
            <td>{a.role === 'operator' ? 'Operator' : 'Domain administrator'}</td>
          </tr>
          <tr>
            <th scope="row">Domains</th>
            <td>
              {a.role === 'operator' ? (
                'all'
              ) : (
                <>
                  {a.domains.join(', ')}{' '}
                  <a href={`/admins/${encodeURIComponent(a.username)}/domains`}>Change</a>
                </>
              )}
            </td>
          </tr>
          <tr>
            <th scope="row">Two-step sign-in</th>
            <td>{a.totp ? 'on' : 'off'}</td>
          </tr>
        </tbody>
      </table>
      <h2>Access restrictions</h2>
      <FormError error={p.formError} />
      <form method="post" action={`/admins/${encodeURIComponent(a.username)}/access`} class="card">
        <CsrfInput token={p.csrf} />
        <TextArea
          name="allowedNetworks"
          label="Allowed networks"
          value={networks}
          rows={4}
          error={p.errors?.allowedNetworks}
          hint="One per line, as an address (192.0.2.7) or a range (10.0.0.0/8, 2001:db8::/32). Empty: any network. Checked at sign-in and on every page and API call."
        />
        <Field
          name="certFingerprint"
          label="Client certificate fingerprint"
          value={fp}
          autocomplete="off"
          error={p.errors?.certFingerprint}
          hint="SHA-256, as `openssl x509 -noout -fingerprint -sha256` prints it. Empty: no certificate needed. When set, this administrator can only use a browser that presents that certificate, signed by the CA the appliance is configured with."
        />
        <button type="submit">Save access restrictions</button>
      </form>
    </section>
  );
};

export const RegionsPage: FC<{ regions: Array<{ name: string; title: string }>; current: string }> = (p) => (
  <section>
    <h1>Regions</h1>
    <p>Each region runs one appliance. A domain's mail is stored in its home region.</p>
    <table>
      <thead>
        <tr>
          <th>Region</th>
          <th>Name</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {p.regions.map((r) => (
          <tr>
            <td class="mono">{r.name}</td>
            <td>{r.title}</td>
            <td>{r.name === p.current ? <span class="tag">this appliance</span> : null}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </section>
);

export interface AuditRow {
  id: string;
  at: string;
  actor: string;
  actorFrom: string;
  action: string;
  target: string;
  domain: string | null;
  details: string | null;
}

export const AuditPage: FC<{ rows: AuditRow[]; domain?: string; limit: number }> = (p) => (
  <section>
    <h1>{p.domain ? `Changes in ${p.domain}` : 'Audit log'}</h1>
    <p class="muted">The latest {p.limit} changes, newest first: when, who, from which address, and what.</p>
    <table>
      <thead>
        <tr>
          <th>When (UTC)</th>
          <th>Who</th>
          <th>From</th>
          <th>What</th>
          <th>Target</th>
          {p.domain ? null : <th>Domain</th>}
          <th>Details</th>
        </tr>
      </thead>
      <tbody>
        {p.rows.map((r) => (
          <tr>
            <td>{r.at.replace('T', ' ').slice(0, 19)}</td>
            <td>{r.actor}</td>
            <td class="mono">{r.actorFrom}</td>
            <td>{r.action}</td>
            <td>{r.target}</td>
            {p.domain ? null : <td>{r.domain ?? ''}</td>}
            <td class="mono">{r.details ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </section>
);
