/**
 * Cross-site request forgery, two locks:
 *
 * 1. Hono's `csrf()` (in app.ts): a form POST whose `Origin` (or `Sec-Fetch-Site`) is not this site is
 *    refused;
 * 2. here: every form carries the session's token in a hidden `_csrf` field, and a POST without the
 *    right one is refused with 403, whatever its origin says.
 *
 * The JSON API (`/api/v1`) authenticates with bearer tokens, which a browser never adds by itself, so
 * neither lock applies there.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Session } from './session.js';

export const CSRF_FIELD = '_csrf';

export function csrfTokenMatches(session: Session | null, token: unknown): boolean {
  if (!session || typeof token !== 'string') return false;
  const a = Buffer.from(token);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Throws 403 unless the request's form carries the session's CSRF token. */
export async function requireCsrfToken(c: Context, session: Session | null): Promise<void> {
  const type = c.req.header('content-type') ?? '';
  let token: unknown;
  if (/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) {
    const body = await c.req.parseBody();
    token = body[CSRF_FIELD];
  }
  if (!csrfTokenMatches(session, token)) {
    throw new HTTPException(403, {
      message:
        'This form has expired or did not come from this site. Go back, reload the page and try again.',
    });
  }
}
