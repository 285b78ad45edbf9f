/**
 * API tokens: `POST /api/v1/tokens` (an admin's username and password, and TOTP code for admins who have
 * two-step sign-in) returns a bearer token; `DELETE /api/v1/tokens/current` revokes the one in use.
 * The tokens themselves are kept by `TokenStore` (tokens.ts).
 */
import { type Actor, AdminAccessDenied } from '@delegato/directory';
import { Hono } from 'hono';
import { logRateLimited, principalActor, recordAuth, recordFailure } from '../auth-events.js';
import type { AppEnv, Deps } from '../env.js';
import { checkSignIn, secondFactorKey } from '../rate-limit.js';
import { apiTokenRequest } from '../schemas.js';
import { verifyTotp } from '../totp.js';
import { apiActor, apiError, bearerToken, body } from './common.js';

export function tokenApi(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/tokens', async (c) => {
    const ip = c.get('clientIp');
    const req = await body(c, apiTokenRequest);
    const decision = checkSignIn(deps.limiter, ip, req.username);
    if (!decision.allowed) {
      logRateLimited(c, deps, req.username, 'api');
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
    const actor = await apiActor(c, deps);
    await deps.tokens.revoke(bearerToken(c) ?? '');
    await recordAuth(
      c,
      deps,
      'auth.signout',
      { ...(await principalActor(deps, { kind: 'admin', username: actor.name })), target: actor.name },
      { via: 'api' },
    );
    return c.body(null, 204);
  });

  return app;
}
