/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** GET /help and /help/:topic: open to everybody, signed in or not, in the reader's language. */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { FC } from 'hono/jsx';
import type { AppEnv, Deps } from '../env.js';
import type { Ctx } from '../guard.js';
import { langOf, useT } from '../i18n/index.js';
import { render } from '../render.js';
import type { HelpTopic } from '../views/help.js';
import { helpTopics } from '../views/help-it.js';

const HelpPage: FC<{ topics: Record<string, HelpTopic>; slug: string }> = ({ topics, slug }) => {
  const t = useT();
  const topic = topics[slug] as HelpTopic;
  return (
    <section class="help">
      <h1>{topic.title}</h1>
      {topic.body}
      <h2>{t('help.others')}</h2>
      <ul>
        {Object.entries(topics)
          .filter(([s]) => s !== slug)
          .map(([s, x]) => (
            <li>
              <a href={s === 'index' ? '/help' : `/help/${s}`}>{x.title}</a>
            </li>
          ))}
      </ul>
    </section>
  );
};

export function helpRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const show = (c: Ctx, slug: string) => {
    const topics = helpTopics(langOf(c));
    const topic = Object.hasOwn(topics, slug) ? topics[slug] : undefined;
    if (!topic) throw new HTTPException(404, { message: 'There is no help page with that name.' });
    return render(c, deps, { title: topic.title, help: slug }, <HelpPage topics={topics} slug={slug} />);
  };
  app.get('/help', (c) => show(c, 'index'));
  app.get('/help/:topic', (c) => show(c, c.req.param('topic')));
  return app;
}
