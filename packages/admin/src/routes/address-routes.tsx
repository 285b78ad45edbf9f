/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * The three address sections share their shape: GET lists, POST adds, POST .../:address/remove removes.
 * `aliases.tsx`, `forwards.tsx` and `lists.tsx` are the three sub-apps built from this.
 */
import type { Actor, AliasView } from '@delegato/directory';
import { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { z } from 'zod';
import type { AppEnv, Deps } from '../env.js';
import { directoryStatus, isFixableByUser } from '../errors.js';
import { type FieldErrors, type FormValues, one, readForm, validate } from '../forms.js';
import { adminActor, type Ctx, scopedAddress, scopedDomain } from '../guard.js';
import { type MessageKey, type T, tr, useT } from '../i18n/index.js';
import { csrfOf, flash, render } from '../render.js';
import { PAGE_SIZE, Pager, pageOf } from '../views/list-controls.js';

type Kinds = AliasView['kind'][];

export interface AddressSection<S extends z.ZodType> {
  section: 'aliases' | 'forwards' | 'lists';
  /** The section's name in page titles ("Aliases" of a.example). */
  title: MessageKey;
  help: string;
  kinds: Kinds;
  schema: S;
  Page: FC<{
    csrf: string;
    domain: string;
    rows: AliasView[];
    values?: FormValues;
    errors?: FieldErrors;
    formError?: string;
  }>;
  /** Adds it; returns the message for the next page. */
  add: (deps: Deps, actor: Actor, domain: string, data: z.output<S>, t: T) => Promise<string>;
  /** The form's two fields: the address here, and where it leads. */
  fields: [string, string];
}

/** Which field a directory message is about: the one whose value it names; null: the whole form. */
function fieldOf(message: string, values: FormValues, [here, there]: [string, string]): string | null {
  const msg = message.toLowerCase();
  if (/already exists|itself/.test(msg)) return here;
  const targets = one(values, there)
    .toLowerCase()
    .split(/[\s,;]+/)
    .filter((t) => t.length > 0);
  if (targets.some((t) => msg.includes(t))) return there;
  const address = one(values, here).trim().toLowerCase();
  return address && msg.includes(address) ? here : null;
}

/** The search above an address list (GET: the query is the page's). */
const ListSearch: FC<{ path: string; q: string; ambiguous: boolean; total: number }> = (p) => {
  const t = useT();
  return (
    <form method="get" action={p.path} class="search filters">
      <label for="address-q">{t('common.search')}</label>
      <input id="address-q" name="q" type="search" value={p.q} />
      <div class="radio">
        <input type="checkbox" id="address-ambiguous" name="ambiguous" value="1" checked={p.ambiguous} />
        <label for="address-ambiguous">{t('addresses.onlyAmbiguous')}</label>
      </div>
      <button type="submit">{t('common.search')}</button>
      <span class="muted">{t('addresses.count', { count: p.total })}</span>
    </form>
  );
};

export function addressRoutes<S extends z.ZodType>(deps: Deps, s: AddressSection<S>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const path = `/d/:domain/${s.section}`;

  const page = async (
    c: Ctx,
    actor: Actor,
    domain: string,
    extra: { values?: FormValues; errors?: FieldErrors; formError?: string } = {},
    status: 200 | 400 | 409 = 200,
  ) => {
    const all = await deps.directory.listAliases(actor, domain, { kinds: s.kinds });
    // Search, a filter for ambiguous aliases, and pages (issue 19): a domain may have hundreds.
    const q = (c.req.query('q') ?? '').trim().toLowerCase().slice(0, 100);
    const onlyAmbiguous = c.req.query('ambiguous') === '1';
    const rows = all
      .filter((a) => !q || a.address.includes(q) || a.targets.some((x) => x.toLowerCase().includes(q)))
      .filter((a) => !onlyAmbiguous || a.ambiguous)
      .sort((a, b) => a.address.localeCompare(b.address));
    const pageNo = pageOf(c.req.query('page'));
    const shown = rows.slice((pageNo - 1) * PAGE_SIZE, pageNo * PAGE_SIZE);
    const listPath = `/d/${encodeURIComponent(domain)}/${s.section}`;
    const query = { ...(q ? { q } : {}), ...(onlyAmbiguous ? { ambiguous: '1' } : {}) };
    return render(
      c,
      deps,
      {
        title: tr(c)('addresses.pageTitle', { section: tr(c)(s.title), domain }),
        help: s.help,
        domain,
        section: s.section,
      },
      <>
        <ListSearch path={listPath} q={q} ambiguous={onlyAmbiguous} total={rows.length} />
        <s.Page csrf={csrfOf(c)} domain={domain} rows={shown} {...extra} />
        <Pager path={listPath} query={query} page={pageNo} pageSize={PAGE_SIZE} total={rows.length} />
      </>,
      status,
    );
  };

  app.get(path, async (c) => {
    const actor = await adminActor(c, deps);
    return page(c, actor, scopedDomain(c, actor));
  });

  app.post(path, async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const values = await readForm(c);
    const form = validate(s.schema, values);
    if (!form.ok) return page(c, actor, domain, { values, errors: form.errors }, 400);
    try {
      flash(c, { kind: 'ok', text: await s.add(deps, actor, domain, form.data, tr(c)) });
      return c.redirect(`/d/${encodeURIComponent(domain)}/${s.section}`, 303);
    } catch (err) {
      if (!isFixableByUser(err)) throw err;
      const field = fieldOf(err.message, values, s.fields);
      const status = directoryStatus(err) === 409 ? 409 : 400;
      return page(
        c,
        actor,
        domain,
        field ? { values, errors: { [field]: err.message } } : { values, formError: err.message },
        status,
      );
    }
  });

  app.post(`${path}/:address/remove`, async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const address = scopedAddress(c, actor, domain);
    await deps.directory.removeAlias(actor, address);
    flash(c, { kind: 'ok', text: tr(c)('addresses.removed', { address }) });
    return c.redirect(`/d/${encodeURIComponent(domain)}/${s.section}`, 303);
  });

  return app;
}
