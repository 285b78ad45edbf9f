/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Sign-in pages. */
import type { FC } from 'hono/jsx';
import { useT } from '../i18n/index.js';
import { CsrfInput, Field, FormError } from './form.js';

export const LoginPage: FC<{
  csrf: string;
  username?: string;
  error?: string;
  errors?: Record<string, string>;
}> = (p) => {
  const t = useT();
  return (
    <section class="narrow">
      <h1>{t('login.title')}</h1>
      <p>{t('login.intro')}</p>
      <FormError error={p.error} />
      <form method="post" action="/login">
        <CsrfInput token={p.csrf} />
        <Field
          name="username"
          label={t('login.username')}
          value={p.username}
          required
          autocomplete="username"
          error={p.errors?.username}
        />
        <Field
          name="password"
          label={t('login.password')}
          type="password"
          required
          autocomplete="current-password"
          error={p.errors?.password}
        />
        <button type="submit">{t('login.submit')}</button>
      </form>
    </section>
  );
};

export const TotpPage: FC<{ csrf: string; error?: string }> = ({ csrf, error }) => (
  <section class="narrow">
    <h1>Two-step sign-in</h1>
    <p>Open the authenticator app on your phone and type the 6-digit code it shows for Delegato.</p>
    <form method="post" action="/login/totp">
      <CsrfInput token={csrf} />
      <Field
        name="code"
        label="Code"
        required
        autocomplete="one-time-code"
        error={error}
        hint="The code changes every 30 seconds."
      />
      <button type="submit">Verify</button>
    </form>
    <form method="post" action="/logout">
      <CsrfInput token={csrf} />
      <button type="submit" class="secondary">
        Cancel
      </button>
    </form>
  </section>
);

export const TooManyPage: FC<{ minutes: number }> = ({ minutes }) => (
  <section class="narrow">
    <h1>Too many attempts</h1>
    <p>
      There were too many wrong sign-in attempts for this account or from your network. For your safety,
      signing in is paused. Try again in {minutes} {minutes === 1 ? 'minute' : 'minutes'}.
    </p>
    <p>
      If you forgot your password, ask your administrator (or, for administrators, the operators) to set a new
      one.
    </p>
  </section>
);
