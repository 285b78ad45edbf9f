/**
 * Delivery to a peer region (decision 0008): the route `routeRegion` gives (the region's federation
 * listener), TLS required and verified with the region certificate (implicit TLS when the route says so),
 * no SRS. No route yet: the recipients stay queued (deferred).
 */
import { isIP } from 'node:net';
import type { Deliverer, Failure, Target } from './deliver.js';
import { LOCAL } from './delivery-replies.js';
import type { Job, RegionRoute } from './worker-context.js';

export async function deliverRegion(d: Deliverer, job: Job, region: string): Promise<void> {
  const route = d.c.o.routeRegion?.(region) ?? null;
  if (!route) return d.settler.defer(job, job.recipients, LOCAL.noRegionRoute(region), null);
  if (!d.spoolOk(job))
    return d.settler.defer(job, job.recipients, LOCAL.localError('spool file missing'), null);
  let addresses: string[];
  try {
    addresses = isIP(route.host)
      ? [route.host]
      : await d.c.o.resolver.resolveAddresses(route.host, (failure) =>
          d.dnsSkipped(job, route.host, failure),
        );
  } catch (err) {
    return d.settler.defer(job, job.recipients, LOCAL.dnsFailure((err as Error).message), null);
  }
  if (addresses.length === 0)
    return d.settler.defer(job, job.recipients, LOCAL.mxNoAddress(route.host), null);
  let pending = job.recipients;
  let last: Failure | null = null;
  for (const address of addresses) {
    const result = await d.deliverTo(job, regionTarget(job, route, address), pending);
    pending = result.pending;
    if (result.failure) last = result.failure;
    if (pending.length === 0) return;
  }
  await d.settler.defer(
    job,
    pending,
    last?.reply ?? LOCAL.connection(route.host, 'no answer'),
    last?.host ?? null,
  );
}

function regionTarget(job: Job, route: RegionRoute, address: string): Target {
  return {
    address,
    port: route.port,
    host: route.host,
    requireTls: true,
    ...(route.implicitTls ? { implicitTls: true } : {}),
    tls: {
      rejectUnauthorized: true,
      ...(isIP(route.host) ? {} : { servername: route.host }),
      ...route.tls,
    },
    requireTlsExtension: job.message.requireTls,
    srs: false,
  };
}
