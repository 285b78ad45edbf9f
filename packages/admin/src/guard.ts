/**
 * Who is asking. The Actor of a signed-in admin is built from the directory on every request
 * (`actorForAdmin`: a removed admin or a withdrawn domain takes effect at once) and memoised for that
 * request only. Mutating handlers call `adminActor(c)` as their first statement.
 */
import { type Actor, AdminAccessDenied, normaliseDomain, requireDomain } from '@delegato/directory';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv, Deps } from './env.js';
import type { Session } from './session.js';

export type Ctx = Context<AppEnv>;

const actorCache = new WeakMap<Request, Actor>();

/** Sends the browser to the sign-in page (thrown, so it works from any depth). */
export function toLogin(c: Ctx): never {
  throw new HTTPException(303, { res: c.redirect('/login', 303) });
}

/** The signed-in admin's Actor, fresh from the directory; otherwise to the sign-in page. */
export async function adminActor(c: Ctx, deps: Deps): Promise<Actor> {
  const cached = actorCache.get(c.req.raw);
  if (cached) return cached;
  const session = c.get('session');
  if (session?.principal?.kind !== 'admin') {
    if (session?.principal?.kind === 'mailbox') {
      throw new HTTPException(403, { message: 'This page is for administrators.' });
    }
    toLogin(c);
  }
  if (session.stage === 'totp') throw new HTTPException(303, { res: c.redirect('/login/totp', 303) });
  if (session.stage === 'totp-enroll') throw new HTTPException(303, { res: c.redirect('/me/totp', 303) });
  const actor = await freshAdminActor(c, deps, session.principal.username, session.createdAt);
  if (!actor) {
    // The admin was removed, or their password changed since this session began: the session ends.
    await deps.sessions.destroy(session.id);
    toLogin(c);
  }
  actorCache.set(c.req.raw, actor);
  return actor;
}

/**
 * `actorForAdmin` with this request's client address and certificate: null when the admin is gone, or
 * when the session or token (issued at `issuedAt`, ms) predates their last password change; 403 when
 * their access restrictions refuse this client (allowed networks, pinned certificate). The session
 * itself is kept then: a cookie replayed from elsewhere must not sign the owner out.
 */
export async function freshAdminActor(
  c: Ctx,
  deps: Deps,
  username: string,
  issuedAt: number,
): Promise<Actor | null> {
  try {
    return await deps.directory.actorForAdmin(username, c.get('clientIp'), {
      certFingerprint: c.get('clientCert'),
      issuedAt,
    });
  } catch (err) {
    if (err instanceof AdminAccessDenied) {
      throw new HTTPException(403, {
        message:
          err.reason === 'network'
            ? 'Your account may not be used from this network. Ask the operators if you need it.'
            : 'Your account needs its client certificate, and this connection did not present it.',
        cause: { code: 'forbidden' },
      });
    }
    throw err;
  }
}

/** Like adminActor, but only for operators. */
export async function operatorActor(c: Ctx, deps: Deps): Promise<Actor> {
  const actor = await adminActor(c, deps);
  if (actor.kind !== 'operator') throw new HTTPException(403, { message: 'This page is for operators.' });
  return actor;
}

/** The `:domain` of the path, normalised, after checking the actor may manage it (403 otherwise). */
export function scopedDomain(c: Ctx, actor: Actor): string {
  let domain: string;
  try {
    domain = normaliseDomain(c.req.param('domain') ?? '');
  } catch {
    throw new HTTPException(404, { message: 'There is no such domain.' });
  }
  requireDomain(actor, domain);
  return domain;
}

/**
 * The `:address` of the path inside `domain`: an address of another domain is checked against the
 * actor's scope first (403 when it is not theirs), then refused as not found here.
 */
export function scopedAddress(c: Ctx, actor: Actor, domain: string): string {
  const address = (c.req.param('address') ?? '').trim().toLowerCase();
  const at = address.lastIndexOf('@');
  if (at <= 0) throw new HTTPException(404, { message: 'There is no such address.' });
  const other = address.slice(at + 1);
  if (other !== domain) {
    let normalised: string;
    try {
      normalised = normaliseDomain(other);
    } catch {
      throw new HTTPException(404, { message: 'There is no such address.' });
    }
    requireDomain(actor, normalised);
    throw new HTTPException(404, { message: `${address} is not an address of ${domain}.` });
  }
  return address;
}

/** A signed-in end user (self-service), still allowed to log in; otherwise to the sign-in page. */
export async function mailboxUser(
  c: Ctx,
  deps: Deps,
): Promise<{ session: Session; address: string; mailboxId: string }> {
  const session = c.get('session');
  if (session?.principal?.kind !== 'mailbox' || session.stage !== 'full') toLogin(c);
  const mb = await deps.directory.mailboxById(session.principal.mailboxId);
  // Removed, expired, or the password changed since this session began: it ends.
  if (!mb || !deps.directory.mailboxSessionValid(mb, session.createdAt)) {
    await deps.sessions.destroy(session.id);
    toLogin(c);
  }
  return { session, address: mb.address, mailboxId: mb.id };
}

/** An address typed in a form: a bare local part is completed with the domain. */
export function inDomain(input: string, domain: string): string {
  const v = input.trim();
  return v.includes('@') ? v : `${v}@${domain}`;
}
