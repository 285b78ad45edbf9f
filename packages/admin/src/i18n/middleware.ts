/**
 * Choosing the language of each request (web pages; the JSON API answers in English), and `POST
 * /language`, the language menu at the foot of every page: it remembers the choice in a cookie and, for
 * someone signed in, as their stored preference in the directory (through the write seam, so it reaches
 * every region).
 */
import type { Actor } from '@delegato/directory';
import { Hono, type MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { AppEnv, Deps } from '../env.js';
import { readForm } from '../forms.js';
import { adminActor } from '../guard.js';
import { chooseLanguage, isLang, LANG_COOKIE } from './languages.js';

const ONE_YEAR_S = 365 * 86_400;

/** The stored preference of the session's principal (null: none, or nobody signed in). */
async function storedLanguage(
  deps: Deps,
  c: Parameters<MiddlewareHandler<AppEnv>>[0],
): Promise<string | null> {
  const session = c.get('session');
  const p = session?.principal;
  if (!p || session.stage === 'anonymous') return null;
  if (p.kind === 'admin') return deps.directory.adminLanguage(p.username);
  return (await deps.directory.mailboxById(p.mailboxId))?.language ?? null;
}

/** Sets `c.var.lang`; registered after the session is loaded. */
export function languageMiddleware(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    let stored: string | null = null;
    try {
      stored = await storedLanguage(deps, c);
    } catch {
      // The directory is down: the error page still needs a language.
    }
    c.set(
      'lang',
      chooseLanguage({
        stored,
        cookie: getCookie(c, LANG_COOKIE),
        acceptLanguage: c.req.header('accept-language'),
      }),
    );
    await next();
  };
}

/** A path on this site to go back to (never another origin). */
function backPath(value: string | undefined): string {
  if (!value?.startsWith('/') || value.startsWith('//') || value.includes('\\')) return '/';
  return value.slice(0, 2000);
}

/** The actor for an end user setting their own preference (like the self-service password change). */
function selfServiceActor(address: string, from: string): Actor {
  return { kind: 'system', name: `self-service:${address}`, from };
}

export function languageRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post('/language', async (c) => {
    const form = await readForm(c);
    const lang = typeof form.lang === 'string' ? form.lang : '';
    const back = backPath(typeof form.back === 'string' ? form.back : undefined);
    if (!isLang(lang)) return c.redirect(back, 303);
    setCookie(c, LANG_COOKIE, lang, {
      path: '/',
      secure: true,
      httpOnly: true,
      sameSite: 'Lax',
      maxAge: ONE_YEAR_S,
    });
    const session = c.get('session');
    const p = session?.principal;
    if (p && session.stage === 'full') {
      if (p.kind === 'admin') {
        const actor = await adminActor(c, deps);
        await deps.directory.setAdminLanguage(actor, actor.name, lang);
      } else {
        const mb = await deps.directory.mailboxById(p.mailboxId);
        if (mb)
          await deps.directory.setMailboxLanguage(
            selfServiceActor(mb.address, c.get('clientIp')),
            mb.address,
            lang,
          );
      }
    }
    return c.redirect(back, 303);
  });
  return app;
}
