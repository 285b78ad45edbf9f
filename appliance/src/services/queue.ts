/**
 * The outbound queue's delivery worker: MX lookup (dns.servers), next hop on smtp.outboundPort,
 * retries by queue.retrySchedule, give-up after queue.giveUpAfterSeconds, a delay notice after
 * queue.delayNotifyAfterSeconds; every outcome that calls for a DSN (RFC 3461) gets one. Recipients homed in
 * another region go to that region's federation listener (`routeRegion`, federation-smtp.ts); the peer takes
 * DSN parameters, so a delivery there is `delivered` + passed on, never `relayed`.
 */
import { createReadStream } from 'node:fs';
import type { Directory } from '@delegato/directory';
import {
  createResolver,
  type DeliveryOutcome,
  type DsnSender,
  type OutboundQueue,
  parseDnsServers,
  QueueWorker,
  type RegionRoute,
} from '@delegato/mta';
import { type Logger, logEvent } from '@delegato/observability';
import type { Config } from '../config/schema.js';
import { mtaSts, mtaStsCa, outboundAuth } from './message-auth.js';

/** The addresses listed in an ambiguous-address reply (`550 5.1.4 ... a@x, b@x`). */
export function candidatesIn(text: string): string[] {
  return [...new Set(text.match(/[^\s,<>()]+@[^\s,<>()]+/g) ?? [])];
}

/** The MX resolver of the configuration: `dns.servers` (DELEGATO_DNS_SERVERS), or the system's when empty. */
export function queueResolver(config: Pick<Config, 'dns'>): ReturnType<typeof createResolver> {
  return createResolver(parseDnsServers(config.dns.servers));
}

const ACTION = { bounced: 'failed', delayed: 'delayed', delivered: 'delivered', relayed: 'relayed' } as const;

export function startQueueWorker(opts: {
  config: Config;
  queue: OutboundQueue;
  logger: Logger;
  srsSecret: Buffer;
  dsn: DsnSender;
  /** How to reach a peer region's federation listener (federation-smtp.ts); absent: no route. */
  routeRegion?: (region: string) => RegionRoute | null;
  /** DKIM keys for signing outgoing mail (message-auth.ts); absent: unsigned. */
  directory?: Pick<Directory, 'dkimSigningKeys'>;
}): QueueWorker {
  const { config, queue, dsn } = opts;
  const giveUpAfterMs = config.queue.giveUpAfterSeconds * 1000;
  const onOutcome = async (o: DeliveryOutcome) => {
    logEvent(opts.logger, 'queue.outcome', {
      kind: o.kind,
      id: o.message.id,
      recipients: o.recipients.map((r) => r.address),
      remoteHost: o.remoteHost,
      reply: o.reply.text,
    });
    // A next hop that took NOTIFY/ORCPT sends any success notice itself (RFC 3461 §4.2).
    if (o.kind === 'delivered' && o.passedOn) return;
    await dsn({
      sender: o.message.sender,
      envid: o.message.envid,
      ret: o.message.ret,
      arrivalDate: new Date(o.message.createdAt),
      original: () => createReadStream(queue.spoolPath(o.message.spoolFile)),
      recipients: o.recipients.map((r) => ({
        address: r.address,
        orcpt: r.orcpt ?? null,
        notify: r.notify ?? null,
        action: ACTION[o.kind],
        reply: { code: o.reply.code, enhanced: o.reply.enhanced, text: o.reply.text },
        remoteHost: o.remoteHost,
        // A peer that found the address ambiguous (550 5.1.4) lists the candidates: pass them on.
        ...(o.reply.enhanced === '5.1.4' ? { candidates: candidatesIn(o.reply.text) } : {}),
        ...(o.kind === 'delayed'
          ? { willRetryUntil: new Date(new Date(o.message.createdAt).getTime() + giveUpAfterMs) }
          : {}),
      })),
    });
  };
  const worker = new QueueWorker({
    queue,
    resolver: queueResolver(config),
    hostname: config.smtp.hostname,
    port: config.smtp.outboundPort,
    concurrencyPerDestination: config.queue.concurrencyPerDestination,
    retrySchedule: config.queue.retrySchedule.split(',').map(Number),
    giveUpAfterMs,
    delayNotifyAfterMs: config.queue.delayNotifyAfterSeconds * 1000,
    logger: opts.logger.child({ proto: 'queue' }),
    onOutcome,
    srs: { secret: opts.srsSecret, domain: config.smtp.hostname },
    ...(opts.routeRegion ? { routeRegion: opts.routeRegion } : {}),
    ...(opts.directory ? { outboundAuth: outboundAuth(config, opts.directory, opts.logger) } : {}),
    ...(config.auth.mtaSts ? { mtaSts: mtaSts(config, opts.logger) } : {}),
    ...(config.auth.mtaStsCa ? { tls: { ca: mtaStsCa(config) } } : {}),
  });
  worker.start();
  return worker;
}
