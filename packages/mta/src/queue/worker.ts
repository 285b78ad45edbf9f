/**
 * Delivers the outbound queue: due recipients are grouped by message and destination (a remote domain or a
 * peer region), the destination's MX hosts are tried in preference order (RFC 5321 §5.1) with nodemailer's
 * SMTP client (opportunistic STARTTLS; mandatory and verified for REQUIRETLS messages, RFC 8689), and every
 * recipient ends up delivered / relayed / bounced, or deferred by the retry schedule until it gives up.
 *
 * Crash safety: a recipient is marked final only after the remote server's 250 (a crash between the 250 and
 * the commit can deliver it twice, which SMTP allows, RFC 5321 §6.1); nothing is removed before the commit;
 * a delivery in flight when the process dies is simply due again at the next start.
 */
import { createReadStream, existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import { addressLiteral, DnsError, lookupMx, type MxResolver } from '../dns.js';
import { srsForward } from '../srs.js';
import {
  type FinalState,
  type OutboundQueue,
  orcptAddress,
  type StoredMessage,
  type StoredRecipient,
} from './outbound-queue.js';
import { type Envelope, SmtpClientError, SmtpSession, type TransactionResult } from './smtp-client.js';

/** An SMTP reply, the remote server's or one we chose (DNS, connection, expiry). */
export interface DeliveryReply {
  code: number;
  /** RFC 3463 enhanced status code, when the reply had one. */
  enhanced: string | null;
  /** The whole reply on one line, code first (RFC 3464 Diagnostic-Code `smtp;` value). */
  text: string;
}

export type OutcomeKind = 'delivered' | 'relayed' | 'bounced' | 'delayed';

export interface DeliveryOutcome {
  kind: OutcomeKind;
  /** The message (its `recipients` are the ones this delivery attempt handled). */
  message: StoredMessage;
  /** The recipients this outcome is about; they share `reply` and `remoteHost`. */
  recipients: StoredRecipient[];
  reply: DeliveryReply;
  /** The MX (or federation) host name that gave the reply; null when we concluded it ourselves. */
  remoteHost: string | null;
  /**
   * `delivered` only: the next hop advertised DSN and was given NOTIFY/ORCPT/ENVID/RET, so any success notice
   * is its job now (RFC 3461 §4.2); no DSN is due from us for this recipient.
   */
  passedOn: boolean;
  /** `bounced` only: given up after `giveUpAfterMs` (the reply is the last transient one). */
  expired: boolean;
}

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
}

export const DEFAULT_RETRY_SCHEDULE = [60, 300, 900, 1800, 3600, 7200, 14400];
const DAY_MS = 86_400_000;
const MAX_RCPTS = 100;

/** The replies we choose ourselves, with their RFC 3463 codes. */
const LOCAL = {
  /** RFC 7505 §4.1, RFC 7504: 556 5.1.10 the domain accepts no mail. */
  nullMx: (d: string) => reply(556, '5.1.10', `${d} does not accept mail (null MX)`),
  /** X.1.2: bad destination system address. */
  noDomain: (d: string) => reply(550, '5.1.2', `${d}: no such domain`),
  noAddress: (d: string) => reply(550, '5.1.2', `${d} has no MX and no address records`),
  badAddress: (a: string) => reply(553, '5.1.3', `${a}: bad destination mailbox address syntax`),
  /** X.4.3: directory (DNS) server failure. */
  dnsFailure: (what: string) => reply(451, '4.4.3', `DNS failure: ${what}`),
  /** X.4.4: unable to route. */
  mxNoAddress: (h: string) => reply(451, '4.4.4', `MX host ${h} has no address records`),
  noRegionRoute: (r: string) => reply(451, '4.4.4', `No route to region ${r}`),
  /** X.4.1: no answer from host; X.4.2: bad connection. */
  connection: (h: string, detail: string) => reply(451, '4.4.1', `${h}: ${detail}`),
  /** RFC 8689 §5: X.7.30 REQUIRETLS support required (transient until we give up). */
  requireTls: (h: string, detail: string) => reply(451, '4.7.30', `REQUIRETLS: ${h}: ${detail}`),
  /** X.7.5: cryptographic failure (the federation channel is TLS only). */
  tlsRequired: (h: string, detail: string) => reply(451, '4.7.5', `TLS failed with ${h}: ${detail}`),
  /** X.3.4: message too big for the remote host (its SIZE). */
  tooBig: (h: string) => reply(552, '5.3.4', `message too big for ${h}`),
  /** X.3.0: our own failure (spool file unreadable). */
  localError: (detail: string) => reply(451, '4.3.0', `local error: ${detail}`),
} as const;

