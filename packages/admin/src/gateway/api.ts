/**
 * The attachment gateway in the JSON API (issue 15), the same directory calls as the section's pages:
 *   GET    /api/v1/domains/:domain/gateway                      rules, registrations, disk usage
 *   PUT    /api/v1/domains/:domain/gateway/settings             any of the rules
 *   POST   /api/v1/domains/:domain/gateway/registrations        { target, sender? }
 *   DELETE /api/v1/domains/:domain/gateway/registrations/:address   (?sender=true for a sender)
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

/** A registration's input from the API: a sender, the domain itself, or a mailbox address of it. */
function input(actor: Parameters<typeof gatewayTarget>[0], domain: string, target: string, sender: boolean) {
  try {
    return gatewayTarget(
      actor,
      domain,
      sender ? 'sender' : target.toLowerCase() === domain ? 'domain' : 'mailbox',
      target,
    );
  } catch (err) {
    if ((err as { fixable?: boolean }).fixable)
      throw new HTTPException(400, { message: (err as Error).message, cause: { code: 'invalid' } });
    throw err;
  }
}

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
    const added = await deps.directory.registerGateway(
      actor,
      input(actor, domain, req.target, req.sender === true),
    );
    return c.json(added, 201);
  });

  app.delete('/domains/:domain/gateway/registrations/:address', async (c) => {
    const actor = await apiActor(c, deps);
    const domain = scopedDomain(c, actor);
    const target = c.req.param('address');
    await deps.directory.unregisterGateway(
      actor,
      input(actor, domain, target, c.req.query('sender') === 'true'),
    );
    return c.json({ unregistered: target });
  });

  return app;
}
