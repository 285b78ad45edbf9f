/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * The attachment gateway section of a domain (issue 15): GET /d/:domain/gateway, POST .../settings,
 * POST .../register, POST .../unregister. The scope check is the directory's (every change checks the
 * actor against the domain it touches); the page's domain is checked first, and an address of another
 * domain is refused (403 when it is not the admin's, 400 otherwise).
 */
import { type Actor, type GatewayTargetInput, requireDomain } from '@delegato/directory';
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { directoryStatus, isFixableByUser } from '../errors.js';
import { type FieldErrors, type FormValues, readForm, validate } from '../forms.js';
import { adminActor, type Ctx, inDomain, scopedDomain } from '../guard.js';
import { type T, tr, translator } from '../i18n/index.js';
import { csrfOf, flash, render } from '../render.js';
import {
  type GatewayUsageSource,
  gatewayRegisterForm,
  gatewaySettingsForm,
  gatewayUnregisterForm,
} from './schemas.js';
import { GatewayPage } from './view.js';

type Extra = { form: 'rules' | 'register'; values: FormValues; errors?: FieldErrors; formError?: string };

/** What a registration form names, as the directory takes it. */
export function gatewayTarget(
  actor: Actor,
  domain: string,
  kind: 'mailbox' | 'domain' | 'sender',
  target: string | undefined,
  t: T = translator('en'),
): GatewayTargetInput {
  const typed = (target ?? '').trim();
  if (kind === 'domain') return { target: domain };
  if (typed.length === 0) throw Object.assign(new Error(t('gateway.typeTarget')), { fixable: true });
  if (kind === 'sender') return { target: typed, sender: true, domain };
  const address = inDomain(typed, domain);
  const other = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  if (other !== domain) {
    requireDomain(actor, other);
    throw Object.assign(new Error(t('gateway.notOfDomain', { address, domain })), { fixable: true });
  }
  return { target: address };
}

export function gatewayRoutes(deps: Deps, usage?: GatewayUsageSource): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const home = (domain: string) => `/d/${encodeURIComponent(domain)}/gateway`;

  const page = async (c: Ctx, actor: Actor, domain: string, extra?: Extra, status: 200 | 400 | 409 = 200) => {
    const [view] = await deps.directory.listGateway(actor, domain);
    if (!view) throw new Error(`no gateway view of ${domain}`);
    return render(
      c,
      deps,
      { title: tr(c)('gateway.title', { domain }), help: 'gateway', domain, section: 'gateway' },
      <GatewayPage csrf={csrfOf(c)} view={view} usage={usage ? await usage(domain) : null} {...extra} />,
      status,
    );
  };

  /** A directory refusal the person can fix: the page again with the message; anything else is thrown. */
  const refused = (c: Ctx, actor: Actor, domain: string, err: unknown, extra: Extra) => {
    const fixable = (err as { fixable?: boolean }).fixable === true;
    if (!fixable && !isFixableByUser(err)) throw err;
    const status =
      !fixable && directoryStatus(err as Parameters<typeof directoryStatus>[0]) === 409 ? 409 : 400;
    return page(c, actor, domain, { ...extra, formError: (err as Error).message }, status);
  };

  app.get('/d/:domain/gateway', async (c) => {
    const actor = await adminActor(c, deps);
    return page(c, actor, scopedDomain(c, actor));
  });

  app.post('/d/:domain/gateway/settings', async (c) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const values = await readForm(c);
    const form = validate(gatewaySettingsForm, values);
    if (!form.ok) return page(c, actor, domain, { form: 'rules', values, errors: form.errors }, 400);
    try {
      await deps.directory.setGatewaySettings(actor, domain, {
        thresholdBytes: form.data.threshold,
        mediaTypes: form.data.types,
        expiryDays: form.data.expiryDays,
        loginRequired: form.data.loginRequired,
      });
    } catch (err) {
      return refused(c, actor, domain, err, { form: 'rules', values });
    }
    flash(c, { kind: 'ok', text: tr(c)('gateway.saved', { domain }) });
    return c.redirect(home(domain), 303);
  });

  for (const action of ['register', 'unregister'] as const) {
    app.post(`/d/:domain/gateway/${action}`, async (c) => {
      const actor = await adminActor(c, deps);
      const domain = scopedDomain(c, actor);
      const values = await readForm(c);
      const form = validate(action === 'register' ? gatewayRegisterForm : gatewayUnregisterForm, values);
      if (!form.ok) return page(c, actor, domain, { form: 'register', values, errors: form.errors }, 400);
      let input: GatewayTargetInput;
      // The form's hint: an empty address registers every mailbox of the domain.
      const kind = form.data.kind !== 'sender' && !form.data.target ? 'domain' : form.data.kind;
      try {
        input = gatewayTarget(actor, domain, kind, form.data.target, tr(c));
        if (action === 'register') await deps.directory.registerGateway(actor, input);
        else await deps.directory.unregisterGateway(actor, input);
      } catch (err) {
        return refused(c, actor, domain, err, { form: 'register', values });
      }
      flash(c, { kind: 'ok', text: tr(c)(`gateway.${action}ed`, { target: input.target }) });
      return c.redirect(home(domain), 303);
    });
  }
  return app;
}
