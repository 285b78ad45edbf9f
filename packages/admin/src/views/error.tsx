/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';
import { useT } from '../i18n/index.js';

export const ErrorPage: FC<{ title: string; message: string; status: number }> = ({
  title,
  message,
  status,
}) => {
  const t = useT();
  return (
    <section class="narrow error-page">
      <h1>{title}</h1>
      <p>{message}</p>
      <p class="muted">{t('error.code', { status })}</p>
      <p>
        <a href="/">{t('error.backToStart')}</a>
      </p>
    </section>
  );
};
