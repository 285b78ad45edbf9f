/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * The outbound queue for operators (issue 19; until now `delegato queue` only): GET /queue (search by
 * address, paged), POST /queue/:id/retry (every waiting recipient due now), GET /queue/:id/remove (the
 * confirmation naming who will not get the message) and POST /queue/:id/remove. The queue is the
 * appliance's (AdminOptions.outboundQueue); without one the pages are 404.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { FC } from 'hono/jsx';
import type { AppEnv, Deps, QueuedView, QueueSource } from '../env.js';
import { type Ctx, operatorActor } from '../guard.js';
import { tr, useT } from '../i18n/index.js';
import { csrfOf, flash, render } from '../render.js';
import { CsrfInput } from '../views/form.js';
import { PAGE_SIZE, Pager, pageOf } from '../views/list-controls.js';

const waitingOf = (m: QueuedView) => m.recipients.filter((r) => r.state === 'queued');

const QueuePage: FC<{ csrf: string; messages: QueuedView[]; total: number; page: number; q: string }> = (
  p,
) => {
  const t = useT();
  return (
    <section>
      <h1>{t('queue.title')}</h1>
      <p class="muted">{t('queue.intro')}</p>
      <form method="get" action="/queue" class="search filters">
        <label for="queue-q">{t('queue.search')}</label>
        <input id="queue-q" name="q" type="search" value={p.q} />
        <button type="submit">{t('common.search')}</button>
      </form>
      {p.total === 0 ? (
        <p>{t('queue.empty')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{t('queue.col.queued')}</th>
              <th>{t('queue.col.from')}</th>
              <th>{t('queue.col.to')}</th>
              <th>{t('queue.col.size')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {p.messages.map((m) => (
              <tr>
                <td class="nowrap">{m.createdAt.replace('T', ' ').slice(0, 16)}</td>
                <td>{m.sender || '<>'}</td>
                <td>
                  <ul class="plain">
                    {waitingOf(m).map((r) => (
                      <li>
                        {r.address}{' '}
                        <span class="muted">
                          {t('queue.attempts', { n: r.attempts })}
                          {r.lastReply ? ` · ${r.lastReply}` : ''}
                        </span>
                      </li>
                    ))}
                  </ul>
                </td>
                <td>{Math.ceil(m.size / 1024)} KB</td>
                <td class="nowrap">
                  <form method="post" action={`/queue/${encodeURIComponent(m.id)}/retry`} class="inline">
                    <CsrfInput token={p.csrf} />
                    <button type="submit">{t('queue.retry')}</button>
                  </form>{' '}
                  <form method="get" action={`/queue/${encodeURIComponent(m.id)}/remove`} class="inline">
                    <button type="submit" class="danger">
                      {t('queue.remove')}
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager path="/queue" query={p.q ? { q: p.q } : {}} page={p.page} pageSize={PAGE_SIZE} total={p.total} />
    </section>
  );
};

const ConfirmPage: FC<{ csrf: string; m: QueuedView }> = ({ csrf, m }) => {
  const t = useT();
  return (
    <section class="narrow">
      <h1>{t('queue.confirm.title', { id: m.id })}</h1>
      <div class="flash flash-warn" role="alert">
        <p>{t('queue.confirm.lost', { sender: m.sender || '<>' })}</p>
        <ul>
          {waitingOf(m).map((r) => (
            <li>{r.address}</li>
          ))}
        </ul>
      </div>
      <form method="post" action={`/queue/${encodeURIComponent(m.id)}/remove`} class="card">
        <CsrfInput token={csrf} />
        <button type="submit" class="danger">
          {t('queue.confirm.submit')}
        </button>{' '}
        <a href="/queue">{t('common.cancel')}</a>
      </form>
    </section>
  );
};

export function queueRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const queue = async (c: Ctx): Promise<QueueSource> => {
    await operatorActor(c, deps);
    if (!deps.outboundQueue) throw new HTTPException(404, { message: tr(c)('error.notFoundPage') });
    return deps.outboundQueue;
  };
  const one = async (c: Ctx, q: QueueSource) => {
    const id = c.req.param('id') ?? '';
    const m = (await q.list()).find((x) => x.id === id);
    if (!m) throw new HTTPException(404, { message: tr(c)('queue.gone', { id }) });
    return m;
  };

  app.get('/queue', async (c) => {
    const q = await queue(c);
    const search = (c.req.query('q') ?? '').trim().toLowerCase().slice(0, 200);
    const all = (await q.list()).filter(
      (m) =>
        waitingOf(m).length > 0 &&
        (!search ||
          m.sender.toLowerCase().includes(search) ||
          m.recipients.some((r) => r.address.toLowerCase().includes(search))),
    );
    const page = pageOf(c.req.query('page'));
    const shown = all.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
    return render(
      c,
      deps,
      { title: tr(c)('queue.title'), help: 'index', section: 'queue' },
      <QueuePage csrf={csrfOf(c)} messages={shown} total={all.length} page={page} q={search} />,
    );
  });

  app.post('/queue/:id/retry', async (c) => {
    const q = await queue(c);
    const m = await one(c, q);
    const n = await q.retry(m.id);
    flash(c, { kind: 'ok', text: tr(c)('queue.retried', { id: m.id, n }) });
    return c.redirect('/queue', 303);
  });

  app.get('/queue/:id/remove', async (c) => {
    const q = await queue(c);
    const m = await one(c, q);
    return render(
      c,
      deps,
      { title: tr(c)('queue.confirm.title', { id: m.id }), help: 'index', section: 'queue' },
      <ConfirmPage csrf={csrfOf(c)} m={m} />,
    );
  });

  app.post('/queue/:id/remove', async (c) => {
    const q = await queue(c);
    const m = await one(c, q);
    await q.delete(m.id);
    flash(c, { kind: 'ok', text: tr(c)('queue.removed', { id: m.id }) });
    return c.redirect('/queue', 303);
  });

  return app;
}
