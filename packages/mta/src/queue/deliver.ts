/**
 * One connection to one address of a destination (an MX host, or a peer region's federation host), with
 * nodemailer's SMTP client (smtp-client.ts): opportunistic STARTTLS (mandatory and verified when the target
 * requires it: REQUIRETLS messages, RFC 8689, and the federation channel), the recipients split into
 * transactions (DSN parameters, SRS sender, 100 per transaction), each transaction's replies settled.
 */
import { createReadStream, existsSync } from 'node:fs';
import { PassThrough, type Readable, Transform, type TransformCallback } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import { logEventAt } from '@delegato/observability';
import type { DnsError } from '../dns.js';
import { srsForward } from '../srs.js';
import { type DeliveryReply, LOCAL, parseReply } from './delivery-replies.js';
import { orcptAddress, type StoredMessage, type StoredRecipient } from './outbound-queue.js';
import type { Settler } from './settle.js';
import { type Envelope, SmtpClientError, SmtpSession } from './smtp-client.js';
import type { Job, WorkerContext } from './worker-context.js';

const MAX_RCPTS = 100;

export interface Failure {
  reply: DeliveryReply;
  host: string | null;
}

export interface Target {
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
  /** The recipient domain whose MTA-STS policy (`enforce`) requires TLS here (auth/mta-sts.ts). */
  mtaSts?: string;
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

export class Deliverer {
  readonly c: WorkerContext;
  readonly settler: Settler;

  constructor(ctx: WorkerContext, settler: Settler) {
    this.c = ctx;
    this.settler = settler;
  }

  spoolOk(job: Job): boolean {
    const ok = existsSync(this.c.o.queue.spoolPath(job.message.spoolFile));
    if (!ok)
      logEventAt(
        this.c.o.logger,
        'error',
        'queue.error',
        { id: job.message.id },
        'spool file missing for a queued message',
      );
    return ok;
  }

  /** One address family of `host` could not be looked up; the other's addresses are tried (dns.ts). */
  dnsSkipped(job: Job, host: string, failure: DnsError): void {
    logEventAt(
      this.c.o.logger,
      'warn',
      'queue.dns_partial',
      { id: job.message.id, host, code: failure.code, err: failure.message },
      'address lookup failed for one family; trying the other',
    );
  }

  /**
   * One connection to one address: every transaction the recipients need. Returns the recipients still
   * pending (not yet given a reply by this host: the connection failed) and the failure to report for them.
   */
  async deliverTo(
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
          // DKIM signatures, or an ARC set for a forward (auth/outbound.ts), on top of the message.
          const fwd =
            group[0] && this.#useSrs(job.message, group[0], target) ? orcptAddress(group[0].orcpt) : null;
          const prefix =
            (await this.c.o.outboundAuth?.prefix(
              this.c.o.queue.spoolPath(job.message.spoolFile),
              fwd,
              job.message.sender,
            )) ?? '';
          const result = await session.send(
            {
              ...this.#envelope(job.message, group, target),
              size: job.message.size + Buffer.byteLength(prefix),
            },
            this.#stream(job.message, prefix),
          );
          await this.settler.settle(job, group, result, target.host);
        } catch (err) {
          if (!(err instanceof SmtpClientError)) throw err;
          if (err.connectionLevel) return { pending: rest(), failure: this.#connectionFailure(target, err) };
          await this.settler.settleRefusal(job, group, err, target.host);
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
    const t = this.c.o.timeouts ?? {};
    try {
      return await SmtpSession.open({
        address: target.address,
        port: target.port,
        name: this.c.o.hostname,
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
          : target.mtaSts
            ? LOCAL.mtaSts(target.mtaSts, `${target.host}: ${detail}`)
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
    if (!target.srs || !this.c.o.srs || r.route !== 'remote' || message.sender === '') return false;
    const original = orcptAddress(r.orcpt);
    return original !== null && original.toLowerCase() !== r.address.toLowerCase();
  }

  #envelope(message: StoredMessage, group: StoredRecipient[], target: Target): Envelope {
    const first = group[0];
    const srs = first ? this.#useSrs(message, first, target) : false;
    const srsOpts = this.c.o.srs;
    const from =
      srs && srsOpts
        ? srsForward(message.sender, { secret: srsOpts.secret, domain: srsOpts.domain, now: this.c.now() })
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

  #stream(message: StoredMessage, prefix = ''): Readable {
    const file = createReadStream(this.c.o.queue.spoolPath(message.spoolFile));
    const strip = new StripReturnPath();
    file.on('error', (err) => strip.destroy(err));
    if (prefix === '') return file.pipe(strip);
    const out = new PassThrough();
    out.write(prefix);
    strip.on('error', (err) => out.destroy(err));
    return file.pipe(strip).pipe(out);
  }
}
