/**
 * An SMTP sink for delivery tests (smtp-server on loopback): records every transaction (envelope, DSN
 * parameters, REQUIRETLS, whether the session was under TLS, the message bytes) and answers as the test
 * says: per sender, per recipient, after DATA, even at the greeting. DSN and STARTTLS can be advertised or
 * not; connections are counted, including how many were open at once.
 */
import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import { selfSignedCert, type TestCert } from './tls-cert.js';

export interface SinkReply {
  code: number;
  message: string;
}

export interface SinkRecipient {
  address: string;
  notify: string[] | null;
  orcpt: string | null;
}

export interface SinkTransaction {
  from: string;
  to: string[];
  recipients: SinkRecipient[];
  ret: string | null;
  envid: string | null;
  /** REQUIRETLS was given on MAIL FROM (RFC 8689). */
  requireTls: boolean;
  /** The session was under TLS when DATA arrived. */
  secure: boolean;
  helo: string;
  remoteAddress: string;
  data: Buffer;
  /** What the sink answered to the DATA. */
  reply: SinkReply;
}

export interface SmtpSinkOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Greeting name. */
  name?: string;
  /** Do not advertise DSN (RFC 3461); default false: advertised. */
  hideDSN?: boolean;
  /** Offer STARTTLS (default false). */
  starttls?: boolean;
  /** Certificate for STARTTLS; default a self-signed one for `localhost`/127.0.0.1 (see selfSignedCert). */
  tls?: TestCert;
  /** Do not advertise REQUIRETLS under TLS; default false: advertised. */
  hideREQUIRETLS?: boolean;
  /** Refuse the connection at the greeting with this reply. */
  greeting?: SinkReply;
  /** The reply to MAIL FROM; undefined: 250. */
  onMailFrom?: (address: string) => SinkReply | undefined;
  /** The reply to a RCPT TO; undefined: 250. */
  onRcpt?: (address: string) => SinkReply | undefined | Promise<SinkReply | undefined>;
  /** The reply after DATA; undefined: 250. May wait (a slow server). */
  onData?: (tx: Omit<SinkTransaction, 'reply'>) => SinkReply | undefined | Promise<SinkReply | undefined>;
}

export interface RunningSmtpSink {
  host: string;
  port: number;
  /** Every DATA transaction, whatever the answer. */
  transactions: SinkTransaction[];
  /** The transactions answered 2xx: the messages "delivered" to this sink. */
  readonly messages: SinkTransaction[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** Most connections open at the same time. */
  readonly maxConcurrent: number;
  /** Connections open now. */
  readonly open: number;
  /** Resolves when `messages.length >= n` (rejects after `timeoutMs`). */
  waitForMessages(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function smtpError(r: SinkReply): Error & { responseCode: number } {
  return Object.assign(new Error(r.message), { responseCode: r.code });
}

/** Starts a sink. Stop it with `close()`; a new one may then listen on the same host and port. */
export function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<RunningSmtpSink> {
  const host = opts.host ?? '127.0.0.1';
  const transactions: SinkTransaction[] = [];
  let connections = 0;
  let open = 0;
  let maxConcurrent = 0;
  const sockets = new Set<Socket>();
  const cert = opts.starttls ? (opts.tls ?? selfSignedCert()) : undefined;

  const server = new SMTPServer({
    name: opts.name ?? 'sink.test',
    ...(cert ? { key: cert.key, cert: cert.cert } : {}),
    hideSTARTTLS: !opts.starttls,
    disabledCommands: opts.starttls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    authOptional: true,
    hideDSN: Boolean(opts.hideDSN),
    hideENHANCEDSTATUSCODES: false,
    hideREQUIRETLS: Boolean(opts.hideREQUIRETLS),
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 200,
    onConnect(_session, cb) {
      if (opts.greeting) cb(smtpError(opts.greeting));
      else cb();
    },
    onMailFrom(address, _session, cb) {
      const r = opts.onMailFrom?.(address.address);
      if (r && r.code >= 400) cb(smtpError(r));
      else cb();
    },
    onRcptTo(address, _session, cb) {
      Promise.resolve(opts.onRcpt?.(address.address)).then(
        (r) => (r && r.code >= 400 ? cb(smtpError(r)) : cb()),
        (err: Error) => cb(err),
      );
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const tx = transaction(session, Buffer.concat(chunks));
        Promise.resolve(opts.onData?.(tx)).then(
          (r) => {
            const reply = r ?? { code: 250, message: 'OK: queued' };
            // A connection that died while the test held the reply got nothing: nothing was delivered.
            if (!sessionOpen(session)) return cb(smtpError({ code: 421, message: 'gone' }));
            transactions.push({ ...tx, reply });
            if (reply.code >= 400) cb(smtpError(reply));
            else cb(null, reply.message);
          },
          (err: Error) => cb(err),
        );
      });
    },
  });
  server.on('error', () => undefined);

  const alive = new Map<string, Socket>();
  function sessionOpen(session: SMTPServerSession): boolean {
    const s = alive.get(session.remotePort ? `${session.remoteAddress}:${session.remotePort}` : '');
    return s !== undefined && !s.destroyed;
  }

  server.server.on('connection', (socket: Socket) => {
    connections++;
    open++;
    maxConcurrent = Math.max(maxConcurrent, open);
    sockets.add(socket);
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    alive.set(key, socket);
    socket.once('close', () => {
      open--;
      sockets.delete(socket);
      alive.delete(key);
    });
  });

  function transaction(session: SMTPServerSession, data: Buffer): Omit<SinkTransaction, 'reply'> {
    const env = session.envelope;
    const from = env.mailFrom as SMTPServerAddress | false;
    const args = (from ? from.args : false) || {};
    return {
      from: from ? from.address : '',
      to: env.rcptTo.map((r) => r.address),
      recipients: env.rcptTo.map((r) => ({
        address: r.address,
        notify: r.dsn?.notify ?? null,
        orcpt: r.dsn?.orcpt ?? null,
      })),
      ret: env.dsn?.ret ?? null,
      envid: env.dsn?.envid ?? null,
      requireTls: Boolean(env.requireTLS) || args.REQUIRETLS === true,
      secure: session.secure,
      helo: session.hostNameAppearsAs,
      remoteAddress: session.remoteAddress,
      data,
    };
  }

  return new Promise((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.server.off('error', reject);
      const address = server.server.address() as AddressInfo;
      resolve({
        host,
        port: address.port,
        transactions,
        get messages() {
          return transactions.filter((t) => t.reply.code < 400);
        },
        get connections() {
          return connections;
        },
        get maxConcurrent() {
          return maxConcurrent;
        },
        get open() {
          return open;
        },
        async waitForMessages(n, timeoutMs = 10_000) {
          const until = Date.now() + timeoutMs;
          while (transactions.filter((t) => t.reply.code < 400).length < n) {
            if (Date.now() > until) throw new Error(`sink: ${n} messages expected within ${timeoutMs} ms`);
            await new Promise((r) => setTimeout(r, 20));
          }
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
