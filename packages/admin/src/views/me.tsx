/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** The signed-in person's own pages: their account, password, two-step sign-in. */
import type { Child, FC } from 'hono/jsx';
import type { FieldErrors } from '../forms.js';
import { useT } from '../i18n/index.js';
import { CsrfInput, Field, FormError } from './form.js';

export const PasswordChangeForm: FC<{ csrf: string; errors?: FieldErrors | undefined }> = ({
  csrf,
  errors,
}) => {
  const t = useT();
  return (
    <form method="post" action="/me/password" class="card">
      <h2>{t('me.passwordHeading')}</h2>
      <CsrfInput token={csrf} />
      <Field
        name="currentPassword"
        label={t('me.currentPassword')}
        type="password"
        required
        autocomplete="current-password"
        error={errors?.currentPassword}
      />
      <Field
        name="newPassword"
        label={t('me.newPassword')}
        type="password"
        required
        autocomplete="new-password"
        error={errors?.newPassword}
        hint={t('me.newPasswordHint')}
      />
      <button type="submit">{t('me.changePassword')}</button>
    </form>
  );
};

export const MailboxMePage: FC<{
  csrf: string;
  address: string;
  username: string;
  errors?: FieldErrors;
  /** The lists this mailbox owns, with their held messages (routes/me-lists.tsx). */
  children?: Child;
}> = (p) => {
  const t = useT();
  return (
    <section>
      <h1>{t('me.mailboxHeading')}</h1>
      <p>
        {t('me.yourAddress')} <strong>{p.address}</strong>.
      </p>
      <p>
        <a href="/me/setup">{t('me.setupLink')}</a> {t('me.setupPrintable')}
      </p>
      {p.children}
      <PasswordChangeForm csrf={p.csrf} errors={p.errors} />
    </section>
  );
};

export const AdminMePage: FC<{
  csrf: string;
  username: string;
  role: 'operator' | 'domain-admin' | 'system';
  domains: string[];
  totp: boolean;
  errors?: FieldErrors;
}> = (p) => {
  const t = useT();
  return (
    <section>
      <h1>{t('me.adminHeading')}</h1>
      <p>
        {t('me.youAre')} <strong>{p.username}</strong>,{' '}
        {p.role === 'domain-admin'
          ? t('me.adminOf', { domains: p.domains.length === 0 ? t('me.noDomainYet') : p.domains.join(', ') })
          : t('me.operator')}
      </p>
      <p>
        {t('me.totpIs')} <strong>{p.totp ? t('me.on') : t('me.off')}</strong>.{' '}
        <a href="/me/totp">{t('me.totpSettings')}</a>
      </p>
      <PasswordChangeForm csrf={p.csrf} errors={p.errors} />
    </section>
  );
};

/** Groups of four characters are easier to type into an app. */
const grouped = (secret: string) => secret.replace(/(.{4})/g, '$1 ').trim();

export const TotpEnrolPage: FC<{
  csrf: string;
  secret: string;
  uri: string;
  required: boolean;
  error?: string;
}> = (p) => {
  const t = useT();
  return (
    <section class="narrow">
      <h1>{t('totp.enrolHeading')}</h1>
      {p.required ? (
        <p>
          <strong>{t('totp.required')}</strong> {t('totp.setUpNow')}
        </p>
      ) : null}
      <p>{t('totp.explain')}</p>
      <ol>
        <li>{t('totp.step1')}</li>
        <li>
          {t('totp.step2')} <span class="secret mono">{grouped(p.secret)}</span> {t('totp.timeBased')}
        </li>
        <li>{t('totp.step3')}</li>
      </ol>
      <p class="muted">
        {t('totp.linkApps')} <span class="mono">{p.uri}</span>
      </p>
      <form method="post" action="/me/totp">
        <CsrfInput token={p.csrf} />
        <Field name="code" label={t('auth.code')} required autocomplete="one-time-code" error={p.error} />
        <button type="submit">{t('totp.turnOn')}</button>
      </form>
    </section>
  );
};

export const TotpOnPage: FC<{ csrf: string; required: boolean; error?: string }> = (p) => {
  const t = useT();
  return (
    <section class="narrow">
      <h1>{t('totp.onHeading')}</h1>
      <p>{t('totp.onText')}</p>
      {p.required ? (
        <p class="muted">{t('totp.cannotTurnOff')}</p>
      ) : (
        <>
          <FormError error={p.error} />
          <form method="post" action="/me/totp/disable" class="card">
            <h2>{t('totp.offHeading')}</h2>
            <CsrfInput token={p.csrf} />
            <Field
              name="code"
              label={t('auth.code')}
              required
              autocomplete="one-time-code"
              hint={t('totp.currentCode')}
            />
            <button type="submit" class="danger">
              {t('totp.turnOff')}
            </button>
          </form>
        </>
      )}
    </section>
  );
};
