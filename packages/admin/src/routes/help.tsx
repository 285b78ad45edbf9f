/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** GET /help and /help/:topic: open to everybody, signed in or not. */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv, Deps } from '../env.js';
import { render } from '../render.js';
import { HELP, HelpPage } from '../views/help.js';

export function helpRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const show = (slug: string) => {
    const topic = Object.hasOwn(HELP, slug) ? HELP[slug] : undefined;
    if (!topic) throw new HTTPException(404, { message: 'There is no help page with that name.' });
    return topic;
  };
  app.get('/help', (c) =>
    render(c, deps, { title: 'Help', help: 'index' }, <HelpPage topic={show('index')} slug="index" />),
  );
  app.get('/help/:topic', (c) => {
    const slug = c.req.param('topic');
    const topic = show(slug);
    return render(c, deps, { title: topic.title, help: slug }, <HelpPage topic={topic} slug={slug} />);
  });
  return app;
}
