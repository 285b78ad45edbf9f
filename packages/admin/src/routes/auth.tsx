/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Signing in and out: GET/POST /login, GET/POST /login/totp, POST /logout. */
import { type Actor, AdminAccessDenied, mailboxAccountKey } from '@delegato/directory';
import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { logRateLimited, principalActor, recordAuth, recordFailure } from '../auth-events.js';
import type { AppEnv, Deps } from '../env.js';
import { one, readForm, validate, withoutSecrets } from '../forms.js';
import { type Ctx, freshAdminActor } from '../guard.js';
import { tr } from '../i18n/index.js';
import { checkSignIn, secondFactorKey } from '../rate-limit.js';
import { render } from '../render.js';
import { loginForm, totpForm } from '../schemas.js';
import { type Principal, SESSION_COOKIE, type Session } from '../session.js';
import { verifyTotp } from '../totp.js';
import { LoginPage, TooManyPage, TotpPage } from '../views/auth.js';

export function setSessionCookie(c: Ctx, deps: Deps, session: Session): void {
  setCookie(c, SESSION_COOKIE, deps.sessions.cookieValue(session), {
    httpOnly: true,
    secure: true,
    sameSite: 'Strict',
    path: '/',
  });
}

/** The session of this request, or a new anonymous one (with its cookie) for a form that needs a token. */
function ensureSession(c: Ctx, deps: Deps): Session {
  const existing = c.get('session');
  if (existing) return existing;
  const session = deps.sessions.create();
  c.set('session', session);
  setSessionCookie(c, deps, session);
  return session;
}

/** A fresh session (new id, CSRF token and issue time) for `principal`, replacing this request's. */
export async function signIn(
  c: Ctx,
  deps: Deps,
  principal: Principal,
  stage: Session['stage'],
): Promise<Session> {
  const session = await deps.sessions.signIn(c.get('session'), principal, stage);
  c.set('session', session);
  setSessionCookie(c, deps, session);
  return session;
}

async function tooMany(c: Ctx, deps: Deps, retryAfterMs: number): Promise<Response> {
  const seconds = Math.ceil(retryAfterMs / 1000);
  c.header('Retry-After', String(seconds));
  return render(
    c,
    deps,
    { title: tr(c)('auth.tooManyTitle'), help: 'signing-in' },
    <TooManyPage minutes={Math.max(1, Math.ceil(seconds / 60))} />,
    429,
  );
}

