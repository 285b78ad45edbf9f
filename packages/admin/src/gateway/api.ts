/**
 * The attachment gateway in the JSON API (issue 15), the same directory calls as the section's pages:
 *   GET    /api/v1/domains/:domain/gateway                      rules, registrations, disk usage
 *   PUT    /api/v1/domains/:domain/gateway/settings             any of the rules
 *   POST   /api/v1/domains/:domain/gateway/registrations        { kind, target? }
 *   DELETE /api/v1/domains/:domain/gateway/registrations?kind=&target=
 * The path's domain is checked first (403 for another domain's admin), then the directory checks the
 * domain of what is registered.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { apiActor, body } from '../api/common.js';
import type { AppEnv, Deps } from '../env.js';
import { scopedDomain } from '../guard.js';
import { gatewayTarget } from './routes.js';
import { apiGatewayRegistration, apiGatewaySettings, type GatewayUsageSource } from './schemas.js';

/** A registration's input, as the section's forms build it; a mistake there is a 400. */
function input(
  actor: Parameters<typeof gatewayTarget>[0],
  domain: string,
  kind: 'domain' | 'mailbox' | 'sender',
  target: string | undefined,
) {
  try {
    return gatewayTarget(actor, domain, kind, target);
  } catch (err) {
    if ((err as { fixable?: boolean }).fixable)
      throw new HTTPException(400, { message: (err as Error).message, cause: { code: 'invalid' } });
    throw err;
  }
}

const KINDS = new Set(['domain', 'mailbox', 'sender']);

export function gatewayApi(deps: Deps, usage?: GatewayUsageSource): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/domains/:domain/gateway', async (c) => {
    const actor = await apiActor(c, deps);
    const domain = scopedDomain(c, actor);
    const [view] = await deps.directory.listGateway(actor, domain);
    return c.json({ ...view, usage: usage ? await usage(domain) : null });
  });

  app.put('/domains/:domain/gateway/settings', async (c) => {
    const actor = await apiActor(c, deps);
    const domain = scopedDomain(c, actor);
    const req = await body(c, apiGatewaySettings);
    return c.json(await deps.directory.setGatewaySettings(actor, domain, req));
  });

  app.post('/domains/:domain/gateway/registrations', async (c) => {
    const actor = await apiActor(c, deps);
    const domain = scopedDomain(c, actor);
    const req = await body(c, apiGatewayRegistration);
    const added = await deps.directory.registerGateway(actor, input(actor, domain, req.kind, req.target));
    return c.json(added, 201);
  });

  app.delete('/domains/:domain/gateway/registrations', async (c) => {
    const actor = await apiActor(c, deps);
    const domain = scopedDomain(c, actor);
    const kind = c.req.query('kind') ?? '';
    if (!KINDS.has(kind))
      throw new HTTPException(400, {
        message: 'kind: domain, mailbox or sender',
        cause: { code: 'invalid', fields: { kind: 'domain, mailbox or sender' } },
      });
    const registration = input(actor, domain, kind as 'domain' | 'mailbox' | 'sender', c.req.query('target'));
    await deps.directory.unregisterGateway(actor, registration);
    return c.json({ unregistered: registration.target });
  });

  return app;
}
