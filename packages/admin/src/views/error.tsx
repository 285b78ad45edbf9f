/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
import type { FC } from 'hono/jsx';

export const ErrorPage: FC<{ title: string; message: string; status: number }> = ({
  title,
  message,
  status,
}) => (
  <section class="narrow error-page">
    <h1>{title}</h1>
    <p>{message}</p>
    <p class="muted">Error {status}.</p>
    <p>
      <a href="/">Back to the start page</a>
    </p>
  </section>
);
