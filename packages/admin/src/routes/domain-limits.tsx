/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * GET/POST /domains/:domain/limits (operators, issue 19): the most mailboxes a domain may have and the
 * most its quotas may add up to, beside what it has now (the directory's `domain.limits`).
 */
import { DirectoryError, type DomainLimits, parseSizeText } from '@delegato/directory';
import { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { AppEnv, Deps } from '../env.js';
import { readForm } from '../forms.js';
import { type Ctx, operatorActor } from '../guard.js';
import { tr, useT } from '../i18n/index.js';
import { csrfOf, flash, render } from '../render.js';
import { CsrfInput, Field, FormError } from '../views/form.js';
import { humanSize, sizeInput } from '../views/mailboxes.js';

const LimitsPage: FC<{ csrf: string; l: DomainLimits; error?: string | undefined }> = ({
  csrf,
  l,
  error,
}) => {
  const t = useT();
  return (
    <section class="narrow">
      <h1>{t('limits.title', { domain: l.domain })}</h1>
      <p>
        {t('limits.now', {
          mailboxes: l.mailboxes,
          assigned: humanSize(l.quotaBytesAssigned),
          unlimited: l.unlimitedMailboxes,
        })}
      </p>
      <FormError error={error} />
      <form method="post" action={`/domains/${encodeURIComponent(l.domain)}/limits`} class="card">
        <CsrfInput token={csrf} />
        <Field
          name="maxMailboxes"
          label={t('limits.maxMailboxes')}
          value={l.maxMailboxes === null ? '' : String(l.maxMailboxes)}
          hint={t('limits.empty')}
        />
        <Field
          name="maxQuota"
          label={t('limits.maxQuota')}
          value={sizeInput(l.maxQuotaBytes)}
          hint={t('limits.maxQuota.hint')}
        />
        <button type="submit">{t('limits.submit')}</button>
      </form>
    </section>
  );
};

export function domainLimitRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const page = async (c: Ctx, error?: string) => {
    const actor = await operatorActor(c, deps);
    const l = await deps.directory.domainLimits(actor, c.req.param('domain') ?? '');
    return render(
      c,
      deps,
      { title: tr(c)('limits.title', { domain: l.domain }), help: 'domains', section: 'domains' },
      <LimitsPage csrf={csrfOf(c)} l={l} error={error} />,
      error ? 400 : 200,
    );
  };

  app.get('/domains/:domain/limits', (c) => page(c));

  app.post('/domains/:domain/limits', async (c) => {
    const actor = await operatorActor(c, deps);
    const domain = c.req.param('domain') ?? '';
    const form = await readForm(c);
    const text = (v: string | string[] | undefined) => (typeof v === 'string' ? v.trim() : '');
    try {
      const max = text(form.maxMailboxes);
      if (max !== '' && !/^\d+$/.test(max)) throw new DirectoryError('invalid', tr(c)('limits.notNumber'));
      await deps.directory.setDomainLimits(actor, domain, {
        maxMailboxes: max === '' ? null : Number(max),
        maxQuotaBytes: parseSizeText(text(form.maxQuota)),
      });
    } catch (err) {
      if (!(err instanceof DirectoryError) || (err.code !== 'invalid' && err.code !== 'conflict')) throw err;
      return page(c, err.message);
    }
    flash(c, { kind: 'ok', text: tr(c)('limits.saved', { domain }) });
    return c.redirect('/domains', 303);
  });

  return app;
}
