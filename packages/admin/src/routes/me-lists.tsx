/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * The list owner's own pages (self-service, a signed-in mailbox user):
 *
 *   GET  /me/lists                              the lists they own, each with its held messages
 *   GET  /me/lists/:address/held/:id            a held message as text
 *   POST /me/lists/:address/held/:id/approve | /reject
 *
 * The owner is the session's mailbox, never a value of the request: a list whose owner is someone else
 * answers 404, like one that does not exist.
 */
import type { ListView } from '@delegato/directory';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv, Deps } from '../env.js';
import { type Ctx, mailboxUser } from '../guard.js';
import { tr } from '../i18n/index.js';
import { type HeldPost, moderated, postsOf } from '../list-posts.js';
import { csrfOf, flash, render } from '../render.js';
import { HeldPostPage, OwnedListsPage } from '../views/mailing-lists.js';
import { seg as enc } from '../views/paths.js';

/** The lists `owner` (the session's mailbox) owns, each with its held messages. */
export async function ownedLists(deps: Deps, owner: string) {
  const out: Array<{ list: ListView; held: HeldPost[] }> = [];
  for (const list of await deps.directory.listsOwnedBy(owner)) {
    out.push({ list, held: deps.lists ? await deps.lists.pending(list.address) : [] });
  }
  return out;
}

export function meListRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const info = (c: Ctx) => ({ title: tr(c)('lists.ownedTitle'), help: 'my-account', section: 'me' });

  /** A list the signed-in mailbox owns (404 otherwise). */
  const owned = async (c: Ctx) => {
    const { address } = await mailboxUser(c, deps);
    const wanted = (c.req.param('address') ?? '').trim().toLowerCase();
    const list = (await deps.directory.listsOwnedBy(address)).find((l) => l.address === wanted);
    if (!list) throw new HTTPException(404, { message: tr(c)('mailboxFlash.noSuchList') });
    return { owner: address, list, base: `/me/lists/${enc(list.address)}` };
  };

  app.get('/me/lists', async (c) => {
    const { address } = await mailboxUser(c, deps);
    return render(
      c,
      deps,
      info(c),
      <OwnedListsPage csrf={csrfOf(c)} lists={await ownedLists(deps, address)} />,
    );
  });

  app.get('/me/lists/:address/held/:id', async (c) => {
    const { list } = await owned(c);
    const post = await moderated(() => postsOf(deps.lists).show(list.address, c.req.param('id')));
    return render(
      c,
      deps,
      { ...info(c), title: tr(c)('lists.heldFor', { list: list.address }) },
      <HeldPostPage csrf={csrfOf(c)} base={`/me/lists/${enc(list.address)}`} post={post} />,
    );
  });

  for (const verb of ['approve', 'reject'] as const) {
    app.post(`/me/lists/:address/held/:id/${verb}`, async (c) => {
      const { owner, list } = await owned(c);
      const posts = postsOf(deps.lists);
      const post = await moderated(() => posts[verb](list.address, c.req.param('id'), `owner:${owner}`));
      const subject = post.subject || tr(c)('lists.noSubject');
      flash(c, {
        kind: 'ok',
        text: tr(c)(verb === 'approve' ? 'lists.approved' : 'lists.rejected', { subject }),
      });
      return c.redirect('/me/lists', 303);
    });
  }

  return app;
}
