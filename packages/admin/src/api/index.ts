/**
 * The JSON API under /api/v1: the same operations as the pages, through the same directory calls with
 * the same Actor (built fresh from the directory for every request), so the same permission checks.
 *
 * Authentication: `POST /api/v1/tokens` with an admin's username and password (and TOTP code, for admins
 * who have two-step sign-in) returns a bearer token; every other call sends `Authorization: Bearer <token>`.
 * Described by `GET /api/v1/openapi.json` (no token needed).
 */
import { type Actor, AdminAccessDenied, DirectoryError, randomPassword } from '@delegato/directory';
import { type Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { principalActor, recordAuth, recordFailure } from '../auth-events.js';
import type { AppEnv, Deps } from '../env.js';
import { directoryStatus } from '../errors.js';
import { freshAdminActor } from '../guard.js';
import { openApiDocument } from '../openapi.js';
import { checkSignIn, secondFactorKey } from '../rate-limit.js';
import {
  apiAdminAccess,
  apiNewAdmin,
  apiNewAlias,
  apiNewDomain,
  apiNewForward,
  apiNewList,
  apiNewMailbox,
  apiSetExpiry,
  apiSetPassword,
  apiTokenRequest,
} from '../schemas.js';
import { verifyTotp } from '../totp.js';

type Ctx = Context<AppEnv>;

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
async function body<S extends z.ZodType>(c: Ctx, schema: S): Promise<z.output<S>> {
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

const actors = new WeakMap<Request, Actor>();

export function apiRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  /** The token's admin as an Actor, fresh from the directory; 401 otherwise. */
  const apiActor = async (c: Ctx): Promise<Actor> => {
    const memo = actors.get(c.req.raw);
    if (memo) return memo;
    const m = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    const token = m?.[1] ? await deps.tokens.verify(m[1]) : null;
    // 403 when the admin's allowed networks or pinned certificate refuse this client; null (401) when
    // the admin is gone or changed their password after the token was issued.
    const actor = token ? await freshAdminActor(c, deps, token.username, token.issuedAt) : null;
    if (!actor) {
      if (token && m?.[1]) await deps.tokens.revoke(m[1]);
      throw new HTTPException(401, { message: 'a valid bearer token is needed (POST /api/v1/tokens)' });
    }
    actors.set(c.req.raw, actor);
    return actor;
  };

  app.get('/openapi.json', (c) => c.json(openApiDocument()));

  // ---------------------------------------------------------------- tokens

  app.post('/tokens', async (c) => {
    const ip = c.get('clientIp');
    const req = await body(c, apiTokenRequest);
    const decision = checkSignIn(deps.limiter, ip, req.username);
    if (!decision.allowed) {
      c.header('Retry-After', String(Math.ceil(decision.retryAfterMs / 1000)));
      return apiError(c, 429, 'rate-limited', 'too many failed attempts; try again later');
    }
    let actor: Actor | null = null;
    let refused: AdminAccessDenied | null = null;
    try {
      actor = await deps.directory.authenticateAdmin(req.username, req.password, ip, {
        certFingerprint: c.get('clientCert'),
      });
    } catch (err) {
      if (!(err instanceof AdminAccessDenied)) throw err;
      refused = err;
    }
    if (!actor) {
      await recordFailure(c, deps, req.username, refused ? refused.reason : 'password', 'api');
      return apiError(c, 401, 'unauthorized', 'wrong username or password');
    }
    const secret = await deps.totp.get(actor.name);
    if (secret) {
      const step = req.code ? verifyTotp(secret, req.code, deps.now()) : null;
      if (step === null || !deps.totpReplay.accept(actor.name, step)) {
        await recordFailure(c, deps, req.username, 'totp', 'api', secondFactorKey(actor.name));
        return apiError(c, 401, 'totp-required', 'a valid current TOTP code is needed in "code"');
      }
    } else if (deps.requireTotp) {
      return apiError(c, 403, 'totp-enrolment-required', 'set up two-step sign-in in the web UI first');
    }
    deps.limiter.succeed(ip, req.username);
    if (secret) deps.limiter.succeed(ip, secondFactorKey(actor.name));
    const issued = await deps.tokens.issue(actor.name);
    await recordAuth(
      c,
      deps,
      'auth.token',
      { actor: `${actor.kind}:${actor.name}`, target: actor.name },
      { via: 'api', expiresAt: issued.expiresAt },
    );
    return c.json(issued, 201);
  });

  app.delete('/tokens/current', async (c) => {
    const actor = await apiActor(c);
    const token = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
    await deps.tokens.revoke(token);
    await recordAuth(
      c,
      deps,
      'auth.signout',
      { ...(await principalActor(deps, { kind: 'admin', username: actor.name })), target: actor.name },
      { via: 'api' },
    );
    return c.body(null, 204);
  });

  // ---------------------------------------------------------------- operator resources

  app.get('/regions', async (c) => {
    await apiActor(c);
    return c.json(await deps.directory.listRegions());
  });

  app.get('/domains', async (c) => {
    const actor = await apiActor(c);
    return c.json(await deps.directory.listDomains(actor));
  });

  app.post('/domains', async (c) => {
    const actor = await apiActor(c);
    const req = await body(c, apiNewDomain);
    const added = await deps.directory.addDomain(actor, req.name, req.region ? { region: req.region } : {});
    return c.json(added, 201);
  });

  app.delete('/domains/:domain', async (c) => {
    const actor = await apiActor(c);
    const force = c.req.query('force') === 'true';
    const removed = await deps.directory.removeDomain(actor, c.req.param('domain'), { force });
    return c.json({ name: c.req.param('domain'), removed: true, mailboxes: removed.mailboxIds.length });
  });

  app.get('/admins', async (c) => {
    const actor = await apiActor(c);
    return c.json(await deps.directory.listAdmins(actor));
  });

  app.post('/admins', async (c) => {
    const actor = await apiActor(c);
    const req = await body(c, apiNewAdmin);
    const added = await deps.directory.addAdmin(actor, {
      username: req.username,
      role: req.role,
      password: req.password,
      ...(req.domains ? { domains: req.domains } : {}),
    });
    return c.json(added, 201);
  });

  app.get('/admins/:username', async (c) => {
    const actor = await apiActor(c);
    return c.json(await deps.directory.getAdmin(actor, c.req.param('username')));
  });

  app.put('/admins/:username/access', async (c) => {
    const actor = await apiActor(c);
    // Operators only: checked here first and again by the directory.
    if (actor.kind !== 'operator') throw new HTTPException(403, { message: 'operators only' });
    const req = await body(c, apiAdminAccess);
    const updated = await deps.directory.setAdminAccess(actor, c.req.param('username'), {
      ...(req.allowedNetworks !== undefined ? { allowedNetworks: req.allowedNetworks } : {}),
      ...(req.certFingerprint !== undefined ? { certFingerprint: req.certFingerprint } : {}),
    });
    return c.json(updated);
  });

  app.delete('/admins/:username', async (c) => {
    const actor = await apiActor(c);
    const username = c.req.param('username').trim().toLowerCase();
    await deps.directory.removeAdmin(actor, username);
    // Their sessions and tokens end now; the TOTP secret went with the directory row.
    await deps.sessions.destroyOwner({ kind: 'admin', username });
    await deps.tokens.revokeUser(username);
    return c.json({ username, removed: true });
  });

  app.get('/audit', async (c) => {
    const actor = await apiActor(c);
    const domain = c.req.query('domain');
    const limit = Math.min(Math.max(Number.parseInt(c.req.query('limit') ?? '100', 10) || 100, 1), 10_000);
    return c.json(await deps.directory.listAudit(actor, { limit, ...(domain ? { domain } : {}) }));
  });

  // ---------------------------------------------------------------- per domain

  app.get('/domains/:domain/mailboxes', async (c) => {
    const actor = await apiActor(c);
    const q = c.req.query('q');
    const limit = Math.min(Math.max(Number.parseInt(c.req.query('limit') ?? '100', 10) || 100, 1), 10_000);
    const offset = Math.max(Number.parseInt(c.req.query('offset') ?? '0', 10) || 0, 0);
    return c.json(
      await deps.directory.listMailboxes(actor, c.req.param('domain'), {
        limit,
        offset,
        ...(q ? { search: q } : {}),
      }),
    );
  });

  app.post('/domains/:domain/mailboxes', async (c) => {
    const actor = await apiActor(c);
    const req = await body(c, apiNewMailbox);
    const generated = req.password === undefined ? randomPassword() : undefined;
    const created = await deps.directory.addMailbox(actor, {
      domain: c.req.param('domain'),
      kind: req.kind,
      ...(req.firstName !== undefined ? { firstName: req.firstName } : {}),
      ...(req.lastName !== undefined ? { lastName: req.lastName } : {}),
      ...(req.localPart !== undefined ? { localPart: req.localPart } : {}),
      ...(req.username !== undefined ? { username: req.username } : {}),
      ...(req.group !== undefined ? { group: req.group } : {}),
      ...(req.contact !== undefined ? { contact: req.contact } : {}),
      ...(req.flag !== undefined ? { flag: req.flag } : {}),
      ...(req.quotaBytes !== undefined ? { quotaBytes: req.quotaBytes } : {}),
      ...(req.expiresOn !== undefined ? { expiresOn: req.expiresOn } : {}),
      password: req.password ?? generated ?? '',
    });
    return c.json({ ...created, ...(generated ? { password: generated } : {}) }, 201);
  });

  /**
   * `:address` (or an address from the body; a bare local part gets `@:domain`) must be in `:domain`:
   * an address of another domain is checked against the actor's scope first (403), then refused (404).
   */
  const addressIn = (c: Ctx, actor: Actor, input?: string): string => {
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
  };

  app.get('/domains/:domain/mailboxes/:address', async (c) => {
    const actor = await apiActor(c);
    const address = addressIn(c, actor);
    const domain = c.req.param('domain');
    const { mailboxes } = await deps.directory.listMailboxes(actor, domain, {
      search: address.slice(0, address.lastIndexOf('@')),
      limit: 10_000,
    });
    const mailbox = mailboxes.find((m) => m.address === address);
    if (!mailbox) throw new HTTPException(404, { message: `no mailbox ${address}` });
    const aliases = (await deps.directory.listAliases(actor, domain)).filter((a) =>
      a.targets.includes(address),
    );
    return c.json({ mailbox, aliases });
  });

  app.delete('/domains/:domain/mailboxes/:address', async (c) => {
    const actor = await apiActor(c);
    const address = addressIn(c, actor);
    const removed = await deps.directory.removeMailbox(actor, address, {
      purge: c.req.query('purge') === 'true',
    });
    await deps.sessions.destroyOwner({ kind: 'mailbox', mailboxId: removed.mailboxId });
    return c.json(removed);
  });

  app.put('/domains/:domain/mailboxes/:address/password', async (c) => {
    const actor = await apiActor(c);
    const address = addressIn(c, actor);
    const req = await body(c, apiSetPassword);
    await deps.directory.setPassword(actor, address, req.password);
    return c.json({ address, changed: true });
  });

  app.put('/domains/:domain/mailboxes/:address/expiry', async (c) => {
    const actor = await apiActor(c);
    const address = addressIn(c, actor);
    const req = await body(c, apiSetExpiry);
    const { expiresOn } = await deps.directory.setExpiry(actor, address, req.expiresOn);
    return c.json({ address, expiresOn });
  });

  const kindsOf = {
    aliases: ['generated', 'manual', 'legacy'],
    forwards: ['forward'],
    lists: ['list'],
  } as const;

  for (const section of ['aliases', 'forwards', 'lists'] as const) {
    app.get(`/domains/:domain/${section}`, async (c) => {
      const actor = await apiActor(c);
      return c.json(
        await deps.directory.listAliases(actor, c.req.param('domain'), { kinds: [...kindsOf[section]] }),
      );
    });
    app.delete(`/domains/:domain/${section}/:address`, async (c) => {
      const actor = await apiActor(c);
      const address = addressIn(c, actor);
      await deps.directory.removeAlias(actor, address);
      return c.json({ address, removed: true });
    });
  }

  app.post('/domains/:domain/aliases', async (c) => {
    const actor = await apiActor(c);
    const req = await body(c, apiNewAlias);
    return c.json(await deps.directory.addAlias(actor, addressIn(c, actor, req.alias), req.targets), 201);
  });

  app.post('/domains/:domain/forwards', async (c) => {
    const actor = await apiActor(c);
    const req = await body(c, apiNewForward);
    return c.json(await deps.directory.addForward(actor, addressIn(c, actor, req.address), req.remote), 201);
  });

  app.post('/domains/:domain/lists', async (c) => {
    const actor = await apiActor(c);
    const req = await body(c, apiNewList);
    return c.json(
      await deps.directory.addListAlias(actor, addressIn(c, actor, req.address), req.listServer),
      201,
    );
  });

  return app;
}
