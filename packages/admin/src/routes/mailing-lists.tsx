/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * Built-in lists in the admin UI (issue 19), scoped to the domain like every section:
 *
 *   GET/POST /d/:domain/mailing-lists                          the lists; create
 *   GET      /d/:domain/mailing-lists/:address                 one list: settings, held messages, members
 *   POST     /d/:domain/mailing-lists/:address/settings | /members/add | /members/remove | /remove
 *   GET      /d/:domain/mailing-lists/:address/held/:id        a held message as text
 *   POST     /d/:domain/mailing-lists/:address/held/:id/approve | /reject
 *
 * Each handler starts with the admin's actor, `:domain` in their scope (scopedDomain), `:address` in
 * `:domain` (scopedAddress), and the list read through the directory with that actor (`getList`).
 */
import type { Actor } from '@delegato/directory';
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { directoryStatus, isFixableByUser } from '../errors.js';
import { type FieldErrors, type FormValues, readForm, validate } from '../forms.js';
import { adminActor, type Ctx, inDomain, scopedAddress, scopedDomain } from '../guard.js';
import { tr } from '../i18n/index.js';
import { type HeldPost, moderated, postsOf } from '../list-posts.js';
import { listCreateForm, listSettingsForm, memberForm } from '../list-schemas.js';
import { csrfOf, flash, render } from '../render.js';
import { HeldPostPage, MailingListPage, MailingListsPage } from '../views/mailing-lists.js';
import { seg as enc } from '../views/paths.js';

/** The field a directory message is about, by the words it uses; null: the whole form. */
function fieldOf(message: string): string | null {
  const m = message.toLowerCase();
  if (m.includes('owner')) return 'owner';
  if (m.includes('sender')) return 'allowedSenders';
  if (m.includes('member')) return 'members';
  if (/already exists|itself|free/.test(m)) return 'address';
  return null;
}

