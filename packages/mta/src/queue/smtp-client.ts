/**
 * One outbound SMTP session, promise-shaped, on nodemailer's SMTP client (`SMTPConnection`, the engine under
 * `createTransport`). Used directly rather than through the transport because delivery needs what the
 * transport hides: several transactions over one connection (one per set of DSN parameters, since
 * nodemailer sends one NOTIFY/ORCPT per transaction), whether the session ended up under TLS (REQUIRETLS),
 * and the server's EHLO keywords (whether it advertised DSN: RFC 3461 §4.2 "relayed").
 */
import type { Readable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { supportedExtensions } from '../nodemailer-internals.js';

export interface SessionOptions {
  /** The address to connect to (already resolved). */
  address: string;
  port: number;
  /** EHLO name. */
  name: string;
  /** STARTTLS is mandatory (REQUIRETLS, federation): no TLS, no delivery. */
  requireTls: boolean;
  /** Do not even try STARTTLS (the retry after a failed opportunistic handshake). */
  ignoreTls?: boolean;
  /** TLS from the first byte (the federation channel), not STARTTLS. */
  implicitTls?: boolean;
  /** tls.connect options: servername (the MX host name), rejectUnauthorized, ca, client certificates. */
  tls: ConnectionOptions;
  connectionTimeoutMs: number;
  greetingTimeoutMs: number;
  socketTimeoutMs: number;
}

export interface Envelope {
  from: string;
  to: string[];
  size?: number;
  dsn?: { ret?: string | null; envid?: string | null; notify?: string | null; orcpt?: string | null };
  /** RFC 8689: send REQUIRETLS on MAIL FROM (the next hop must advertise it). */
  requireTls?: boolean;
}

/** Reply for one recipient of a transaction. */
export interface RecipientResult {
  address: string;
  ok: boolean;
  /** The server's reply: the DATA reply for accepted recipients, the RCPT reply for refused ones. */
  response: string;
  code: number;
}

export interface TransactionResult {
  recipients: RecipientResult[];
  /** The server advertised DSN (RFC 3461) in its (last) EHLO. */
  dsn: boolean;
}

/** An error with the server's reply, or a connection-level failure (no reply, or the session is unusable). */
export class SmtpClientError extends Error {
  constructor(
    message: string,
    /** nodemailer's error code (ECONNECTION, ETLS, ESOCKET, ETIMEDOUT, EENVELOPE, EMESSAGE, EREQUIRETLS...). */
    readonly code: string,
    /** The reply that failed the transaction, if any. */
    readonly response: string | null,
    readonly responseCode: number | null,
    /** The connection is gone or unusable: the remaining work goes to the next host. */
    readonly connectionLevel: boolean,
    /** Per-recipient refusals when every recipient was refused. */
    readonly rejected: Array<{ address: string; response: string; code: number }> = [],
  ) {
    super(message);
    this.name = 'SmtpClientError';
  }
}

interface NodemailerError extends Error {
  code?: string;
  response?: string;
  responseCode?: number;
  recipient?: string;
  rejectedErrors?: NodemailerError[];
}

/** Codes after which the session cannot go on (the connection is gone or in an unknown state). */
const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ESOCKET',
  'ETIMEDOUT',
  'ETLS',
  'EPROTOCOL',
  'EREQUIRETLS',
  'ESTREAM',
  'EDNS',
]);

function wrap(err: unknown, phase: 'connect' | 'send'): SmtpClientError {
  const e = err as NodemailerError;
  const code = e.code ?? 'EUNKNOWN';
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : null;
  // Everything before the session is established is about the host, not the message (RFC 5321 §3.8: a
  // 421/554 greeting or a failed STARTTLS means "try another host"); 421 anywhere closes the channel.
  const connectionLevel = phase === 'connect' || CONNECTION_CODES.has(code) || responseCode === 421;
  const rejected = (e.rejectedErrors ?? []).map((r) => ({
    address: r.recipient ?? '',
    response: r.response ?? r.message,
    code: r.responseCode ?? 0,
  }));
  return new SmtpClientError(e.message, code, e.response ?? null, responseCode, connectionLevel, rejected);
}

export class SmtpSession {
  #closed = false;

