/**
 * Built-in lists in the JSON API (issue 19), beside the list aliases of lists.ts:
 *
 *   GET/POST    /api/v1/domains/:domain/mailing-lists
 *   GET/DELETE  /api/v1/domains/:domain/mailing-lists/:address
 *   PUT         /api/v1/domains/:domain/mailing-lists/:address/settings       { owner, senders, moderated }
 *   POST        /api/v1/domains/:domain/mailing-lists/:address/members        { add?, remove? }
 *   GET         /api/v1/domains/:domain/mailing-lists/:address/pending
 *   GET         /api/v1/domains/:domain/mailing-lists/:address/pending/:id    (the message as text)
 *   POST        /api/v1/domains/:domain/mailing-lists/:address/pending/:id/approve | /reject
 *
 * Every handler starts with the token's actor; `:address` must be in `:domain` (addressIn), and the
 * directory checks the actor may manage it (`getList`) before a held post is read or decided.
 */
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { moderated, postsOf } from '../list-posts.js';
import { apiListCreate, apiListMembers, apiListSettings } from '../list-schemas.js';
import { addressIn, apiActor, body, type Ctx } from './common.js';

export function mailingListApi(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const base = '/domains/:domain/mailing-lists';

  /** The list of the path, for an actor who may manage it (403 otherwise, 404 when there is none). */
  const scoped = async (c: Ctx) => {
    const actor = await apiActor(c, deps);
    const list = await deps.directory.getList(actor, addressIn(c, actor));
    return { actor, list };
  };

  app.get(base, async (c) => {
    const actor = await apiActor(c, deps);
    return c.json(await deps.directory.listLists(actor, c.req.param('domain')));
  });

  app.post(base, async (c) => {
    const actor = await apiActor(c, deps);
    const req = await body(c, apiListCreate);
    const list = await deps.directory.createList(actor, {
      ...req,
      address: addressIn(c, actor, req.address),
    });
    return c.json(list, 201);
  });

  app.get(`${base}/:address`, async (c) => c.json((await scoped(c)).list));

  app.delete(`${base}/:address`, async (c) => {
    const { actor, list } = await scoped(c);
    await deps.directory.removeList(actor, list.address);
    return c.json({ address: list.address, removed: true });
  });

  app.put(`${base}/:address/settings`, async (c) => {
    const { actor, list } = await scoped(c);
    const req = await body(c, apiListSettings);
    const allowed = req.senders === 'listed' ? { allowedSenders: req.allowedSenders ?? [] } : {};
    return c.json(await deps.directory.setListSettings(actor, list.address, { ...req, ...allowed }));
  });

  app.post(`${base}/:address/members`, async (c) => {
    const { actor, list } = await scoped(c);
    const req = await body(c, apiListMembers);
    return c.json(await deps.directory.changeListMembers(actor, list.address, req));
  });

  app.get(`${base}/:address/pending`, async (c) => {
    const { list } = await scoped(c);
    return c.json(await postsOf(deps.lists).pending(list.address));
  });

  app.get(`${base}/:address/pending/:id`, async (c) => {
    const { list } = await scoped(c);
    return c.json(await moderated(() => postsOf(deps.lists).show(list.address, c.req.param('id'))));
  });

  for (const verb of ['approve', 'reject'] as const) {
    app.post(`${base}/:address/pending/:id/${verb}`, async (c) => {
      const { actor, list } = await scoped(c);
      const posts = postsOf(deps.lists);
      const id = c.req.param('id');
      const by = `${actor.kind}:${actor.name}`;
      return c.json(await moderated(() => posts[verb](list.address, id, by)));
    });
  }

  return app;
}
