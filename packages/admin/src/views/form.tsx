/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Form pieces: labelled fields with their error next to them, the CSRF field, one-button forms. */
import type { Child, FC } from 'hono/jsx';
import { CSRF_FIELD } from '../csrf.js';

export const CsrfInput: FC<{ token: string }> = ({ token }) => (
  <input type="hidden" name={CSRF_FIELD} value={token} />
);

export interface FieldProps {
  name: string;
  label: string;
  type?: string;
  value?: string;
  error?: string | undefined;
  hint?: Child;
  required?: boolean;
  autocomplete?: string;
  placeholder?: string;
  id?: string;
}

const described = (id: string, hint: unknown, error: unknown) =>
  [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;

/** A labelled input; the label's text is exactly `label` (hints go beside it, not in it). */
export const Field: FC<FieldProps> = (p) => {
  const id = p.id ?? p.name;
  return (
    <div class={p.error ? 'field has-error' : 'field'}>
      <label for={id}>{p.label}</label>
      <input
        id={id}
        name={p.name}
        type={p.type ?? 'text'}
        value={p.type === 'password' ? undefined : p.value}
        required={p.required}
        autocomplete={p.autocomplete}
        placeholder={p.placeholder}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={described(id, p.hint, p.error)}
      />
      {p.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {p.hint}
        </p>
      ) : null}
      <FieldError id={id} error={p.error} />
    </div>
  );
};

export const TextArea: FC<FieldProps & { rows?: number }> = (p) => {
  const id = p.id ?? p.name;
  return (
    <div class={p.error ? 'field has-error' : 'field'}>
      <label for={id}>{p.label}</label>
      <textarea
        id={id}
        name={p.name}
        rows={p.rows ?? 3}
        required={p.required}
        aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={described(id, p.hint, p.error)}
      >
        {p.value ?? ''}
      </textarea>
      {p.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {p.hint}
        </p>
      ) : null}
      <FieldError id={id} error={p.error} />
    </div>
  );
};

export const FieldError: FC<{ id: string; error?: string | undefined }> = ({ id, error }) =>
  error ? (
    <p class="field-error" id={`${id}-error`} role="alert">
      {error}
    </p>
  ) : null;

/** A message about the whole form (the directory refused it). */
export const FormError: FC<{ error?: string | undefined }> = ({ error }) =>
  error ? (
    <div class="form-error" role="alert">
      <p>{error}</p>
    </div>
  ) : null;

/** A form with just a button (remove, sign out), carrying the CSRF token. */
export const ButtonForm: FC<{
  action: string;
  csrf: string;
  label: string;
  danger?: boolean;
  children?: Child;
}> = ({ action, csrf, label, danger, children }) => (
  <form method="post" action={action} class="inline">
    <CsrfInput token={csrf} />
    {children}
    <button type="submit" class={danger ? 'danger' : undefined}>
      {label}
    </button>
  </form>
);
