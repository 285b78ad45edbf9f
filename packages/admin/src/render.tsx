/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** Rendering a page inside the frame, with what the frame needs to know about the signed-in person. */
import type { Child } from 'hono/jsx';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Deps } from './env.js';
import { adminActor, type Ctx } from './guard.js';
import { LangContext, langOf } from './i18n/index.js';
import type { Flash } from './session.js';
import { type Chrome, Layout, type UserInfo } from './views/layout.js';

export type PageInfo = Omit<Chrome, 'user' | 'csrf' | 'flash'>;

/** Who is signed in, for the navigation (admins: their domains; operators: every domain). */
async function userInfo(c: Ctx, deps: Deps): Promise<UserInfo | null> {
  const session = c.get('session');
  const p = session?.principal;
  if (!session || !p || session.stage !== 'full') {
    if (p?.kind === 'admin') return { kind: 'admin', name: p.username, operator: false, domains: [] };
    return null;
  }
  if (p.kind === 'mailbox') return { kind: 'mailbox', address: p.address };
  const actor = await adminActor(c, deps);
  if (actor.kind === 'domain-admin') {
    return { kind: 'admin', name: actor.name, operator: false, domains: [...actor.domains] };
  }
  const domains = (await deps.directory.listDomains(actor)).map((d) => d.name);
  return { kind: 'admin', name: actor.name, operator: true, domains };
}

/** Adds a message to show on the next page (after a redirect). */
export function flash(c: Ctx, f: Flash): void {
  c.get('session')?.flash.push(f);
}

export async function render(
  c: Ctx,
  deps: Deps,
  info: PageInfo,
  body: Child,
  status: ContentfulStatusCode = 200,
): Promise<Response> {
  const session = c.get('session');
  const chrome: Chrome = {
    ...info,
    user: await userInfo(c, deps),
    csrf: session?.csrf ?? null,
    flash: session ? session.flash.splice(0) : [],
  };
  c.header('Cache-Control', 'no-store');
  const lang = langOf(c);
  return c.html(
    <LangContext.Provider value={lang}>
      {/* An error page's path may name what the reader may not see: the menu goes back to the start. */}
      <Layout chrome={{ ...chrome, back: status < 400 ? c.req.path : '/' }}>{body}</Layout>
    </LangContext.Provider>,
    status,
  );
}

/** The CSRF token of this request's session (every form needs it). */
export function csrfOf(c: Ctx): string {
  return c.get('session')?.csrf ?? '';
}
