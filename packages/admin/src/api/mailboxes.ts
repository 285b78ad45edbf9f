/**
 * Local mailboxes of a domain: GET/POST /api/v1/domains/:domain/mailboxes, GET/DELETE
 * .../mailboxes/:address (`?purge=true`), PUT .../mailboxes/:address/{password,expiry}.
 */
import { randomPassword } from '@delegato/directory';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv, Deps } from '../env.js';
import { apiNewMailbox, apiSetExpiry, apiSetPassword } from '../schemas.js';
import { addressIn, apiActor, body, limitOf } from './common.js';

export function mailboxApi(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/domains/:domain/mailboxes', async (c) => {
    const actor = await apiActor(c, deps);
    const q = c.req.query('q');
    const offset = Math.max(Number.parseInt(c.req.query('offset') ?? '0', 10) || 0, 0);
    return c.json(
      await deps.directory.listMailboxes(actor, c.req.param('domain'), {
        limit: limitOf(c),
        offset,
        ...(q ? { search: q } : {}),
      }),
    );
  });

  app.post('/domains/:domain/mailboxes', async (c) => {
    const actor = await apiActor(c, deps);
    const req = await body(c, apiNewMailbox);
    const generated = req.password === undefined ? randomPassword() : undefined;
    const created = await deps.directory.addMailbox(actor, {
      domain: c.req.param('domain'),
      kind: req.kind,
      ...(req.firstName !== undefined ? { firstName: req.firstName } : {}),
      ...(req.lastName !== undefined ? { lastName: req.lastName } : {}),
      ...(req.localPart !== undefined ? { localPart: req.localPart } : {}),
      ...(req.username !== undefined ? { username: req.username } : {}),
      ...(req.group !== undefined ? { group: req.group } : {}),
      ...(req.contact !== undefined ? { contact: req.contact } : {}),
      ...(req.flag !== undefined ? { flag: req.flag } : {}),
      ...(req.quotaBytes !== undefined ? { quotaBytes: req.quotaBytes } : {}),
      ...(req.expiresOn !== undefined ? { expiresOn: req.expiresOn } : {}),
      password: req.password ?? generated ?? '',
    });
    return c.json({ ...created, ...(generated ? { password: generated } : {}) }, 201);
  });

  app.get('/domains/:domain/mailboxes/:address', async (c) => {
    const actor = await apiActor(c, deps);
    const address = addressIn(c, actor);
    const domain = c.req.param('domain');
    const { mailboxes } = await deps.directory.listMailboxes(actor, domain, {
      search: address.slice(0, address.lastIndexOf('@')),
      limit: 10_000,
    });
    const mailbox = mailboxes.find((m) => m.address === address);
    if (!mailbox) throw new HTTPException(404, { message: `no mailbox ${address}` });
    const aliases = (await deps.directory.listAliases(actor, domain)).filter((a) =>
      a.targets.includes(address),
    );
    const usedBytes =
      deps.mailboxUsage && mailbox.state === 'active' ? await deps.mailboxUsage(address) : null;
    return c.json({ mailbox, aliases, usedBytes });
  });

  app.delete('/domains/:domain/mailboxes/:address', async (c) => {
    const actor = await apiActor(c, deps);
    const address = addressIn(c, actor);
    const removed = await deps.directory.removeMailbox(actor, address, {
      purge: c.req.query('purge') === 'true',
    });
    await deps.sessions.destroyOwner({ kind: 'mailbox', mailboxId: removed.mailboxId });
    return c.json(removed);
  });

  app.put('/domains/:domain/mailboxes/:address/password', async (c) => {
    const actor = await apiActor(c, deps);
    const address = addressIn(c, actor);
    const req = await body(c, apiSetPassword);
    await deps.directory.setPassword(actor, address, req.password);
    return c.json({ address, changed: true });
  });

  app.put('/domains/:domain/mailboxes/:address/expiry', async (c) => {
    const actor = await apiActor(c, deps);
    const address = addressIn(c, actor);
    const req = await body(c, apiSetExpiry);
    const { expiresOn } = await deps.directory.setExpiry(actor, address, req.expiresOn);
    return c.json({ address, expiresOn });
  });

  return app;
}
