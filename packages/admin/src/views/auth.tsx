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

export const TotpPage: FC<{ csrf: string; error?: string }> = ({ csrf, error }) => {
  const t = useT();
  return (
    <section class="narrow">
      <h1>{t('auth.totpTitle')}</h1>
      <p>{t('auth.totpIntro')}</p>
      <form method="post" action="/login/totp">
        <CsrfInput token={csrf} />
        <Field
          name="code"
          label={t('auth.code')}
          required
          autocomplete="one-time-code"
          error={error}
          hint={t('auth.codeHint')}
        />
        <button type="submit">{t('auth.verify')}</button>
      </form>
      <form method="post" action="/logout">
        <CsrfInput token={csrf} />
        <button type="submit" class="secondary">
          {t('common.cancel')}
        </button>
      </form>
    </section>
  );
};

export const TooManyPage: FC<{ minutes: number }> = ({ minutes }) => {
  const t = useT();
  return (
    <section class="narrow">
      <h1>{t('auth.tooManyTitle')}</h1>
      <p>{t('auth.tooManyText', { minutes, unit: t(minutes === 1 ? 'auth.minute' : 'auth.minutes') })}</p>
      <p>{t('auth.forgotPassword')}</p>
    </section>
  );
};
