/**
 * The queue worker's options, their resolved values, and the state its parts share: what a job is (the
 * recipients of one message for one destination) and which recipients are in flight.
 */
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { StsPolicy } from '../auth/mta-sts.js';
import type { OutboundAuth } from '../auth/outbound.js';
import type { MxResolver } from '../dns.js';
import type { OutboundQueue, StoredMessage, StoredRecipient } from './outbound-queue.js';
import type { DeliveryOutcome } from './settle.js';

export interface RegionRoute {
  host: string;
  port: number;
  /** tls.connect options for the federation channel (client certificate, federation CA). */
  tls: ConnectionOptions;
  /** TLS from the first byte (the federation listener, decision 0008); default: STARTTLS, required. */
  implicitTls?: boolean;
}

export interface QueueWorkerOptions {
  queue: OutboundQueue;
  resolver: MxResolver;
  /** Our host name (EHLO). */
  hostname: string;
  /** Port of remote MX hosts; default 25 (the appliance passes `smtp.outboundPort`). */
  port?: number;
  /**
   * Opportunistic STARTTLS is used whenever offered; certificates are not verified unless `rejectUnauthorized`
   * (REQUIRETLS messages are always verified). `ca` adds trusted roots (labs, tests).
   */
  tls?: { rejectUnauthorized?: boolean; ca?: string | Buffer | Array<string | Buffer> };
  /** Concurrent deliveries per destination domain (or region). Default 2. */
  concurrencyPerDestination?: number;
  /** Concurrent deliveries overall. Default 20. */
  maxConcurrency?: number;
  /** Seconds to wait after the 1st, 2nd, ... failed attempt; the last value repeats. */
  retrySchedule?: number[];
  /** A recipient still queued this long after the message arrived bounces. Default 5 days. */
  giveUpAfterMs?: number;
  /** A `delayed` outcome is emitted once per recipient still queued this long after arrival. Default 4 h. */
  delayNotifyAfterMs?: number;
  /** How often the loop started by `start()` looks for due work (it also wakes on enqueue). Default 5 s. */
  pollIntervalMs?: number;
  /** SMTP client timeouts, ms. */
  timeouts?: { connectMs?: number; greetingMs?: number; socketMs?: number };
  now?: () => Date;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** How to reach a peer region (the federation channel); null: no route (yet), the recipient stays queued. */
  routeRegion?: (region: string) => RegionRoute | null;
  /** Called for every final outcome and once per recipient for a delay; the DSN generator hooks in here. */
  onOutcome?: (event: DeliveryOutcome) => Promise<void>;
  /** Sender Rewriting Scheme for forwards and list expansions (see srs.ts). */
  srs?: { secret: Buffer; domain: string };
  /** Order of MX hosts with equal preference (default: random, RFC 5321 §5.1). */
  shuffle?: <T>(items: T[]) => T[];
  /** Recipients fetched per look at the queue. Default 500. */
  batchSize?: number;
  /** DKIM signing and ARC sealing of outgoing mail (auth/outbound.ts). */
  outboundAuth?: OutboundAuth;
  /** MTA-STS policies of recipient domains (auth/mta-sts.ts); absent: not applied. */
  mtaSts?: { policy(domain: string): Promise<StsPolicy | null> };
}

export const DEFAULT_RETRY_SCHEDULE = [60, 300, 900, 1800, 3600, 7200, 14400];
const DAY_MS = 86_400_000;

/** The recipients of one message for one destination (a remote domain or a peer region). */
export interface Job {
  key: string;
  message: StoredMessage;
  recipients: StoredRecipient[];
  region?: string;
  domain: string;
}

/** The options with their defaults applied, and the recipients in flight (shared by the worker's parts). */
export class WorkerContext {
  readonly o: QueueWorkerOptions;
  readonly port: number;
  readonly perDestination: number;
  readonly max: number;
  readonly schedule: number[];
  readonly giveUpMs: number;
  readonly delayMs: number;
  readonly pollMs: number;
  readonly now: () => Date;
  /** Recipients of the jobs running now (never handed out twice). */
  readonly inFlight = new Set<number>();

  constructor(opts: QueueWorkerOptions) {
    this.o = opts;
    this.port = opts.port ?? 25;
    this.perDestination = Math.max(1, opts.concurrencyPerDestination ?? 2);
    this.max = Math.max(1, opts.maxConcurrency ?? 20);
    this.schedule = opts.retrySchedule?.length ? opts.retrySchedule : DEFAULT_RETRY_SCHEDULE;
    this.giveUpMs = opts.giveUpAfterMs ?? 5 * DAY_MS;
    this.delayMs = opts.delayNotifyAfterMs ?? 4 * 3_600_000;
    this.pollMs = opts.pollIntervalMs ?? 5_000;
    this.now = opts.now ?? (() => new Date());
  }
}
