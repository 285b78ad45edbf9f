/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** The signed-in person's own pages: their account, password, two-step sign-in. */
import type { Child, FC } from 'hono/jsx';
import type { FieldErrors } from '../forms.js';
import { CsrfInput, Field, FormError } from './form.js';

export const PasswordChangeForm: FC<{ csrf: string; errors?: FieldErrors | undefined }> = ({
  csrf,
  errors,
}) => (
  <form method="post" action="/me/password" class="card">
    <h2>Change your password</h2>
    <CsrfInput token={csrf} />
    <Field
      name="currentPassword"
      label="Current password"
      type="password"
      required
      autocomplete="current-password"
      error={errors?.currentPassword}
    />
    <Field
      name="newPassword"
      label="New password"
      type="password"
      required
      autocomplete="new-password"
      error={errors?.newPassword}
      hint="At least 8 characters. A few unrelated words make a good one."
    />
    <button type="submit">Change password</button>
  </form>
);

export const MailboxMePage: FC<{
  csrf: string;
  address: string;
  username: string;
  errors?: FieldErrors;
  /** The lists this mailbox owns, with their held messages (routes/me-lists.tsx). */
  children?: Child;
}> = (p) => (
  <section>
    <h1>Your mailbox</h1>
    <p>
      Your e-mail address is <strong>{p.address}</strong>.
    </p>
    <p>
      <a href="/me/setup">Settings for your mail program</a> (a page you can print)
    </p>
    {p.children}
    <PasswordChangeForm csrf={p.csrf} errors={p.errors} />
  </section>
);

export const AdminMePage: FC<{
  csrf: string;
  username: string;
  role: 'operator' | 'domain-admin' | 'system';
  domains: string[];
  totp: boolean;
  errors?: FieldErrors;
}> = (p) => (
  <section>
    <h1>Your account</h1>
    <p>
      You are <strong>{p.username}</strong>,{' '}
      {p.role === 'domain-admin'
        ? `administrator of ${p.domains.length === 0 ? 'no domain yet' : p.domains.join(', ')}.`
        : 'an operator (all domains).'}
    </p>
    <p>
      Two-step sign-in is <strong>{p.totp ? 'on' : 'off'}</strong>.{' '}
      <a href="/me/totp">Two-step sign-in settings</a>
    </p>
    <PasswordChangeForm csrf={p.csrf} errors={p.errors} />
  </section>
);

/** Groups of four characters are easier to type into an app. */
const grouped = (secret: string) => secret.replace(/(.{4})/g, '$1 ').trim();

export const TotpEnrolPage: FC<{
  csrf: string;
  secret: string;
  uri: string;
  required: boolean;
  error?: string;
}> = (p) => (
  <section class="narrow">
    <h1>Turn on two-step sign-in</h1>
    {p.required ? (
      <p>
        <strong>This service requires two-step sign-in for administrators.</strong> Set it up now to continue.
      </p>
    ) : null}
    <p>
      With two-step sign-in, signing in needs your password <em>and</em> a 6-digit code from an authenticator
      app on your phone (for example FreeOTP, Aegis, Google Authenticator or Microsoft Authenticator).
    </p>
    <ol>
      <li>In the app, choose to add an account by typing a key ("enter a setup key").</li>
      <li>
        Account name: anything you like, for example Delegato. Key:{' '}
        <span class="secret mono">{grouped(p.secret)}</span> (time based).
      </li>
      <li>Type the 6-digit code the app now shows, below.</li>
    </ol>
    <p class="muted">
      Apps that read links can also use: <span class="mono">{p.uri}</span>
    </p>
    <form method="post" action="/me/totp">
      <CsrfInput token={p.csrf} />
      <Field name="code" label="Code" required autocomplete="one-time-code" error={p.error} />
      <button type="submit">Turn on two-step sign-in</button>
    </form>
  </section>
);

export const TotpOnPage: FC<{ csrf: string; required: boolean; error?: string }> = (p) => (
  <section class="narrow">
    <h1>Two-step sign-in is on</h1>
    <p>Signing in asks for a code from your authenticator app after your password.</p>
    {p.required ? (
      <p class="muted">This service requires two-step sign-in, so it cannot be turned off.</p>
    ) : (
      <>
        <FormError error={p.error} />
        <form method="post" action="/me/totp/disable" class="card">
          <h2>Turn it off</h2>
          <CsrfInput token={p.csrf} />
          <Field
            name="code"
            label="Code"
            required
            autocomplete="one-time-code"
            hint="A current code from your app."
          />
          <button type="submit" class="danger">
            Turn off two-step sign-in
          </button>
        </form>
      </>
    )}
  </section>
);
