/** Wires the MX listener (DELEGATO_PORT_SMTP) to the directory, the mail store and the outbound queue. */
import type { Directory } from '@delegato/directory';
import type { MailStore } from '@delegato/mailstore';
import type { ListHooks } from '@delegato/mta';
import {
  type DsnSender,
  MxServer,
  type OutboundQueue,
  type RunningMx,
  type TrafficObserver,
} from '@delegato/mta';
import type { Logger } from '@delegato/observability';
import type { Config } from '../config/schema.js';
import { inboundAuth } from './message-auth.js';

export async function startMx(opts: {
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
}): Promise<RunningMx> {
  const { config } = opts;
  const mx = new MxServer({
    hostname: config.smtp.hostname,
    ...(config.smtp.postmaster ? { postmaster: config.smtp.postmaster } : {}),
    region: config.region.id,
    tls: opts.tls,
    internalNetworks: config.internalNetworks.split(','),
    limits: {
      maxMessageBytes: config.smtp.maxMessageBytes,
      maxRecipients: config.smtp.maxRecipients,
      greetingDelayMs: config.smtp.greetingDelayMs,
      idleTimeoutMs: config.smtp.idleTimeoutMs,
      sessionTimeoutMs: config.smtp.sessionTimeoutMs,
    },
    directory: opts.directory,
    // SPF, DKIM, DMARC, ARC of mail from outside (auth.inbound; message-auth.ts).
    ...(config.auth.inbound ? { auth: inboundAuth(config, opts.directory, opts.logger) } : {}),
    store: opts.store,
    queue: opts.queue,
    logger: opts.logger,
    ...(opts.dsn ? { dsn: opts.dsn } : {}),
    ...(opts.traffic ? { traffic: opts.traffic } : {}),
    ...(opts.lists ? { lists: opts.lists } : {}),
  });
  return mx.listen(config.port.smtp, config.listen);
}
