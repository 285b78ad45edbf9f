/**
 * Mail between regions (issue 14, item 3; decision 0008), both ends:
 *
 * - the federation listener on `port.federation` (`startFederationSmtp`): SMTP over implicit TLS, a client
 *   certificate of the federation CA required, recipients of domains homed in this region only; opened only
 *   where this region has its federation certificate (`delegato federation init` or `join`), otherwise not
 *   opened, with `federation.smtp_disabled`;
 * - the queue worker's route to a peer region (`federationRoutes`): the peer's host and port from
 *   `federation.peers`, this region's certificate as the client certificate, the federation CA as the only
 *   trust anchor, and only a certificate naming the target region accepted at the other end.
 */
import type { PeerCertificate } from 'node:tls';
import type { Directory } from '@delegato/directory';
import { loadRegionTls, PkiError, type RegionTls, regionOfPeerCertificate } from '@delegato/federation';
import type { MailStore } from '@delegato/mailstore';
import {
  createFederationInbound,
  type DsnSender,
  type OutboundQueue,
  type RegionRoute,
  type RunningMx,
} from '@delegato/mta';
import { type Logger, logEvent, logEventAt } from '@delegato/observability';
import type { Config } from '../config/schema.js';
import { type RevocationList, revocationsOf } from './federation-revocations.js';
import { clientLimits } from './submission.js';

/**
 * This region's federation certificate, key and CA, or undefined when none is installed. A certificate of
 * another region is refused: peers would take this region's mail for that region's.
 */
export async function regionTlsIfInstalled(config: Config): Promise<RegionTls | undefined> {
  let tls: RegionTls;
  try {
    tls = await loadRegionTls(config.data.dir);
  } catch (err) {
    if (err instanceof PkiError && err.code === 'missing') return undefined;
    throw err;
  }
  if (tls.region !== config.region.id)
    throw new Error(
      `the federation certificate in ${config.data.dir}/federation is region ${tls.region}'s, but this region is ${config.region.id} (region.id)`,
    );
  return tls;
}

/** The federation listener, or undefined (logged) when this region has no federation certificate. */
export async function startFederationSmtp(opts: {
  config: Config;
  tls: RegionTls | undefined;
  directory: Directory;
  store: MailStore;
  queue: OutboundQueue;
  logger: Logger;
  dsn?: DsnSender;
  /** Per-domain traffic counting (stats/traffic-counter.ts): mail from other regions counts as incoming. */
  traffic?: import('@delegato/mta').TrafficObserver;
  /** Built-in lists homed here, posted to from another region (services/lists.ts). */
  lists?: import('@delegato/mta').ListHooks;
}): Promise<RunningMx | undefined> {
  const { config, tls, logger } = opts;
  if (!tls) {
    logEvent(logger, 'federation.smtp_disabled', {
      port: config.port.federation,
      reason: `no federation certificate in ${config.data.dir}/federation (delegato federation init or join)`,
    });
    return undefined;
  }
  const inbound = createFederationInbound({
    hostname: config.smtp.hostname,
    region: config.region.id,
    tls: { cert: tls.certPem, key: tls.keyPem, ca: tls.caCertPem },
    regionOf: (cert) => regionOfPeerCertificate(cert),
    revoked: (region, cert) => revocationsOf(opts.directory)?.revoked(region, cert) ?? false,
    onRefused: (refusal) => logEventAt(logger, 'warn', 'federation.smtp_refused', refusal),
    limits: clientLimits(config),
    directory: opts.directory,
    store: opts.store,
    queue: opts.queue,
    logger: logger.child({ proto: 'federation-smtp' }),
    ...(opts.dsn ? { dsn: opts.dsn } : {}),
    ...(opts.traffic ? { traffic: opts.traffic } : {}),
    ...(opts.lists ? { lists: opts.lists } : {}),
  });
  return inbound.listen(config.port.federation, config.listen);
}

/**
 * `routeRegion` for the queue worker: how to reach `region`'s federation listener, or null (the recipients
 * stay queued, 451 4.4.4 No route) when it is not in `federation.peers` or this region has no certificate.
 */
export function federationRoutes(
  config: Pick<Config, 'federation' | 'region'>,
  tls: RegionTls | undefined,
  /** The revoked certificates (decision 0013): a peer presenting one is not delivered to. */
  revocations?: () => RevocationList | undefined,
): (region: string) => RegionRoute | null {
  const peers = new Map(
    config.federation.peers.filter((p) => p.region !== config.region.id).map((p) => [p.region, p]),
  );
  return (region) => {
    const peer = peers.get(region);
    if (!peer || !tls) return null;
    return {
      host: peer.host,
      port: peer.port,
      implicitTls: true,
      tls: {
        cert: tls.certPem,
        key: tls.keyPem,
        ca: [tls.caCertPem],
        minVersion: 'TLSv1.2',
        // The peer is identified by its region name (`<region>.federation.invalid`), not by its host name.
        checkServerIdentity: (_host: string, cert: PeerCertificate) => {
          const named = regionOfPeerCertificate(cert);
          if (named === region && revocations?.()?.revoked(region, cert))
            return new Error(`the federation peer ${region} presented a revoked certificate`);
          if (named === region) return undefined;
          return new Error(
            `the federation peer at ${peer.host}:${peer.port} presented ${named ? `region ${named}'s certificate` : 'a certificate of no region'}, not region ${region}'s`,
          );
        },
      },
    };
  };
}
