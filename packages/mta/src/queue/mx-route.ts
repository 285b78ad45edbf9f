/**
 * Delivery to a remote domain: its MX hosts in preference order (RFC 5321 §5.1; implicit MX, null MX,
 * dns.ts), every address of each, until every recipient has a reply; what is left is deferred with the
 * last failure. Opportunistic STARTTLS, verified for REQUIRETLS messages (RFC 8689).
 */
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { enforcedPolicy } from '../auth/sts-route.js';
import { addressLiteral, DnsError, lookupMx } from '../dns.js';
import type { Deliverer, Failure, Target } from './deliver.js';
import { LOCAL } from './delivery-replies.js';
import type { Job } from './worker-context.js';

export async function deliverRemote(d: Deliverer, job: Job): Promise<void> {
  const { message } = job;
  const o = d.c.o;
  const valid = job.recipients.filter((r) => /^[^@\s]+@[^@\s]+$/.test(r.address));
  for (const r of job.recipients.filter((x) => !valid.includes(x)))
    await d.settler.final(job, [r], 'bounced', LOCAL.badAddress(r.address), null);
  if (valid.length === 0) return;
  if (!d.spoolOk(job)) return d.settler.defer(job, valid, LOCAL.localError('spool file missing'), null);

  let hosts: Awaited<ReturnType<typeof lookupMx>>;
  try {
    hosts = await lookupMx(o.resolver, job.domain, o.shuffle);
  } catch (err) {
    if (err instanceof DnsError && err.permanent) {
      const r = err.code === 'NULLMX' ? LOCAL.nullMx(job.domain) : LOCAL.noDomain(job.domain);
      return d.settler.final(job, valid, 'bounced', r, null);
    }
    return d.settler.defer(job, valid, LOCAL.dnsFailure((err as Error).message), null);
  }
  // RFC 8461 §5.2 (`enforce`): only the MX hosts the policy names, only over verified TLS.
  const sts = await enforcedPolicy(o.mtaSts, job.domain);
  if (sts) hosts.hosts = hosts.hosts.filter((h) => sts.allows(h.exchange));
  if (sts && hosts.hosts.length === 0) return d.settler.defer(job, valid, LOCAL.mtaStsNoMx(job.domain), null);

  let pending = valid;
  let last: Failure | null = null;
  let anyAddress = false;
  for (const mx of hosts.hosts) {
    let addresses: string[];
    try {
      addresses = addressLiteral(mx.exchange)
        ? [mx.exchange]
        : await o.resolver.resolveAddresses(mx.exchange, (failure) =>
            d.dnsSkipped(job, mx.exchange, failure),
          );
    } catch (err) {
      anyAddress = true;
      last = { reply: LOCAL.dnsFailure((err as Error).message), host: null };
      continue;
    }
    if (addresses.length === 0) {
      last ??= { reply: LOCAL.mxNoAddress(mx.exchange), host: null };
      continue;
    }
    anyAddress = true;
    for (const address of addresses) {
      const tls: ConnectionOptions = {
        rejectUnauthorized: message.requireTls || sts ? true : (o.tls?.rejectUnauthorized ?? false),
        ...(isIP(mx.exchange) ? {} : { servername: mx.exchange }),
        ...(o.tls?.ca ? { ca: o.tls.ca } : {}),
        ...(message.requireTls || sts ? { minVersion: 'TLSv1.2' as const } : {}),
      };
      const target: Target = {
        address,
        port: d.c.port,
        host: mx.exchange,
        requireTls: message.requireTls || Boolean(sts),
        tls,
        ...(sts ? { mtaSts: job.domain } : {}),
        requireTlsExtension: message.requireTls,
        srs: Boolean(o.srs),
      };
      const result = await d.deliverTo(job, target, pending);
      pending = result.pending;
      if (result.failure) last = result.failure;
      if (pending.length === 0) return;
    }
  }
  if (hosts.implicit && !anyAddress)
    return d.settler.final(job, pending, 'bounced', LOCAL.noAddress(job.domain), null);
  await d.settler.defer(
    job,
    pending,
    last?.reply ?? LOCAL.connection(job.domain, 'no host answered'),
    last?.host ?? null,
  );
}
