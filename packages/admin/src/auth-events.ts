/**
 * Sign-in events in the directory's audit log (`Directory.recordAuthEvent`): successful and failed
 * sign-ins (form and API), sign-outs, and the start of a lockout, with who and the client address.
 * Never a password or a code: `details` holds only the reason and the channel. Each is also logged
 * (`admin.signin`, `admin.signin_failed`, `admin.lockout`, `admin.signout`).
 */
import { type AuthEventAction, adminAccountKey } from '@delegato/directory';
import { logEvent, logEventAt } from '@delegato/observability';
import type { Deps } from './env.js';
import type { Ctx } from './guard.js';
import type { Principal } from './session.js';

export type FailReason = 'password' | 'totp' | 'network' | 'certificate';

export async function recordAuth(
  c: Ctx,
  deps: Deps,
  action: AuthEventAction,
  who: { actor: string; target: string; domain?: string | null },
  details?: Record<string, unknown>,
): Promise<void> {
  await deps.directory.recordAuthEvent({
    action,
    actor: who.actor,
    from: c.get('clientIp'),
    target: who.target,
    ...(who.domain ? { domain: who.domain } : {}),
    ...(details ? { details } : {}),
  });
  logAuth(deps, action, { ...details, actor: who.actor, target: who.target, client: c.get('clientIp') });
}

/** The log line of an audited sign-in event (the same fields: who, the name typed, the client, why). */
function logAuth(deps: Deps, action: AuthEventAction, fields: Record<string, unknown>): void {
  switch (action) {
    case 'auth.signin':
    case 'auth.token':
      // `via: 'api'`: a bearer token was issued (auth.token in the audit log).
      logEvent(deps.log, 'admin.signin', fields);
      break;
    case 'auth.signin-failed':
      logEvent(deps.log, 'admin.signin_failed', fields);
      break;
    case 'auth.lockout':
      logEventAt(deps.log, 'warn', 'admin.lockout', fields);
      break;
    case 'auth.signout':
      logEvent(deps.log, 'admin.signout', fields);
      break;
  }
}

/**
 * A failed attempt; then, when this failure started a lockout, that too. `limitKey` is what the limiter
 * counts it on: the name typed (default), or the second factor's own key (`secondFactorKey`).
 */
export async function recordFailure(
  c: Ctx,
  deps: Deps,
  account: string,
  reason: FailReason,
  via: 'form' | 'api',
  limitKey: string = account,
): Promise<void> {
  const ip = c.get('clientIp');
  deps.limiter.fail(ip, limitKey);
  await recordAuth(c, deps, 'auth.signin-failed', { actor: 'anonymous', target: account }, { reason, via });
  const decision = deps.limiter.check(ip, limitKey);
  if (!decision.allowed) {
    await recordAuth(
      c,
      deps,
      'auth.lockout',
      { actor: 'anonymous', target: account },
      // With the account and the end, the directory records it for every region (lockouts.ts).
      {
        retryAfterSeconds: Math.ceil(decision.retryAfterMs / 1000),
        via,
        account: adminAccountKey(account),
        until: new Date(Date.now() + decision.retryAfterMs).toISOString(),
      },
    );
  }
}

/**
 * A sign-in refused by the rate limiter before any check: logged (not audited: a flood would fill the
 * audit log), with the name typed and the client.
 */
export function logRateLimited(c: Ctx, deps: Deps, account: string, via: 'form' | 'api'): void {
  logEvent(deps.log, 'admin.signin_failed', {
    target: account,
    client: c.get('clientIp'),
    reason: 'rate-limited',
    via,
  });
}

/** The audit actor of a signed-in principal: `operator:root`, `domain-admin:alice`, `mailbox:rose@...`. */
export async function principalActor(
  deps: Deps,
  p: Principal,
): Promise<{ actor: string; domain: string | null }> {
  if (p.kind === 'mailbox') return { actor: `mailbox:${p.address}`, domain: p.address.split('@')[1] ?? null };
  // The role, without the access checks (a sign-out from a refused network is still recorded).
  const role = await deps.directory.adminRole(p.username);
  return { actor: `${role ?? 'admin'}:${p.username}`, domain: null };
}
