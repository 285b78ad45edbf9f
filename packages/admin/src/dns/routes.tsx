/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/**
 * The DNS records of a domain (issue 18): GET /d/:domain/dns lists the records its DNS administrator adds;
 * POST /d/:domain/dns/check looks them up now and says which are missing. A domain admin sees their own
 * domains only: the page's domain is checked first (scopedDomain), and the directory checks again when it
 * reads the domain's DKIM keys.
 */
import { Hono } from 'hono';
import type { AppEnv, Deps } from '../env.js';
import { adminActor, scopedDomain } from '../guard.js';
import { tr } from '../i18n/index.js';
import { csrfOf, render } from '../render.js';
import type { DnsRecordSource } from './source.js';
import { DnsPage } from './view.js';

export function dnsRoutes(deps: Deps, source: DnsRecordSource): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const page = async (c: Parameters<typeof adminActor>[0], check: boolean) => {
    const actor = await adminActor(c, deps);
    const domain = scopedDomain(c, actor);
    const records = await source.records(actor, domain);
    const checks = check ? await source.check(records) : undefined;
    return render(
      c,
      deps,
      { title: tr(c)('dns.title', { domain }), help: 'domains', domain, section: 'dns' },
      <DnsPage domain={domain} csrf={csrfOf(c)} records={records} {...(checks ? { checks } : {})} />,
    );
  };
  app.get('/d/:domain/dns', (c) => page(c, false));
  app.post('/d/:domain/dns/check', (c) => page(c, true));
  return app;
}
