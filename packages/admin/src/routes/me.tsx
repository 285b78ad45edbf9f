/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * The signed-in person's own pages.
 * End users: GET /me, POST /me/password, GET /me/setup. Admins: GET /me, POST /me/password, GET/POST
 * /me/totp (enrol), POST /me/totp/disable.
 */
import type { Actor } from '@delegato/directory';
import { DirectoryError, mailboxAccountKey } from '@delegato/directory';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv, Deps } from '../env.js';
import { readForm, validate } from '../forms.js';
import { adminActor, type Ctx, freshAdminActor, mailboxUser, toLogin } from '../guard.js';
import { tr } from '../i18n/index.js';
import { personalPasswordProblem } from '../password-rules.js';
import { csrfOf, flash, render } from '../render.js';
import { changeOwnPasswordForm, totpForm } from '../schemas.js';
import type { Session } from '../session.js';
import { newTotpSecret, totpUri, verifyTotp } from '../totp.js';
import { OwnedLists } from '../views/mailing-lists.js';
import { AdminMePage, MailboxMePage, TotpEnrolPage, TotpOnPage } from '../views/me.js';
import { SetupSheet } from '../views/setup.js';
import { setSessionCookie, signIn } from './auth.js';
import { setupInfo } from './mailboxes.js';
import { ownedLists } from './me-lists.js';

/**
 * The actor for an end user changing their own password. The directory knows actors for admins only;
 * this one may touch exactly one address, and that address comes from the session, never from the
 * request. The audit log records it as `system:self-service:<address>`.
 */
function selfServiceActor(address: string, from: string): Actor {
  return { kind: 'system', name: `self-service:${address}`, from };
}

/** An admin signed in with their password, enrolling or fully signed in (the TOTP pages). */
async function totpAdmin(c: Ctx, deps: Deps): Promise<{ session: Session; username: string; actor: Actor }> {
  const session = c.get('session');
  if (session?.principal?.kind !== 'admin') toLogin(c);
  if (session.stage !== 'full' && session.stage !== 'totp-enroll') toLogin(c);
  const actor = await freshAdminActor(c, deps, session.principal.username, session.createdAt);
  if (!actor) {
    await deps.sessions.destroy(session.id);
    toLogin(c);
  }
  return { session, username: actor.name, actor };
}