function reply(code: number, enhanced: string, text: string): DeliveryReply {
  return { code, enhanced, text: `${code} ${enhanced} ${text}` };
}

/** Parses a reply line (`550 5.1.1 No such user`, possibly multi-line) into a DeliveryReply. */
export function parseReply(text: string): DeliveryReply {
  const one = text
    .split(/\r?\n/)
    .map((l, i) => (i === 0 ? l : l.replace(/^\d{3}[ -](?:\d\.\d{1,3}\.\d{1,3} )?/, '')))
    .join(' ')
    .replace(/^(\d{3})-/, '$1 ')
    .trim();
  const m = /^(\d{3})(?:[ -](\d\.\d{1,3}\.\d{1,3})(?=\s|$))?/.exec(one);
  return { code: m ? Number(m[1]) : 0, enhanced: m?.[2] ?? null, text: one };
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** Drops a leading `Return-Path:` line: it is added at final delivery only (RFC 5321 §4.4). */
class StripReturnPath extends Transform {
  #head: Buffer | null = Buffer.alloc(0);
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.#head === null) {
      cb(null, chunk);
      return;
    }
    const buf = Buffer.concat([this.#head, chunk]);
    const nl = buf.indexOf(0x0a);
    if (nl < 0 && buf.length < 4096) {
      this.#head = buf;
      cb();
      return;
    }
    this.#head = null;
    if (nl >= 0 && /^return-path:/i.test(buf.subarray(0, nl).toString('latin1')))
      cb(null, buf.subarray(nl + 1));
    else cb(null, buf);
  }
  override _flush(cb: TransformCallback): void {
    if (this.#head?.length) this.push(this.#head);
    cb();
  }
}

interface Job {
  key: string;
  message: StoredMessage;
  recipients: StoredRecipient[];
  region?: string;
  domain: string;
}

interface Failure {
  reply: DeliveryReply;
  host: string | null;
}

interface Target {
  address: string;
  port: number;
  /** The host name (MX exchange, federation host): TLS server name, remote host in replies. */
  host: string;
  requireTls: boolean;
  /** TLS from the first byte instead of STARTTLS. */
  implicitTls?: boolean;
  tls: ConnectionOptions;
  /** REQUIRETLS on MAIL FROM (RFC 8689): set for REQUIRETLS messages. */
  requireTlsExtension: boolean;
  srs: boolean;
}

export class QueueWorker {
  readonly #o: QueueWorkerOptions;
  readonly #port: number;
  readonly #perDestination: number;
  readonly #max: number;
  readonly #schedule: number[];
  readonly #giveUpMs: number;
  readonly #delayMs: number;
  readonly #pollMs: number;
  readonly #now: () => Date;
  readonly #active = new Map<string, number>();
  readonly #inFlight = new Set<number>();
  /** Recipients whose job failed unexpectedly (a store error): left alone until the time given. */
  readonly #cooldown = new Map<number, number>();
  readonly #running = new Set<Promise<void>>();
  #total = 0;
  #started = false;
  #stopping = false;
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #tickAgain = false;
  #unsubscribe: (() => void) | undefined;
  #flushingOutcomes = false;

  constructor(opts: QueueWorkerOptions) {
    this.#o = opts;
    this.#port = opts.port ?? 25;
    this.#perDestination = Math.max(1, opts.concurrencyPerDestination ?? 2);
    this.#max = Math.max(1, opts.maxConcurrency ?? 20);
    this.#schedule = opts.retrySchedule?.length ? opts.retrySchedule : DEFAULT_RETRY_SCHEDULE;
    this.#giveUpMs = opts.giveUpAfterMs ?? 5 * DAY_MS;
    this.#delayMs = opts.delayNotifyAfterMs ?? 4 * 3_600_000;
    this.#pollMs = opts.pollIntervalMs ?? 5_000;
    this.#now = opts.now ?? (() => new Date());
  }

  /** Starts the delivery loop: a pass now, then on every enqueue, every freed slot and every poll interval. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#stopping = false;
    this.#unsubscribe = this.#o.queue.onEnqueued(() => this.kick());
    this.kick();
  }

  /** Looks for due work now (when started). */
  kick(): void {
    if (!this.#started || this.#stopping) return;
    this.#arm(0);
  }

  /** Stops taking new work and waits for the deliveries in flight. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#started = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /**
   * One pass: delivers every recipient due now (each at most once), within the concurrency limits, and
   * waits for the deliveries to finish.
   */
  async runOnce(): Promise<void> {
    await this.#flushPendingOutcomes();
    const seen = new Set<number>();
    for (;;) {
      const started = await this.#pass(seen);
      if (this.#running.size === 0 && started === 0) break;
      if (started === 0) await Promise.race(this.#running);
    }
  }

  #arm(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#ticking) {
      this.#tickAgain = true;
      return;
    }
    this.#ticking = true;
    let wait = this.#pollMs;
    try {
      await this.#flushPendingOutcomes();
      await this.#pass();
      // Past-due work is in flight, cooling down or waiting for a slot: a finished job kicks the loop.
      const next = await this.#o.queue.nextDueAt();
      const until = next ? next.getTime() - this.#now().getTime() : wait;
      if (until > 0) wait = Math.min(wait, until);
    } catch (err) {
      this.#o.logger?.error({ event: 'queue.error', err: (err as Error).message }, 'queue pass failed');
    } finally {
      this.#ticking = false;
    }
    if (this.#stopping || !this.#started) return;
    if (this.#tickAgain) {
      this.#tickAgain = false;
      wait = 0;
    }
    this.#arm(Math.max(wait, 10));
  }

  /** Starts the due jobs that fit in the limits; returns how many were started. */
  async #pass(seen?: Set<number>): Promise<number> {
    if (this.#stopping) return 0;
    const nowMs = this.#now().getTime();
    for (const [id, until] of this.#cooldown) if (until <= nowMs) this.#cooldown.delete(id);
    const skipped = new Set<number>();
    let started = 0;
    for (let round = 0; round < 10 && this.#total < this.#max; round++) {
      const exclude = [...this.#inFlight, ...this.#cooldown.keys(), ...skipped, ...(seen ?? [])];
      const due = await this.#o.queue.due({
        now: this.#now(),
        limit: this.#o.batchSize ?? 500,
        exclude,
      });
      if (due.length === 0 || this.#stopping) break;
      for (const job of this.#jobs(due)) {
        const active = this.#active.get(job.key) ?? 0;
        if (this.#total >= this.#max || active >= this.#perDestination) {
          for (const r of job.recipients) skipped.add(r.id);
          continue;
        }
        for (const r of job.recipients) seen?.add(r.id);
        this.#startJob(job);
        started++;
      }
    }
    return started;
  }

  #jobs(messages: StoredMessage[]): Job[] {
    const jobs: Job[] = [];
    for (const message of messages) {
      const byKey = new Map<string, Job>();
      for (const r of message.recipients) {
        const region = r.route === 'region' ? (r.region ?? '') : undefined;
        const domain = domainOf(r.address);
        const key = region !== undefined ? `region:${region}` : `domain:${domain}`;
        let job = byKey.get(key);
        if (!job) {
          job = { key, message, recipients: [], domain, ...(region !== undefined ? { region } : {}) };
          byKey.set(key, job);
          jobs.push(job);
        }
        job.recipients.push(r);
      }
    }
    return jobs;
  }

  #startJob(job: Job): void {
    for (const r of job.recipients) this.#inFlight.add(r.id);
    this.#active.set(job.key, (this.#active.get(job.key) ?? 0) + 1);
    this.#total++;
    const run = (job.region !== undefined ? this.#runRegion(job, job.region) : this.#runRemote(job))
      .catch((err) => {
        const until = this.#now().getTime() + this.#pollMs;
        for (const r of job.recipients) this.#cooldown.set(r.id, until);
        this.#o.logger?.error(
          { event: 'queue.error', id: job.message.id, err: (err as Error).message },
          'delivery failed unexpectedly',
        );
      })
      .finally(() => {
        for (const r of job.recipients) this.#inFlight.delete(r.id);
        const left = (this.#active.get(job.key) ?? 1) - 1;
        if (left <= 0) this.#active.delete(job.key);
        else this.#active.set(job.key, left);
        this.#total--;
        this.#running.delete(run);
        this.kick();
      });
    this.#running.add(run);
  }

  async #runRemote(job: Job): Promise<void> {
    const { message } = job;
    const valid = job.recipients.filter((r) => /^[^@\s]+@[^@\s]+$/.test(r.address));
    for (const r of job.recipients.filter((x) => !valid.includes(x)))
      await this.#final(job, [r], 'bounced', LOCAL.badAddress(r.address), null);
    if (valid.length === 0) return;
    if (!this.#spoolOk(job)) return this.#defer(job, valid, LOCAL.localError('spool file missing'), null);

    let hosts: Awaited<ReturnType<typeof lookupMx>>;
    try {
      hosts = await lookupMx(this.#o.resolver, job.domain, this.#o.shuffle);
    } catch (err) {
      if (err instanceof DnsError && err.permanent) {
        const r = err.code === 'NULLMX' ? LOCAL.nullMx(job.domain) : LOCAL.noDomain(job.domain);
        return this.#final(job, valid, 'bounced', r, null);
      }
      return this.#defer(job, valid, LOCAL.dnsFailure((err as Error).message), null);
    }

    let pending = valid;
    let last: Failure | null = null;
    let anyAddress = false;
    for (const mx of hosts.hosts) {
      let addresses: string[];
      try {
        addresses = addressLiteral(mx.exchange)
          ? [mx.exchange]
          : await this.#o.resolver.resolveAddresses(mx.exchange, (failure) =>
              this.#dnsSkipped(job, mx.exchange, failure),
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
          rejectUnauthorized: message.requireTls ? true : (this.#o.tls?.rejectUnauthorized ?? false),
          ...(isIP(mx.exchange) ? {} : { servername: mx.exchange }),
          ...(this.#o.tls?.ca ? { ca: this.#o.tls.ca } : {}),
          ...(message.requireTls ? { minVersion: 'TLSv1.2' as const } : {}),
        };
        const target: Target = {
          address,
          port: this.#port,
          host: mx.exchange,
          requireTls: message.requireTls,
          tls,
          requireTlsExtension: message.requireTls,
          srs: Boolean(this.#o.srs),
        };
        const result = await this.#deliverTo(job, target, pending);
        pending = result.pending;
        if (result.failure) last = result.failure;
        if (pending.length === 0) return;
      }
    }
    if (hosts.implicit && !anyAddress)
      return this.#final(job, pending, 'bounced', LOCAL.noAddress(job.domain), null);
    await this.#defer(
      job,
      pending,
      last?.reply ?? LOCAL.connection(job.domain, 'no host answered'),
      last?.host ?? null,
    );
  }

  async #runRegion(job: Job, region: string): Promise<void> {
    const route = this.#o.routeRegion?.(region) ?? null;
    if (!route) return this.#defer(job, job.recipients, LOCAL.noRegionRoute(region), null);
    if (!this.#spoolOk(job))
      return this.#defer(job, job.recipients, LOCAL.localError('spool file missing'), null);
    let addresses: string[];
    try {
      addresses = isIP(route.host)
        ? [route.host]
        : await this.#o.resolver.resolveAddresses(route.host, (failure) =>
            this.#dnsSkipped(job, route.host, failure),
          );
    } catch (err) {
      return this.#defer(job, job.recipients, LOCAL.dnsFailure((err as Error).message), null);
    }
    if (addresses.length === 0) return this.#defer(job, job.recipients, LOCAL.mxNoAddress(route.host), null);
    let pending = job.recipients;
    let last: Failure | null = null;
    for (const address of addresses) {
      const result = await this.#deliverTo(job, this.#regionTarget(job, route, address), pending);
      pending = result.pending;
      if (result.failure) last = result.failure;
      if (pending.length === 0) return;
    }
    await this.#defer(
      job,
      pending,
      last?.reply ?? LOCAL.connection(route.host, 'no answer'),
      last?.host ?? null,
    );
  }

  /** One address family of `host` could not be looked up; the other's addresses are tried (dns.ts). */
  #dnsSkipped(job: Job, host: string, failure: DnsError): void {
    this.#o.logger?.warn(
      { event: 'queue.dns_partial', id: job.message.id, host, code: failure.code, err: failure.message },
      'address lookup failed for one family; trying the other',
    );
  }

  #regionTarget(job: Job, route: RegionRoute, address: string): Target {
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

  #spoolOk(job: Job): boolean {
    const ok = existsSync(this.#o.queue.spoolPath(job.message.spoolFile));
    if (!ok)
      this.#o.logger?.error(
        { event: 'queue.error', id: job.message.id },
        'spool file missing for a queued message',
      );
    return ok;
  }

  /**
   * One connection to one address: every transaction the recipients need. Returns the recipients still
   * pending (not yet given a reply by this host: the connection failed) and the failure to report for them.
   */
  async #deliverTo(
    job: Job,
    target: Target,
    recipients: StoredRecipient[],
  ): Promise<{ pending: StoredRecipient[]; failure: Failure | null }> {
    let session: SmtpSession;
    try {
      session = await this.#open(target, false);
    } catch (err) {
      return { pending: recipients, failure: this.#connectionFailure(target, err) };
    }
    try {
      if (target.requireTls && !session.secure)
        return {
          pending: recipients,
          failure: this.#connectionFailure(target, new SmtpClientError('no TLS', 'ETLS', null, null, true)),
        };
      const groups = this.#transactions(job, target, recipients, session.extensions);
      for (let i = 0; i < groups.length; i++) {
        const group = groups[i] ?? [];
        const rest = () => groups.slice(i).flat();
        if (session.closed)
          return {
            pending: rest(),
            failure: { reply: LOCAL.connection(target.host, 'connection closed'), host: target.host },
          };
        try {
          const result = await session.send(
            this.#envelope(job.message, group, target),
            this.#stream(job.message),
          );
          await this.#settle(job, group, result, target.host);
        } catch (err) {
          if (!(err instanceof SmtpClientError)) throw err;
          if (err.connectionLevel) return { pending: rest(), failure: this.#connectionFailure(target, err) };
          await this.#settleRefusal(job, group, err, target.host);
          try {
            await session.reset();
          } catch (resetErr) {
            return {
              pending: groups.slice(i + 1).flat(),
              failure: this.#connectionFailure(target, resetErr),
            };
          }
        }
      }
      return { pending: [], failure: null };
    } finally {
      await session.quit();
    }
  }

  async #open(target: Target, plain: boolean): Promise<SmtpSession> {
    const t = this.#o.timeouts ?? {};
    try {
      return await SmtpSession.open({
        address: target.address,
        port: target.port,
        name: this.#o.hostname,
        requireTls: target.requireTls,
        ignoreTls: plain,
        ...(target.implicitTls ? { implicitTls: true } : {}),
        tls: target.tls,
        connectionTimeoutMs: t.connectMs ?? 30_000,
        greetingTimeoutMs: t.greetingMs ?? 300_000,
        socketTimeoutMs: t.socketMs ?? 600_000,
      });
    } catch (err) {
      // Opportunistic TLS: a failed handshake is retried in plain text (what Postfix's "may" level does).
      if (!plain && !target.requireTls && err instanceof SmtpClientError && err.code === 'ETLS')
        return this.#open(target, true);
      throw err;
    }
  }

  #connectionFailure(target: Target, err: unknown): Failure {
    const e = err instanceof SmtpClientError ? err : null;
    const detail = e?.response ? e.response.replace(/\s+/g, ' ') : ((err as Error).message ?? String(err));
    if (target.requireTls && (e?.code === 'ETLS' || e?.code === 'EREQUIRETLS'))
      return {
        reply: target.requireTlsExtension
          ? LOCAL.requireTls(target.host, detail)
          : LOCAL.tlsRequired(target.host, detail),
        host: target.host,
      };
    // A reply the host gave (a 421 or 554 greeting) is reported as its own, as a transient one.
    if (e?.response && e.responseCode) {
      const parsed = parseReply(e.response);
      if (parsed.code >= 400 && parsed.code < 500) return { reply: parsed, host: target.host };
    }
    return { reply: LOCAL.connection(target.host, detail), host: target.host };
  }

  /**
   * Recipients that go in one transaction: same NOTIFY and ORCPT when the next hop takes DSN parameters
   * (nodemailer sends one set per transaction), same envelope sender (SRS for forwards).
   */
  #transactions(
    job: Job,
    target: Target,
    recipients: StoredRecipient[],
    extensions: string[] | null,
  ): StoredRecipient[][] {
    const dsn = extensions === null || extensions.includes('DSN');
    const groups = new Map<string, StoredRecipient[]>();
    for (const r of recipients) {
      const key = JSON.stringify([
        dsn ? (r.notify ?? []).map((n) => n.toUpperCase()).sort() : [],
        dsn ? (r.orcpt ?? null) : null,
        this.#useSrs(job.message, r, target),
      ]);
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    // RFC 5321 §4.5.3.1.8: 100 recipients per transaction is what every server must take.
    return [...groups.values()].flatMap((g) =>
      Array.from({ length: Math.ceil(g.length / MAX_RCPTS) }, (_, i) =>
        g.slice(i * MAX_RCPTS, (i + 1) * MAX_RCPTS),
      ),
    );
  }

  /** Forwards and list expansions (an ORCPT that is not the recipient itself) to remote domains use SRS. */
  #useSrs(message: StoredMessage, r: StoredRecipient, target: Target): boolean {
    if (!target.srs || !this.#o.srs || r.route !== 'remote' || message.sender === '') return false;
    const original = orcptAddress(r.orcpt);
    return original !== null && original.toLowerCase() !== r.address.toLowerCase();
  }

  #envelope(message: StoredMessage, group: StoredRecipient[], target: Target): Envelope {
    const first = group[0];
    const srs = first ? this.#useSrs(message, first, target) : false;
    const from =
      srs && this.#o.srs
        ? srsForward(message.sender, {
            secret: this.#o.srs.secret,
            domain: this.#o.srs.domain,
            now: this.#now(),
          })
        : message.sender;
    const notify = first?.notify?.length ? first.notify.map((n) => n.toUpperCase()).join(',') : null;
    const dsn =
      message.ret || message.envid || notify || first?.orcpt
        ? {
            ...(message.ret ? { ret: message.ret } : {}),
            ...(message.envid ? { envid: message.envid } : {}),
            ...(notify ? { notify } : {}),
            ...(first?.orcpt ? { orcpt: first.orcpt } : {}),
          }
        : undefined;
    return {
      from,
      to: [...new Map(group.map((r) => [r.address.toLowerCase(), r.address])).values()],
      size: message.size,
      ...(dsn ? { dsn } : {}),
      ...(target.requireTlsExtension ? { requireTls: true } : {}),
    };
  }

  #stream(message: StoredMessage): Readable {
    const file = createReadStream(this.#o.queue.spoolPath(message.spoolFile));
    const strip = new StripReturnPath();
    file.on('error', (err) => strip.destroy(err));
    return file.pipe(strip);
  }

  /** A transaction that went through for some recipients: every recipient gets its reply. */
  async #settle(job: Job, group: StoredRecipient[], result: TransactionResult, host: string): Promise<void> {
    const byAddress = new Map(result.recipients.map((r) => [r.address.toLowerCase(), r]));
    const outcomes = new Map<
      string,
      { kind: FinalState | 'deferred'; reply: DeliveryReply; rcpts: StoredRecipient[] }
    >();
    for (const r of group) {
      const res = byAddress.get(r.address.toLowerCase());
      const parsed = parseReply(res?.response ?? '451 4.4.0 no reply for this recipient');
      let kind: FinalState | 'deferred';
      if (res?.ok) {
        const wantsSuccess = (r.notify ?? []).some((n) => n.toUpperCase() === 'SUCCESS');
        kind = !result.dsn && wantsSuccess ? 'relayed' : 'delivered';
      } else kind = parsed.code >= 500 ? 'bounced' : 'deferred';
      const key = `${kind}\n${parsed.text}`;
      const entry = outcomes.get(key) ?? { kind, reply: parsed, rcpts: [] };
      entry.rcpts.push(r);
      outcomes.set(key, entry);
    }
    for (const o of outcomes.values()) {
      if (o.kind === 'deferred') await this.#defer(job, o.rcpts, o.reply, host);
      else
        await this.#final(job, o.rcpts, o.kind, o.reply, host, {
          passedOn: o.kind === 'delivered' && result.dsn,
        });
    }
  }

  /** A transaction refused as a whole (MAIL FROM, every RCPT, or DATA): 5xx bounce, 4xx defer. */
  async #settleRefusal(
    job: Job,
    group: StoredRecipient[],
    err: SmtpClientError,
    host: string,
  ): Promise<void> {
    if (err.rejected.length > 0) {
      const byAddress = new Map(err.rejected.map((r) => [r.address.toLowerCase(), r]));
      const failed = new Map<string, { reply: DeliveryReply; rcpts: StoredRecipient[] }>();
      for (const r of group) {
        const rej = byAddress.get(r.address.toLowerCase());
        const parsed = parseReply(rej?.response ?? err.response ?? '451 4.4.0 refused');
        const entry = failed.get(parsed.text) ?? { reply: parsed, rcpts: [] };
        entry.rcpts.push(r);
        failed.set(parsed.text, entry);
      }
      for (const f of failed.values()) {
        if (f.reply.code >= 500) await this.#final(job, f.rcpts, 'bounced', f.reply, host);
        else await this.#defer(job, f.rcpts, f.reply, host);
      }
      return;
    }
    let parsed: DeliveryReply;
    if (err.response) parsed = parseReply(err.response);
    else if (err.code === 'EMESSAGE') parsed = LOCAL.tooBig(host);
    else if (err.code === 'EENVELOPE') parsed = LOCAL.badAddress(group.map((r) => r.address).join(', '));
    else parsed = LOCAL.connection(host, err.message);
    if (parsed.code >= 500) await this.#final(job, group, 'bounced', parsed, host);
    else await this.#defer(job, group, parsed, host);
  }

  /** Final state, committed; then the outcome is handed to the DSN generator. */
  async #final(
    job: Job,
    rcpts: StoredRecipient[],
    state: FinalState,
    r: DeliveryReply,
    host: string | null,
    extra: { passedOn?: boolean; expired?: boolean } = {},
  ): Promise<void> {
    if (rcpts.length === 0) return;
    const ids = rcpts.map((x) => x.id);
    const hook = this.#o.onOutcome;
    await this.#o.queue.markFinal(ids, {
      state,
      reply: r.text,
      remoteHost: host,
      outcomePending: Boolean(hook),
    });
    // Final states are in the delivery log (trace); the appliance's onOutcome logs `queue.outcome`.
    if (!hook) return;
    try {
      await hook({
        kind: state,
        message: job.message,
        recipients: rcpts,
        reply: r,
        remoteHost: host,
        passedOn: Boolean(extra.passedOn),
        expired: Boolean(extra.expired),
      });
    } catch (err) {
      // Kept pending: handed over again by a later pass.
      this.#o.logger?.error(
        { event: 'queue.error', id: job.message.id, err: (err as Error).message },
        'outcome hook failed; will retry',
      );
      return;
    }
    await this.#o.queue.outcomeDone(ids);
  }

  /** A transient failure: retry by the schedule, bounce once past the give-up time, a delay notice once. */
  async #defer(job: Job, rcpts: StoredRecipient[], r: DeliveryReply, host: string | null): Promise<void> {
    if (rcpts.length === 0) return;
    const now = this.#now();
    const created = new Date(job.message.createdAt).getTime();
    const deadline = created + this.#giveUpMs;
    if (now.getTime() >= deadline) return this.#final(job, rcpts, 'bounced', r, host, { expired: true });
    // Recipients of one job may have different attempt counts (a retry by the operator, a partial failure).
    const byDelay = new Map<number, StoredRecipient[]>();
    for (const x of rcpts) {
      const seconds = this.#schedule[Math.min(x.attempts, this.#schedule.length - 1)] ?? 60;
      const at = Math.min(now.getTime() + seconds * 1000, deadline);
      byDelay.set(at, [...(byDelay.get(at) ?? []), x]);
    }
    for (const [at, group] of byDelay)
      await this.#o.queue.recordDeferral(
        group.map((x) => x.id),
        { reply: r.text, nextAttemptAt: new Date(at), remoteHost: host },
      );
    this.#o.logger?.info(
      {
        event: 'queue.deferred',
        id: job.message.id,
        rcpts: rcpts.map((x) => x.address),
        host,
        reply: r.text,
      },
      `deferred: ${rcpts.map((x) => x.address).join(', ')}`,
    );
    const hook = this.#o.onOutcome;
    if (!hook || now.getTime() - created < this.#delayMs) return;
    const late = rcpts.filter((x) => !x.delayNotifiedAt);
    if (late.length === 0) return;
    try {
      await hook({
        kind: 'delayed',
        message: job.message,
        recipients: late,
        reply: r,
        remoteHost: host,
        passedOn: false,
        expired: false,
      });
    } catch (err) {
      // Not marked: the next deferral tries again.
      this.#o.logger?.error(
        { event: 'queue.error', id: job.message.id, err: (err as Error).message },
        'delay hook failed; will retry',
      );
      return;
    }
    await this.#o.queue.markDelayNotified(late.map((x) => x.id));
  }

  /** Outcomes committed but not handed to the DSN generator (a crash or a failing hook): hand them now. */
  async #flushPendingOutcomes(): Promise<void> {
    const hook = this.#o.onOutcome;
    if (!hook || this.#flushingOutcomes) return;
    this.#flushingOutcomes = true;
    try {
      for (const message of await this.#o.queue.pendingOutcomes()) {
        const groups = new Map<string, StoredRecipient[]>();
        for (const r of message.recipients) {
          if (this.#inFlight.has(r.id)) continue;
          const key = JSON.stringify([r.state, r.lastReply, r.remoteHost]);
          groups.set(key, [...(groups.get(key) ?? []), r]);
        }
        for (const rcpts of groups.values()) {
          const first = rcpts[0];
          if (!first || first.state === 'queued') continue;
          const r = parseReply(first.lastReply ?? '');
          const wantsSuccess = (first.notify ?? []).some((n) => n.toUpperCase() === 'SUCCESS');
          try {
            await hook({
              kind: first.state,
              message,
              recipients: rcpts,
              reply: r,
              remoteHost: first.remoteHost,
              passedOn: first.state === 'delivered' && wantsSuccess,
              expired: first.state === 'bounced' && r.code >= 400 && r.code < 500,
            });
            await this.#o.queue.outcomeDone(rcpts.map((x) => x.id));
          } catch (err) {
            this.#o.logger?.error(
              { event: 'queue.error', id: message.id, err: (err as Error).message },
              'outcome hook failed; will retry',
            );
          }
        }
      }
    } finally {
      this.#flushingOutcomes = false;
    }
  }
}
