/**
 * `GET /metrics` on the admin listener: the Prometheus text exposition (observability/metrics.ts), for
 * clients in `operations.metricsNetworks` only (403 for anyone else; no sign-in: Prometheus scrapes it).
 */

import { nodeRemoteAddress } from '@delegato/admin';
import { inNetworks, normaliseNetworks } from '@delegato/directory';
import type { MetricsEndpoint } from '@delegato/observability';
import type { Context } from 'hono';

export function metricsHandler(opts: { endpoint: MetricsEndpoint; networks: string }) {
  const networks = normaliseNetworks(opts.networks.split(','));
  return async (c: Context) => {
    if (!inNetworks(nodeRemoteAddress(c), networks))
      return c.text('Forbidden: this address may not read the metrics (operations.metricsNetworks).\n', 403);
    c.header('Content-Type', opts.endpoint.contentType);
    c.header('Cache-Control', 'no-store');
    return c.body(await opts.endpoint.render());
  };
}