export function meRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const info = (c: Ctx) => ({ title: tr(c)('me.title'), help: 'my-account', section: 'me' });

  const mePage = async (c: Ctx, errors?: Record<string, string>, status: 200 | 400 | 401 = 200) => {
    const session = c.get('session');
    if (session?.principal?.kind === 'mailbox') {
      const { address, mailboxId } = await mailboxUser(c, deps);
      const mb = await deps.directory.mailboxById(mailboxId);
      return render(
        c,
        deps,
        info(c),
        <MailboxMePage
          csrf={csrfOf(c)}
          address={address}
          username={mb?.username ?? ''}
          {...(errors ? { errors } : {})}
        >
          <OwnedLists csrf={csrfOf(c)} lists={await ownedLists(deps, address)} />
        </MailboxMePage>,
        status,
      );
    }
    const actor = await adminActor(c, deps);
    const totp = (await deps.totp.get(actor.name)) !== null;
    return render(
      c,
      deps,
      info(c),
      <AdminMePage
        csrf={csrfOf(c)}
        username={actor.name}
        role={actor.kind}
        domains={actor.kind === 'domain-admin' ? [...actor.domains] : []}
        totp={totp}
        {...(errors ? { errors } : {})}
      />,
      status,
    );
  };

  app.get('/me', (c) => mePage(c));

  app.post('/me/password', async (c) => {
    const session = c.get('session');
    const who =
      session?.principal?.kind === 'mailbox'
        ? { kind: 'mailbox' as const, ...(await mailboxUser(c, deps)) }
        : { kind: 'admin' as const, actor: await adminActor(c, deps) };
    const ip = c.get('clientIp');
    const form = validate(changeOwnPasswordForm, await readForm(c));
    if (!form.ok) return mePage(c, form.errors, 400);
    // A mailbox's budget is the one of all its names (and of IMAP, POP3, SMTP AUTH).
    const account = who.kind === 'mailbox' ? mailboxAccountKey(who.mailboxId) : who.actor.name;
    const decision = deps.limiter.check(ip, account);
    if (!decision.allowed) {
      throw new HTTPException(429, {
        message: tr(c)('me.tooManyPasswords'),
      });
    }
    const right =
      who.kind === 'mailbox'
        ? (await deps.directory.authenticateMailbox(who.address, form.data.currentPassword)) !== null
        : (await deps.directory.authenticateAdmin(who.actor.name, form.data.currentPassword, ip, {
            certFingerprint: c.get('clientCert'),
          })) !== null;
    if (!right) {
      deps.limiter.fail(ip, account);
      return mePage(c, { currentPassword: tr(c)('me.notCurrentPassword') }, 400);
    }
    deps.limiter.succeed(ip, account);
    if (who.kind === 'mailbox') {
      const mb = await deps.directory.mailboxById(who.mailboxId);
      const why = personalPasswordProblem(form.data.newPassword, {
        names: [mb?.firstName, mb?.lastName, mb?.username],
        address: who.address,
      });
      if (why) return mePage(c, { newPassword: why }, 400);
    }
    try {
      if (who.kind === 'mailbox') {
        await deps.directory.setPassword(
          selfServiceActor(who.address, ip),
          who.address,
          form.data.newPassword,
        );
      } else {
        await deps.directory.setAdminPassword(who.actor, who.actor.name, form.data.newPassword);
      }
    } catch (err) {
      if (!(err instanceof DirectoryError && err.code === 'invalid')) throw err;
      return mePage(c, { newPassword: err.message }, 400);
    }
    // Every session and token of the same person ends (the directory's valid-after stamp: whoever knew
    // the old password is out, in every region); this browser gets a new session, issued after it.
    await deps.sessions.destroyOwner(
      who.kind === 'mailbox'
        ? { kind: 'mailbox', mailboxId: who.mailboxId }
        : { kind: 'admin', username: who.actor.name },
    );
    if (who.kind === 'admin') await deps.tokens.revokeUser(who.actor.name);
    await signIn(
      c,
      deps,
      who.kind === 'mailbox'
        ? { kind: 'mailbox', address: who.address, mailboxId: who.mailboxId }
        : { kind: 'admin', username: who.actor.name },
      'full',
    );
    flash(c, { kind: 'ok', text: tr(c)('me.passwordChanged') });
    return c.redirect('/me', 303);
  });

  app.get('/me/setup', async (c) => {
    const { mailboxId } = await mailboxUser(c, deps);
    const mb = await deps.directory.mailboxById(mailboxId);
    if (!mb) toLogin(c);
    return render(
      c,
      deps,
      { title: tr(c)('me.setupTitle'), help: 'setup-sheet', section: 'me', printable: true },
      <SetupSheet info={setupInfo(deps, mb)} />,
    );
  });

  const totpInfo = (c: Ctx) => ({ title: tr(c)('totp.title'), help: 'two-step', section: 'me' });

  app.get('/me/totp', async (c) => {
    const { session, username } = await totpAdmin(c, deps);
    if ((await deps.totp.get(username)) !== null) {
      return render(c, deps, totpInfo(c), <TotpOnPage csrf={session.csrf} required={deps.requireTotp} />);
    }
    session.pendingTotpSecret ??= newTotpSecret();
    return render(
      c,
      deps,
      totpInfo(c),
      <TotpEnrolPage
        csrf={session.csrf}
        secret={session.pendingTotpSecret}
        uri={totpUri(session.pendingTotpSecret, username)}
        required={deps.requireTotp}
      />,
    );
  });

  app.post('/me/totp', async (c) => {
    const { session, username, actor } = await totpAdmin(c, deps);
    const secret = session.pendingTotpSecret;
    if (!secret || (await deps.totp.get(username)) !== null) return c.redirect('/me/totp', 303);
    const form = validate(totpForm, await readForm(c));
    const step = form.ok ? verifyTotp(secret, form.data.code, deps.now()) : null;
    if (step === null || !deps.totpReplay.accept(username, step)) {
      return render(
        c,
        deps,
        totpInfo(c),
        <TotpEnrolPage
          csrf={session.csrf}
          secret={secret}
          uri={totpUri(secret, username)}
          required={deps.requireTotp}
          error={tr(c)('totp.wrongEnrolCode')}
        />,
        400,
      );
    }
    await deps.totp.set(username, secret, actor);
    if (session.stage === 'totp-enroll') {
      const fresh = await deps.sessions.signIn(session, { kind: 'admin', username }, 'full');
      c.set('session', fresh);
      setSessionCookie(c, deps, fresh);
    } else {
      delete session.pendingTotpSecret;
    }
    flash(c, { kind: 'ok', text: tr(c)('totp.turnedOn') });
    return c.redirect('/me', 303);
  });

  app.post('/me/totp/disable', async (c) => {
    const actor = await adminActor(c, deps);
    if (deps.requireTotp) {
      throw new HTTPException(409, {
        message: tr(c)('totp.cannotDisable'),
      });
    }
    const secret = await deps.totp.get(actor.name);
    if (!secret) return c.redirect('/me', 303);
    const form = validate(totpForm, await readForm(c));
    const step = form.ok ? verifyTotp(secret, form.data.code, deps.now()) : null;
    if (step === null || !deps.totpReplay.accept(actor.name, step)) {
      return render(
        c,
        deps,
        totpInfo(c),
        <TotpOnPage csrf={csrfOf(c)} required={false} error={tr(c)('totp.wrongCode')} />,
        400,
      );
    }
    await deps.totp.set(actor.name, null, actor);
    flash(c, { kind: 'ok', text: tr(c)('totp.turnedOff') });
    return c.redirect('/me', 303);
  });

  return app;
}
