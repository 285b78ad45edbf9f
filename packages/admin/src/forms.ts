/**
 * Reading and validating HTML forms with zod: every field a string (or a list for multi-selects), empty
 * optional fields absent, and the first problem of each field as a message shown next to it.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { CSRF_FIELD } from './csrf.js';

export type FormValues = Record<string, string | string[]>;
export type FieldErrors = Record<string, string>;

export type FormResult<T> =
  | { ok: true; data: T; values: FormValues }
  | { ok: false; errors: FieldErrors; values: FormValues };

/** The submitted form (files ignored; the CSRF token left out). */
export async function readForm(c: Context): Promise<FormValues> {
  const body = await c.req.parseBody({ all: true });
  const out: FormValues = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === CSRF_FIELD) continue;
    if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string');
    else if (typeof v === 'string') out[k] = v;
  }
  return out;
}

export function validate<S extends z.ZodType>(schema: S, values: FormValues): FormResult<z.output<S>> {
  const parsed = schema.safeParse(values);
  if (parsed.success) return { ok: true, data: parsed.data, values };
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const key = String(issue.path[0] ?? '_form');
    if (!(key in errors)) errors[key] = issue.message;
  }
  return { ok: false, errors, values };
}

/** A single value of a form field, for re-filling it ('' when absent). */
export function one(values: FormValues | undefined, key: string): string {
  const v = values?.[key];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

/** All values of a (multi-select) field. */
export function many(values: FormValues | undefined, key: string): string[] {
  const v = values?.[key];
  return Array.isArray(v) ? v : v ? [v] : [];
}

/** Values safe to send back into a page: never passwords or codes. */
export function withoutSecrets(values: FormValues): FormValues {
  return Object.fromEntries(Object.entries(values).filter(([k]) => !/password|code/i.test(k)));
}