export function mailingListRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const path = '/d/:domain/mailing-lists';

  const held = async (list: string): Promise<HeldPost[]> => (deps.lists ? deps.lists.pending(list) : []);

  const listsPage = async (
    c: Ctx,
    actor: Actor,
    domain: string,
    extra: { values?: FormValues; errors?: FieldErrors; formError?: string } = {},
    status: 200 | 400 | 409 = 200,
  ) => {
    const lists = await deps.directory.listLists(actor, domain);
    const counts: Record<string, number> = {};
    for (const l of lists) counts[l.address] = (await held(l.address)).length;
    return render(
      c,
      deps,
      { title: tr(c)('lists.title', { domain }), help: 'lists', domain, section: 'lists' },
      <MailingListsPage csrf={csrfOf(c)} domain={domain} lists={lists} held={counts} {...extra} />,
      status,
    );
  };

  /** The admin, the domain and the list of the path, each checked. */
  const scoped = async (c: Ctx) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const list = await deps.directory.getList(actor, scopedAddress(c, actor, domain));
    return { actor, domain, list, base: `/d/${enc(domain)}/mailing-lists/${enc(list.address)}` };
  };

  const listPage = async (
    c: Ctx,
    s: Awaited<ReturnType<typeof scoped>>,
    extra: { values?: FormValues; errors?: FieldErrors } = {},
    status: 200 | 400 = 200,
  ) =>
    render(
      c,
      deps,
      { title: s.list.address, help: 'lists', domain: s.domain, section: 'lists' },
      <MailingListPage
        csrf={csrfOf(c)}
        domain={s.domain}
        list={s.list}
        held={await held(s.list.address)}
        {...extra}
      />,
      status,
    );

  app.get(path, async (c) => {
    const actor = await adminActor(c, deps);
    return listsPage(c, actor, scopedDomain(c, actor));
  });

  app.post(path, async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const values = await readForm(c);
    const form = validate(listCreateForm, values);
    if (!form.ok) return listsPage(c, actor, domain, { values, errors: form.errors }, 400);
    const d = form.data;
    try {
      const list = await deps.directory.createList(actor, {
        address: inDomain(d.address, domain),
        owner: inDomain(d.owner, domain),
        senders: d.senders,
        ...(d.senders === 'listed' ? { allowedSenders: d.allowedSenders } : {}),
        moderated: d.moderated,
        members: d.members,
      });
      flash(c, {
        kind: 'ok',
        text: tr(c)('lists.created', { address: list.address, count: list.members.length }),
      });
      return c.redirect(`/d/${enc(domain)}/mailing-lists/${enc(list.address)}`, 303);
    } catch (err) {
      if (!isFixableByUser(err)) throw err;
      const field = fieldOf(err.message);
      const status = directoryStatus(err) === 409 ? 409 : 400;
      return listsPage(
        c,
        actor,
        domain,
        field ? { values, errors: { [field]: err.message } } : { values, formError: err.message },
        status,
      );
    }
  });

  app.get(`${path}/:address`, async (c) => listPage(c, await scoped(c)));

  for (const verb of ['add', 'remove'] as const) {
    app.post(`${path}/:address/members/${verb}`, async (c) => {
      const s = await scoped(c);
      const values = await readForm(c);
      const form = validate(memberForm, values);
      if (!form.ok) return listPage(c, s, { values, errors: form.errors }, 400);
      try {
        const after = await deps.directory.changeListMembers(s.actor, s.list.address, {
          [verb]: form.data.members,
        });
        const n = verb === 'add' ? after.added.length : after.removed.length;
        flash(c, {
          kind: 'ok',
          text: tr(c)(verb === 'add' ? 'lists.membersAdded' : 'lists.membersRemoved', { count: n }),
        });
        return c.redirect(s.base, 303);
      } catch (err) {
        if (!isFixableByUser(err)) throw err;
        return listPage(c, s, { values, errors: { members: err.message } }, 400);
      }
    });
  }

  app.post(`${path}/:address/settings`, async (c) => {
    const s = await scoped(c);
    const values = await readForm(c);
    const form = validate(listSettingsForm, values);
    if (!form.ok) return listPage(c, s, { values, errors: form.errors }, 400);
    const d = form.data;
    try {
      await deps.directory.setListSettings(s.actor, s.list.address, {
        owner: inDomain(d.owner, s.domain),
        senders: d.senders,
        allowedSenders: d.senders === 'listed' ? d.allowedSenders : [],
        moderated: d.moderated,
      });
      flash(c, { kind: 'ok', text: tr(c)('lists.settingsSaved', { address: s.list.address }) });
      return c.redirect(s.base, 303);
    } catch (err) {
      if (!isFixableByUser(err)) throw err;
      const field = fieldOf(err.message) === 'allowedSenders' ? 'allowedSenders' : 'owner';
      return listPage(c, s, { values, errors: { [field]: err.message } }, 400);
    }
  });

  app.post(`${path}/:address/remove`, async (c) => {
    const s = await scoped(c);
    await deps.directory.removeList(s.actor, s.list.address);
    flash(c, { kind: 'ok', text: tr(c)('lists.removed', { address: s.list.address }) });
    return c.redirect(`/d/${enc(s.domain)}/mailing-lists`, 303);
  });

  app.get(`${path}/:address/held/:id`, async (c) => {
    const s = await scoped(c);
    const post = await moderated(() => postsOf(deps.lists).show(s.list.address, c.req.param('id')));
    return render(
      c,
      deps,
      {
        title: tr(c)('lists.heldFor', { list: s.list.address }),
        help: 'lists',
        domain: s.domain,
        section: 'lists',
      },
      <HeldPostPage csrf={csrfOf(c)} base={s.base} post={post} />,
    );
  });

  for (const verb of ['approve', 'reject'] as const) {
    app.post(`${path}/:address/held/:id/${verb}`, async (c) => {
      const s = await scoped(c);
      const posts = postsOf(deps.lists);
      const post = await moderated(() =>
        posts[verb](s.list.address, c.req.param('id'), `${s.actor.kind}:${s.actor.name}`),
      );
      const subject = post.subject || tr(c)('lists.noSubject');
      flash(c, {
        kind: 'ok',
        text: tr(c)(verb === 'approve' ? 'lists.approved' : 'lists.rejected', { subject }),
      });
      return c.redirect(s.base, 303);
    });
  }

  return app;
}
