/**
 * What every JSON API module shares: the JSON error shape and the API's side of the one onError, the
 * validated request body, the bearer token's Actor (the permission check that starts every handler), the
 * `:address`-in-`:domain` check and the list limits.
 */
import { type Actor, DirectoryError } from '@delegato/directory';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import type { AppEnv, Deps } from '../env.js';
import { directoryStatus } from '../errors.js';
import { freshAdminActor } from '../guard.js';

export type Ctx = Context<AppEnv>;

/** A JSON error: `{ error: { code, message, fields? } }`. */
export function apiError(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  fields?: Record<string, string>,
): Response {
  if (status === 401) c.header('WWW-Authenticate', 'Bearer realm="delegato"');
  return c.json({ error: { code, message, ...(fields ? { fields } : {}) } }, status);
}

/** The API's side of the one onError: directory codes and HTTP exceptions as JSON. */
export function apiErrorFromException(c: Context, err: unknown, logError: (err: unknown) => void): Response {
  if (err instanceof DirectoryError) return apiError(c, directoryStatus(err), err.code, err.message);
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    const cause = err.cause as { code?: string; fields?: Record<string, string> } | undefined;
    return apiError(c, status, cause?.code ?? codeOf(status), err.message || 'error', cause?.fields);
  }
  logError(err);
  return apiError(c, 500, 'internal', 'internal error');
}

function codeOf(status: number): string {
  return (
    {
      400: 'invalid',
      401: 'unauthorized',
      403: 'forbidden',
      404: 'not-found',
      409: 'conflict',
      429: 'rate-limited',
    }[status] ?? 'error'
  );
}

/** The request body, validated; 400 with the problems per field otherwise. */
export async function body<S extends z.ZodType>(c: Ctx, schema: S): Promise<z.output<S>> {
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    throw new HTTPException(400, { message: 'the body must be JSON', cause: { code: 'invalid' } });
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const fields: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const key = issue.path.join('.') || '_';
    fields[key] ??= issue.message;
  }
  throw new HTTPException(400, { message: 'invalid request body', cause: { code: 'invalid', fields } });
}

/** The bearer token of the request, or undefined. */
export function bearerToken(c: Ctx): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
}

const actors = new WeakMap<Request, Actor>();

/** The Actor of an API request that already passed `apiActor`, or undefined (the action log's "who"). */
export function apiActorOf(c: Context): Actor | undefined {
  return actors.get(c.req.raw);
}

/** The token's admin as an Actor, fresh from the directory; 401 otherwise. */
export async function apiActor(c: Ctx, deps: Deps): Promise<Actor> {
  const memo = actors.get(c.req.raw);
  if (memo) return memo;
  const bearer = bearerToken(c);
  const token = bearer ? await deps.tokens.verify(bearer) : null;
  // 403 when the admin's allowed networks or pinned certificate refuse this client; null (401) when
  // the admin is gone or changed their password after the token was issued.
  const actor = token ? await freshAdminActor(c, deps, token.username, token.issuedAt) : null;
  if (!actor) {
    if (token && bearer) await deps.tokens.revoke(bearer);
    throw new HTTPException(401, { message: 'a valid bearer token is needed (POST /api/v1/tokens)' });
  }
  actors.set(c.req.raw, actor);
  return actor;
}

/**
 * `:address` (or an address from the body; a bare local part gets `@:domain`) must be in `:domain`:
 * an address of another domain is checked against the actor's scope first (403), then refused (404).
 */
export function addressIn(c: Ctx, actor: Actor, input?: string): string {
  const domain = c.req.param('domain')?.trim().toLowerCase() ?? '';
  const raw = (input ?? c.req.param('address') ?? '').trim().toLowerCase();
  const address = raw.includes('@') ? raw : `${raw}@${domain}`;
  if (address.slice(address.lastIndexOf('@') + 1) !== domain) {
    if (
      actor.kind === 'domain-admin' &&
      !actor.domains.includes(address.slice(address.lastIndexOf('@') + 1))
    ) {
      throw new DirectoryError('forbidden', `${actor.name} may not manage ${address}`);
    }
    throw new HTTPException(404, { message: `${address} is not in ${domain}` });
  }
  return address;
}

/** `?limit=` (1..10,000, default 100). */
export function limitOf(c: Ctx): number {
  return Math.min(Math.max(Number.parseInt(c.req.query('limit') ?? '100', 10) || 100, 1), 10_000);
}
