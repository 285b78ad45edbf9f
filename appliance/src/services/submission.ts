/**
 * The submission listeners: `port.submission` (STARTTLS, RFC 6409) and `port.submissions` (implicit TLS,
 * RFC 8314), wired to the directory (credentials, sender ownership), the mail store and the queue.
 */
import type { Directory } from '@delegato/directory';
import type { MailStore } from '@delegato/mailstore';
import type { ListHooks } from '@delegato/mta';
import {
  type DsnSender,
  type MxLimits,
  MxServer,
  type OutboundQueue,
  type RunningMx,
  type TrafficObserver,
} from '@delegato/mta';
import type { Logger } from '@delegato/observability';
import type { LoginRateLimiter } from '@delegato/sasl';
import type { Config } from '../config/schema.js';
import { directoryCredentials } from './credentials.js';

/**
 * The `smtp.*` limits of the listeners whose clients are known parties (submission, the federation
 * listener): no greeting delay, which is for strangers on the MX.
 */
export function clientLimits(config: Config): Partial<MxLimits> {
  return {
    maxMessageBytes: config.smtp.maxMessageBytes,
    maxRecipients: config.smtp.maxRecipients,
    idleTimeoutMs: config.smtp.idleTimeoutMs,
    sessionTimeoutMs: config.smtp.sessionTimeoutMs,
  };
}

export async function startSubmission(opts: {
  config: Config;
  directory: Directory;
  store: MailStore;
  queue: OutboundQueue;
  tls: { key: string; cert: string };
  logger: Logger;
  dsn?: DsnSender;
  /** Per-domain traffic counting (stats/traffic-counter.ts). */
  traffic?: TrafficObserver;
  /** Built-in lists (services/lists.ts). */
  lists?: ListHooks;
  rateLimiter: LoginRateLimiter;
}): Promise<{ starttls: RunningMx; implicit: RunningMx }> {
  const { config } = opts;
  const make = (implicitTls: boolean) =>
    new MxServer({
      hostname: config.smtp.hostname,
      ...(config.smtp.postmaster ? { postmaster: config.smtp.postmaster } : {}),
      region: config.region.id,
      tls: opts.tls,
      implicitTls,
      internalNetworks: config.internalNetworks.split(','),
      submission: {
        credentials: directoryCredentials(opts.directory, opts.rateLimiter),
        cramMd5: config.directory.cramMd5,
        rateLimiter: opts.rateLimiter,
        sendersOf: (id) => opts.directory.sendersOf(id),
      },
      limits: clientLimits(config),
      directory: opts.directory,
      store: opts.store,
      queue: opts.queue,
      ...(opts.dsn ? { dsn: opts.dsn } : {}),
      ...(opts.traffic ? { traffic: opts.traffic } : {}),
      ...(opts.lists ? { lists: opts.lists } : {}),
      logger: opts.logger.child({ proto: implicitTls ? 'submissions' : 'submission' }),
    });
  const starttls = await make(false).listen(config.port.submission, config.listen);
  const implicit = await make(true).listen(config.port.submissions, config.listen);
  return { starttls, implicit };
}