  private constructor(private readonly conn: SMTPConnection) {
    // Errors outside a pending call (an idle socket dying) must not crash the process.
    conn.on('error', () => undefined);
    conn.on('end', () => {
      this.#closed = true;
    });
  }

  /** Connects, reads the greeting, EHLO, STARTTLS when offered (or required), EHLO again. */
  static open(o: SessionOptions): Promise<SmtpSession> {
    const conn = new SMTPConnection({
      host: o.address,
      port: o.port,
      name: o.name,
      secure: Boolean(o.implicitTls),
      requireTLS: o.requireTls,
      opportunisticTLS: !o.requireTls,
      ignoreTLS: !o.requireTls && Boolean(o.ignoreTls),
      tls: o.tls,
      connectionTimeout: o.connectionTimeoutMs,
      greetingTimeout: o.greetingTimeoutMs,
      socketTimeout: o.socketTimeoutMs,
      socketCloseTimeout: 1_000,
      logger: false,
    });
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        // A failed handshake (bad certificate, protocol mismatch) surfaces as a socket error: name it.
        const tls = Boolean(conn.upgrading);
        conn.close();
        const e = wrap(err, 'connect');
        reject(tls ? new SmtpClientError(e.message, 'ETLS', e.response, e.responseCode, true) : e);
      };
      conn.once('error', fail);
      conn.once('end', () => fail(Object.assign(new Error('Connection closed'), { code: 'ECONNECTION' })));
      conn.connect((err) => {
        if (err) return fail(err);
        if (settled) return;
        settled = true;
        conn.removeListener('error', fail);
        resolve(new SmtpSession(conn));
      });
    });
  }

  /** The session runs under TLS (implicit or after STARTTLS). */
  get secure(): boolean {
    return this.conn.secure;
  }

  /**
   * The EHLO keywords the server advertised, as far as nodemailer tracks them (SMTPUTF8, DSN, 8BITMIME,
   * REQUIRETLS, PIPELINING, SIZE). nodemailer keeps them in a private field, read in nodemailer-internals.ts;
   * null when it is not there.
   */
  get extensions(): string[] | null {
    return supportedExtensions(this.conn);
  }

  get closed(): boolean {
    return this.#closed || this.conn.destroyed;
  }

  /**
   * One transaction. Resolves with per-recipient results when the message was accepted for at least one
   * recipient; rejects with an SmtpClientError otherwise (every recipient refused, MAIL FROM or DATA
   * refused, or the connection failed).
   */
  send(envelope: Envelope, message: Readable): Promise<TransactionResult> {
    return new Promise((resolve, reject) => {
      this.conn.send(
        {
          from: envelope.from,
          to: envelope.to,
          ...(envelope.size ? { size: envelope.size } : {}),
          ...(envelope.dsn ? { dsn: envelope.dsn } : {}),
          use8BitMime: true,
          ...(envelope.requireTls ? { requireTLSExtensionEnabled: true } : {}),
        },
        message,
        (err, info) => {
          if (err || !info) {
            message.destroy();
            return reject(wrap(err, 'send'));
          }
          const code = Number(/^\d{3}/.exec(info.response)?.[0] ?? 250);
          const refused = new Map(
            (info.rejectedErrors ?? []).map((e) => [(e as NodemailerError).recipient, e]),
          );
          const recipients: RecipientResult[] = [
            ...info.accepted.map((address) => ({ address, ok: true, response: info.response, code })),
            ...info.rejected.map((address) => {
              const e = refused.get(address) as NodemailerError | undefined;
              return {
                address,
                ok: false,
                response: e?.response ?? e?.message ?? 'refused',
                code: e?.responseCode ?? 0,
              };
            }),
          ];
          const dsn = (info.ehlo ?? []).some((line) => /^DSN\b/i.test(line));
          resolve({ recipients, dsn });
        },
      );
    });
  }

  /** RSET after a failed transaction, so that the next one starts clean. */
  reset(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.conn.reset((err) => (err ? reject(wrap(err, 'send')) : resolve()));
    });
  }

  /** QUIT, and wait (up to `timeoutMs`) for the connection to close: a slot is free only then. */
  quit(timeoutMs = 2_000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.conn.close();
        resolve();
      }, timeoutMs);
      this.conn.once('end', done);
      this.conn.quit();
    });
  }

  close(): void {
    this.conn.close();
  }
}