export function authRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const loginInfo = (c: Ctx) => ({ title: tr(c)('login.title'), help: 'signing-in' });

  app.get('/login', async (c) => {
    const current = c.get('session');
    if (current?.principal && current.stage === 'full') return c.redirect('/', 303);
    if (current?.stage === 'totp') return c.redirect('/login/totp', 303);
    const session = ensureSession(c, deps);
    return render(c, deps, loginInfo(c), <LoginPage csrf={session.csrf} />);
  });

  app.post('/login', async (c) => {
    const ip = c.get('clientIp');
    const form = validate(loginForm, await readForm(c));
    const session = ensureSession(c, deps);
    if (!form.ok) {
      const page = (
        <LoginPage
          csrf={session.csrf}
          username={one(withoutSecrets(form.values), 'username')}
          errors={form.errors}
        />
      );
      return render(c, deps, loginInfo(c), page, 400);
    }
    const { username, password } = form.data;
    // Every name of a mailbox (official address, aliases) counts on the mailbox's one budget, shared
    // with IMAP, POP3 and SMTP AUTH; a name that names nothing keeps a budget of its own.
    if (username.includes('@')) {
      const mb = await deps.directory.resolveLogin(username);
      if (mb) deps.limiter.bind(username, mailboxAccountKey(mb.id));
    }
    const decision = checkSignIn(deps.limiter, ip, username);
    if (!decision.allowed) {
      logRateLimited(c, deps, username, 'form');
      return tooMany(c, deps, decision.retryAfterMs);
    }

    let actor: Actor | null = null;
    let refused: AdminAccessDenied | null = null;
    try {
      actor = await deps.directory.authenticateAdmin(username, password, ip, {
        certFingerprint: c.get('clientCert'),
      });
    } catch (err) {
      if (!(err instanceof AdminAccessDenied)) throw err;
      refused = err;
    }
    if (actor) {
      deps.limiter.succeed(ip, username);
      const hasTotp = (await deps.totp.get(actor.name)) !== null;
      const stage = hasTotp ? 'totp' : deps.requireTotp ? 'totp-enroll' : 'full';
      await signIn(c, deps, { kind: 'admin', username: actor.name }, stage);
      // With a second factor, the sign-in is recorded once the code is right.
      if (stage !== 'totp') {
        await recordAuth(
          c,
          deps,
          'auth.signin',
          { actor: `${actor.kind}:${actor.name}`, target: actor.name },
          { via: 'form', ...(stage === 'totp-enroll' ? { stage } : {}) },
        );
      }
      return c.redirect(stage === 'totp' ? '/login/totp' : stage === 'totp-enroll' ? '/me/totp' : '/', 303);
    }
    if (!refused && username.includes('@')) {
      const mb = await deps.directory.authenticateMailbox(username, password);
      if (mb) {
        deps.limiter.succeed(ip, username);
        const principal: Principal = { kind: 'mailbox', address: mb.address, mailboxId: mb.mailboxId };
        await signIn(c, deps, principal, 'full');
        await recordAuth(
          c,
          deps,
          'auth.signin',
          { ...(await principalActor(deps, principal)), target: mb.address },
          { via: 'form' },
        );
        return c.redirect('/me', 303);
      }
    }
    // A refused network or certificate looks like a wrong password to the client; the audit log says why.
    await recordFailure(c, deps, username, refused ? refused.reason : 'password', 'form');
    const page = <LoginPage csrf={session.csrf} username={username} error={tr(c)('auth.wrongPassword')} />;
    return render(c, deps, loginInfo(c), page, 401);
  });

  app.get('/login/totp', async (c) => {
    const session = c.get('session');
    if (session?.stage !== 'totp') return c.redirect('/login', 303);
    return render(
      c,
      deps,
      { title: tr(c)('auth.totpTitle'), help: 'two-step' },
      <TotpPage csrf={session.csrf} />,
    );
  });

  app.post('/login/totp', async (c) => {
    const session = c.get('session');
    if (session?.stage !== 'totp' || session.principal?.kind !== 'admin') {
      return c.redirect('/login', 303);
    }
    const username = session.principal.username;
    const ip = c.get('clientIp');
    // Wrong codes count on the second factor's own budget: the right password before them forgave
    // only password failures, so "password, some codes" cannot be repeated for ever.
    const decision = checkSignIn(deps.limiter, ip, username);
    if (!decision.allowed) {
      logRateLimited(c, deps, username, 'form');
      await deps.sessions.destroy(session.id);
      return tooMany(c, deps, decision.retryAfterMs);
    }
    // The password step is void once the password changed (or the admin went) since it.
    if (!(await freshAdminActor(c, deps, username, session.createdAt))) {
      await deps.sessions.destroy(session.id);
      return c.redirect('/login', 303);
    }
    const form = validate(totpForm, await readForm(c));
    const secret = await deps.totp.get(username);
    const step = form.ok && secret ? verifyTotp(secret, form.data.code, deps.now()) : null;
    if (step === null || !deps.totpReplay.accept(username, step)) {
      await recordFailure(c, deps, username, 'totp', 'form', secondFactorKey(username));
      const page = <TotpPage csrf={session.csrf} error={tr(c)('auth.wrongCode')} />;
      return render(c, deps, { title: tr(c)('auth.totpTitle'), help: 'two-step' }, page, 401);
    }
    deps.limiter.succeed(ip, username);
    deps.limiter.succeed(ip, secondFactorKey(username));
    const principal: Principal = { kind: 'admin', username };
    await signIn(c, deps, principal, 'full');
    await recordAuth(
      c,
      deps,
      'auth.signin',
      { ...(await principalActor(deps, principal)), target: username },
      { via: 'form', totp: true },
    );
    return c.redirect('/', 303);
  });

  app.post('/logout', async (c) => {
    const session = c.get('session');
    if (session) {
      await deps.sessions.destroy(session.id);
      if (session.principal) {
        const p = session.principal;
        const target = p.kind === 'admin' ? p.username : p.address;
        await recordAuth(c, deps, 'auth.signout', { ...(await principalActor(deps, p)), target });
      }
    }
    c.set('session', null);
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true });
    return c.redirect('/login', 303);
  });

  return app;
}
