/**
 * The MX listener: receives mail for hosted domains (RFC 5321), applies the recipient policy at RCPT
 * time, and answers 250 after DATA only when every copy is durable: local deliveries fsynced and committed
 * in the mail store, other recipients spooled and committed in the outbound queue.
 *
 * Built on smtp-server, which advertises SIZE, PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, DSN,
 * STARTTLS and (under TLS) REQUIRETLS, refuses early talkers and HTTP, and closes after repeated unknown
 * commands; end of data is only <CRLF>.<CRLF> (RFC 5321 §4.1.1.4), so bare-LF `.` lines cannot smuggle a
 * second message.
 */
import { createReadStream } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import type { TLSSocket, TlsOptions } from 'node:tls';
import { countTlsHandshake, logEvent, logEventAt } from '@delegato/observability';
import {
  type AuthenticatedUser,
  authzidMatches,
  type CredentialStore,
  type LoginRateLimiter,
  passwordLogin,
} from '@delegato/sasl';
import type { Logger } from 'pino';
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerAuthentication,
  type SMTPServerDataStream,
  type SMTPServerOptions,
  type SMTPServerSession,
} from 'smtp-server';
import { type InboundAuth, mxAuthenticate } from './auth/mx-hook.js';
import { DeliveryLogBuffer } from './delivery-log-buffer.js';
import type { DsnSender } from './dsn/send.js';
import { checkMailParameters, checkRcptParameters } from './esmtp-params.js';
import { fromHeaderGuard } from './from-guard.js';
import { TooLargeError } from './fsync.js';
import { hopLimit } from './hop-limit.js';
import type { ListHooks, ListTarget } from './lists/service.js';
import { newMessageId } from './message-id.js';
import { type Cidr, inNetworks, parseNetworks } from './networks.js';
import { type Destination, resolveRecipient } from './policy.js';
import type { DeliveryStore, RecipientDirectory } from './ports.js';
import { headerMessageId, type OutboundQueue, type QueuedRecipient } from './queue/outbound-queue.js';
import { replyError, SmtpReplyError } from './replies.js';
import { smtpServerLogger } from './smtp-logger.js';
import {
  adaptSmtpServer,
  GREET_AT_ONCE,
  MAX_RECIPIENT_COMMANDS,
  rawParameters,
  STOP_READING_AFTER_CLOSE,
} from './smtp-server-patch.js';
import { traceHeaders } from './trace.js';
import { observe, reportAccepted, type TrafficObserver } from './traffic.js';

export interface MxLimits {
  /** SIZE (RFC 1870): largest message accepted, bytes. */
  maxMessageBytes: number;
  /** Recipients per transaction (RFC 5321 §4.5.3.1.8: at least 100). */
  maxRecipients: number;
  /** Refused RCPTs after which the session is closed (dictionary attacks, floods). */
  maxRefusedRecipients: number;
  /**
   * RCPT commands per transaction, accepted, refused and repeated alike, after which the session is closed
   * (421 4.5.3). Default: `maxRecipients + RCPT_OVERSHOOT`.
   */
  maxRecipientCommands: number;
  /** Idle time before the connection is closed, ms. */
  idleTimeoutMs: number;
  /** Whole-session cap, ms: slowloris clients that trickle bytes are cut off. */
  sessionTimeoutMs: number;
  /** Wait before the greeting; clients that talk first are refused (RFC 5321 §4.3.1, "pregreet"). */
  greetingDelayMs: number;
  /** Longest command line, bytes (RFC 5321 §4.5.3.1.4 asks for 512; we allow AUTH-sized lines). */
  maxCommandLength: number;
  /** Concurrent connections. */
  maxClients: number;
}

/**
 * RCPT commands allowed beyond `maxRecipients` in one transaction before the session is closed: Postfix's
 * smtpd_recipient_overshoot_limit (1000). Repeated and refused RCPTs count too.
 */
export const RCPT_OVERSHOOT = 1000;

export const DEFAULT_MX_LIMITS: MxLimits = {
  maxMessageBytes: 50 * 1024 * 1024,
  maxRecipients: 100,
  maxRefusedRecipients: 20,
  maxRecipientCommands: 100 + RCPT_OVERSHOOT,
  idleTimeoutMs: 60_000,
  sessionTimeoutMs: 10 * 60_000,
  greetingDelayMs: 0,
  maxCommandLength: 4096,
  maxClients: 500,
};

/**
 * Submission mode (RFC 6409): AUTH offered and accepted only under TLS (PLAIN, LOGIN, CRAM-MD5 through the
 * shared credential store), failed logins rate limited, and an authenticated user may only use their own
 * addresses as envelope sender and in From.
 */
export interface SubmissionAuth {
  credentials: Pick<CredentialStore, 'verifyPassword' | 'cramSecret'>;
  cramMd5: boolean;
  rateLimiter: LoginRateLimiter;
  /** The addresses a mailbox may send as (official, legacy, unambiguous generated aliases). */
  sendersOf(userId: string): Promise<string[]>;
}

export interface MxServerOptions {
  hostname: string;
  /** Submission listener instead of MX: AUTH under TLS, sender ownership (RFC 6409). */
  submission?: SubmissionAuth;
  /** Implicit TLS from the first byte (submissions, RFC 8314). */
  implicitTls?: boolean;
  region: string;
  /** Default certificate, and optionally one per SNI server name (RFC 6066 §3) for STARTTLS and implicit TLS. */
  tls: { key: string; cert: string; SNICallback?: TlsOptions['SNICallback'] };
  /** CIDRs whose clients may relay without AUTH (DELEGATO_INTERNAL_NETWORKS). */
  internalNetworks: readonly string[];
  limits?: Partial<MxLimits>;
  directory: RecipientDirectory;
  store: DeliveryStore;
  queue: OutboundQueue;
  logger: Logger;
  now?: () => Date;
  /** Sends success DSNs for local deliveries with NOTIFY=SUCCESS (RFC 3461 §4.1: action `delivered`). */
  dsn?: DsnSender;
  /**
   * Where `RCPT TO:<Postmaster>` without a domain goes (RFC 5321 §4.5.1). Default: `postmaster@` of the
   * hosted domain that `hostname` is or is under (mx1.iat.example: mx1.iat.example, then iat.example).
   */
  postmaster?: string;
  /** Built-in lists (lists/service.ts): sender rules at RCPT, holding and expansion at DATA. */
  lists?: ListHooks;
  /** A listener with rules of its own on this pipeline: the federation listener (federation-inbound.ts). */
  channel?: InboundChannel;
  /** Message authentication of mail from outside (auth/mx-hook.ts): checked before it is stored. */
  auth?: InboundAuth;
  /** Per-domain traffic counting (the appliance's statistics; traffic.ts). */
  traffic?: TrafficObserver;
}

/** Who the client of a channel is, verified at the TLS handshake; named in `Received:`. */
export interface ChannelPeer {
  /** The `from` name in `Received:` (never the EHLO argument). */
  name: string;
  /** The comment after it, before the client address: how the identity was established. */
  comment: string;
}

/**
 * Rules a channel adds to the MX pipeline (policy, durability, trace and DSNs stay the same): a client
 * certificate asked for and verified at the handshake, the client identified from it, recipients checked
 * before the recipient policy. A channel never relays on its own behalf (no AUTH, no internal networks).
 */
export interface InboundChannel {
  /** TLS server options added to the listener's: the CA the client certificate must chain to. */
  tls: { ca: string; requestCert: true; rejectUnauthorized: true; minVersion?: 'TLSv1.2' | 'TLSv1.3' };
  /** Under TLS, before the greeting: who the client is, or an Error that refuses the connection. */
  identify(socket: TLSSocket): ChannelPeer | Error;
  /** At RCPT, before the recipient policy: throws an SmtpReplyError to refuse the recipient. */
  checkRecipient(address: string, peer: ChannelPeer): Promise<void>;
  /** Errors of the listener (failed TLS handshakes among them), instead of the `smtp.error` line. */
  onError?(err: Error & { meta?: { remoteAddress?: string } }): void;
}

interface Transaction {
  destinations: Array<{ rcpt: string; dest: Destination; notify?: string[]; orcpt?: string }>;
  /** `recipientKey` of every accepted RCPT: a repeated one is answered 250 and not recorded again. */
  rcpts: Set<string>;
  /** `destinationKey` of every destination: two RCPTs resolving to one mailbox or address give one copy. */
  destinationKeys: Set<string>;
  refused: number;
  /** The authenticated user's own addresses, read once at MAIL FROM (null: not authenticated). */
  owned?: Set<string> | null;
  lists?: ListTarget[]; // a built-in list of this region (lists/): the transaction's only recipient
}

/**
 * The key under which a RCPT address counts once per transaction: the whole address lower-cased. Domains
 * are case-insensitive (RFC 5321 §2.4); local parts may be case-sensitive at the receiving host, but hosted
 * mailboxes are not (the directory folds case), smtp-server's own recipient list (which its
 * `maxRecipients` counts) folds the whole address too, and no real remote mailbox differs from another in
 * case alone. Folding the same way keeps both lists, and the limit, equal.
 */
export function recipientKey(address: string): string {
  return address.toLowerCase();
}

/** One copy per mailbox (local) or per lower-cased address (queued), however many RCPTs lead there. */
function destinationKey(dest: Destination): string {
  return dest.kind === 'local' ? `local:${dest.mailboxId}` : `${dest.kind}:${recipientKey(dest.address)}`;
}

/** What smtp-server keeps as `session.user` after our onAuth. */
type SessionUser = AuthenticatedUser;

export interface RunningMx {
  address: AddressInfo;
  close(): Promise<void>;
}

/** The answer smtp-server sends for an error, as an Error it understands. */
function asSmtpError(err: unknown): Error & { responseCode?: number } {
  if (err instanceof SmtpReplyError) return err;
  return replyError('localError');
}

export class MxServer {
  readonly limits: MxLimits;
  readonly #networks: Cidr[];
  readonly #server: SMTPServer;
  readonly #tx = new WeakMap<SMTPServerSession, Transaction>();
  readonly #now: () => Date;
  readonly #sockets = new Set<Socket>();
  readonly #log: DeliveryLogBuffer;
  readonly #peers = new WeakMap<SMTPServerSession, ChannelPeer>();

  constructor(private readonly opts: MxServerOptions) {
    adaptSmtpServer();
    const maxRecipients = opts.limits?.maxRecipients ?? DEFAULT_MX_LIMITS.maxRecipients;
    this.limits = {
      ...DEFAULT_MX_LIMITS,
      maxRecipientCommands: maxRecipients + RCPT_OVERSHOOT,
      ...opts.limits,
    };
    this.#networks = parseNetworks(opts.internalNetworks);
    this.#now = opts.now ?? (() => new Date());
    this.#log = new DeliveryLogBuffer(opts.queue, (err) =>
      logEventAt(opts.logger, 'warn', 'smtp.error', { err: err.message }, 'delivery log write failed'),
    );
    const options: SMTPServerOptions = {
      name: opts.hostname,
      banner: 'Delegato ESMTP',
      key: opts.tls.key,
      cert: opts.tls.cert,
      ...(opts.tls.SNICallback ? { SNICallback: opts.tls.SNICallback } : {}),
      ...(opts.channel ? opts.channel.tls : {}),
      size: this.limits.maxMessageBytes,
      maxClients: this.limits.maxClients,
      maxRecipients: this.limits.maxRecipients,
      socketTimeout: this.limits.idleTimeoutMs,
      closeTimeout: 5_000,
      // AUTH is optional even on submission: internal clients, and anyone writing to hosted domains, may
      // send without it (the anti-relay rules of docs/background.md); relaying elsewhere needs it (policy.ts).
      authOptional: true,
      secure: Boolean(opts.implicitTls),
      allowInsecureAuth: false,
      authMethods: opts.submission
        ? ['PLAIN', 'LOGIN', ...(opts.submission.cramMd5 ? ['CRAM-MD5'] : [])]
        : [],
      // smtp-server hides these two unless asked (RFC 2034, RFC 3461).
      hideENHANCEDSTATUSCODES: false,
      hideDSN: false,
      // RFC 8689: offered under TLS; the flag is kept with queued messages for the next hop.
      hideREQUIRETLS: false,
      // MX: no AUTH at all. No reverse DNS anywhere (no traffic off the box).
      disabledCommands: opts.submission ? [] : ['AUTH'],
      disableReverseLookup: true,
      logger: smtpServerLogger(opts.logger.child({ proto: 'smtp' })),
      onConnect: (session, cb) => this.#onConnect(session, cb),
      onSecure: (socket, session, cb) => {
        // smtp-server wraps its sockets itself: its handshakes are counted here (metrics).
        countTlsHandshake(socket.localPort);
        if (opts.channel) {
          const peer = opts.channel.identify(socket as TLSSocket);
          if (peer instanceof Error) return cb(peer);
          this.#peers.set(session, peer);
        }
        // Under TLS, AUTH becomes available (it was hidden from EHLO and refused before).
        if (opts.submission) (session as { disabledCommands?: string[] }).disabledCommands = [];
        cb();
      },
      onAuth: (auth, session, cb) => {
        this.#onAuth(auth, session).then(
          (user) => cb(null, user ? { user } : { user: undefined }),
          (err) => cb(asSmtpError(err)),
        );
      },
      onMailFrom: (address, session, cb) => this.#onMailFrom(address, session, cb),
      onRcptTo: (address, session, cb) => {
        this.#onRcptTo(address, session).then(
          () => cb(),
          (err) => cb(asSmtpError(err)),
        );
      },
      onData: (stream, session, cb) => {
        this.#onData(stream, session).then(
          (message) => cb(null, message),
          (err) => cb(asSmtpError(err)),
        );
      },
    };
    (options as Record<string, unknown>).maxCommandLength = this.limits.maxCommandLength;
    (options as Record<symbol, unknown>)[MAX_RECIPIENT_COMMANDS] = this.limits.maxRecipientCommands;
    // After a 421 or QUIT nothing more is read from a client that keeps sending.
    (options as Record<symbol, unknown>)[STOP_READING_AFTER_CLOSE] = true;
    // No fixed 100 ms pause before the greeting: greetingDelayMs (onConnect) is the pregreet check.
    (options as Record<symbol, unknown>)[GREET_AT_ONCE] = true;
    this.#server = new SMTPServer(options);
    this.#server.on('error', (err) =>
      opts.channel?.onError
        ? opts.channel.onError(err)
        : logEventAt(opts.logger, 'warn', 'smtp.error', { err: err.message }, 'smtp error'),
    );
    // Slowloris: an idle timeout alone lets a client trickle one byte a minute for ever.
    this.#server.server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      const cap = setTimeout(() => socket.destroy(), this.limits.sessionTimeoutMs);
      cap.unref();
      socket.once('close', () => {
        clearTimeout(cap);
        this.#sockets.delete(socket);
      });
    });
  }

  /**
   * RFC 4954 §4: 535 5.7.8 for bad credentials; 454 4.7.0 while rate limited. The sequence (rate-limit,
   * verify, record, log) is the one IMAP and POP3 use (`passwordLogin` of @delegato/sasl); smtp-server ran
   * the exchange, so the credentials are checked here. Secrets are never logged.
   */
  async #onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession): Promise<SessionUser | null> {
    const sub = this.opts.submission;
    if (!sub) throw replyError('authNotAvailable');
    const login = String(auth.username ?? '');
    const client = session.remoteAddress;
    const outcome = await passwordLogin({
      mechanism: auth.method,
      login,
      rateLimiter: sub.rateLimiter,
      address: client,
      onFailure: (f) =>
        logEventAt(
          this.opts.logger,
          'warn',
          'smtp.auth_failed',
          { user: f.login, client, method: f.mechanism, ...(f.reason ? { reason: f.reason } : {}) },
          f.reason === 'rate-limited' ? 'login refused' : 'login failed',
        ),
      check: async () => {
        let user: AuthenticatedUser | null = null;
        if (auth.method === 'CRAM-MD5') {
          const found = sub.cramMd5 ? await sub.credentials.cramSecret(login) : null;
          if (found && auth.validatePassword(found.secret)) user = found.user;
        } else {
          user = await sub.credentials.verifyPassword(login, String(auth.password ?? ''));
        }
        // RFC 4616 §2: PLAIN's authorization identity, when not empty, must be the caller itself
        // (smtp-server hands it over but does not check it); acting as someone else fails like a wrong
        // password (535 5.7.8), as in IMAP and POP3. smtp-server takes the authzid as the login when the
        // authcid is empty; then both are the same.
        const authzid = auth.method === 'PLAIN' ? String((auth as { authzid?: unknown }).authzid ?? '') : '';
        if (user !== null && authzid !== '' && !authzidMatches(authzid, login, user.address))
          return { user: null, reason: 'authzid' };
        return { user };
      },
    });
    if (outcome.kind === 'rate-limited') throw replyError('authRateLimited');
    if (outcome.kind !== 'success') throw replyError('authFailed');
    logEvent(
      this.opts.logger,
      'smtp.auth',
      { user: outcome.user.address, client, method: auth.method },
      'logged in',
    );
    return outcome.user;
  }

  /** The addresses the authenticated user may send as; null when not authenticated. */
  async #ownedSenders(session: SMTPServerSession): Promise<Set<string> | null> {
    const user = session.user as SessionUser | undefined;
    if (!user || !this.opts.submission) return null;
    return new Set((await this.opts.submission.sendersOf(user.id)).map((a) => a.toLowerCase()));
  }

  #onConnect(session: SMTPServerSession, cb: (err?: Error) => void): void {
    // Submission: AUTH is neither offered nor accepted before TLS (RFC 4954 §4, RFC 8314).
    if (this.opts.submission && !session.secure)
      (session as { disabledCommands?: string[] }).disabledCommands = ['AUTH'];
    // smtp-server answers "421 You talk too soon" to anything received before the greeting.
    if (this.limits.greetingDelayMs > 0) setTimeout(() => cb(), this.limits.greetingDelayMs);
    else cb();
  }

  #onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error) => void): void {
    // RFC 6409 §4.3: the MSA takes mail only from authenticated clients, or from the internal networks
    // (scanners, applications). The MX listener keeps its role: it takes mail for hosted domains from anyone.
    if (this.opts.submission && !session.user && !inNetworks(session.remoteAddress, this.#networks)) {
      cb(replyError('authRequired'));
      return;
    }
    const sender = address.address;
    // RFC 4954 §5: AUTH= belongs to the AUTH extension, offered on submission under TLS only.
    const badParameter = checkMailParameters(rawParameters(address), {
      authOffered: Boolean(this.opts.submission && session.secure),
    });
    if (badParameter) {
      cb(badParameter);
      return;
    }
    // RFC 5321 §4.1.2: the null reverse-path is allowed; otherwise a mailbox with exactly one @.
    // U+FFFD: bytes that are not UTF-8 (smtp-server decodes commands as UTF-8), never an address.
    if (sender !== '' && (!/^[^@\s]+@[^@\s]+$/.test(sender) || /[\p{Cc}\uFFFD]/u.test(sender))) {
      cb(replyError('badSenderSyntax'));
      return;
    }
    // Refusals count per connection, not per transaction: a new MAIL FROM does not reset a flood.
    const tx = this.#newTransaction(this.#tx.get(session)?.refused ?? 0);
    this.#tx.set(session, tx);
    this.#ownedSenders(session).then(
      (owned) => {
        tx.owned = owned;
        // An authenticated user sends as themselves only (the null sender stays allowed: MDNs, RFC 8098).
        if (owned && sender !== '' && !owned.has(sender.toLowerCase()))
          cb(replyError('senderNotOwned', sender));
        else cb();
      },
      (err) => cb(asSmtpError(err)),
    );
  }

  #newTransaction(refused: number): Transaction {
    return { destinations: [], rcpts: new Set(), destinationKeys: new Set(), refused };
  }

  async #onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const badParameter = checkRcptParameters(rawParameters(address));
    if (badParameter) throw badParameter;
    const tx = this.#tx.get(session) ?? this.#newTransaction(0);
    this.#tx.set(session, tx);
    const domainless = address.address.toLowerCase() === 'postmaster';
    const rcpt = domainless ? await this.#postmaster() : address.address;
    // A repeated RCPT is accepted again (RFC 5321 §3.3 does not forbid it) but adds no recipient: it is not
    // resolved, not counted towards maxRecipients (smtp-server folds it into its list the same way) and
    // gets no second copy.
    const key = recipientKey(rcpt);
    if (tx.rcpts.has(key)) return;
    const from = session.envelope.mailFrom;
    const declared = Number(
      (from && (from.args as Record<string, unknown> | false | undefined)
        ? (from.args as Record<string, unknown>).SIZE
        : 0) ?? 0,
    );
    const peer = this.#peers.get(session);
    try {
      if (this.opts.channel) {
        if (!peer) throw replyError('relayDenied');
        await this.opts.channel.checkRecipient(rcpt, peer);
      }
      if (await this.opts.lists?.atRcpt(rcpt, from ? from.address : '', tx, key)) return;
      const dests = await resolveRecipient(rcpt, {
        region: this.opts.region,
        // A configured postmaster outside our domains is the operator's choice, like an alias target.
        relayAllowed:
          !this.opts.channel &&
          (Boolean(session.user) ||
            inNetworks(session.remoteAddress, this.#networks) ||
            (domainless && this.opts.postmaster !== undefined)),
        directory: this.opts.directory,
        quota: async (id) => {
          await this.opts.store.ensureUser(id);
          return this.opts.store.quota(id);
        },
        declaredSize: Number.isFinite(declared) ? declared : 0,
      });
      const args = (address.args ?? {}) as Record<string, string | boolean>;
      const notify = typeof args.NOTIFY === 'string' ? args.NOTIFY.toUpperCase().split(',') : undefined;
      const orcpt = typeof args.ORCPT === 'string' ? args.ORCPT : undefined;
      tx.rcpts.add(key);
      for (const dest of dests) {
        const dk = destinationKey(dest);
        if (tx.destinationKeys.has(dk)) continue;
        tx.destinationKeys.add(dk);
        tx.destinations.push({ rcpt, dest, ...(notify ? { notify } : {}), ...(orcpt ? { orcpt } : {}) });
      }
    } catch (err) {
      tx.refused++;
      if (this.opts.traffic) observe(() => this.opts.traffic?.refused(rcpt));
      // An SmtpReplyError: any other error would be answered 451 (asSmtpError) and the session kept open.
      if (tx.refused >= this.limits.maxRefusedRecipients) throw replyError('tooManyRefused');
      throw err;
    }
  }

  /**
   * RFC 5321 §4.5.1: `Postmaster` without a domain must be accepted; it is the configured address, else
   * `postmaster@` of the first hosted domain among `hostname` and its parents, so the directory's handling
   * of postmaster@ (a role mailbox, or pointed elsewhere) applies. None hosted: the unknown-user refusal.
   */
  async #postmaster(): Promise<string> {
    if (this.opts.postmaster !== undefined) return this.opts.postmaster;
    const labels = this.opts.hostname.toLowerCase().split('.');
    for (let i = 0; i < labels.length - 1; i++) {
      const candidate = `postmaster@${labels.slice(i).join('.')}`;
      const found = await this.opts.directory.lookupRecipient(candidate);
      if (found.kind !== 'not-hosted' && found.kind !== 'invalid') return candidate;
    }
    logEventAt(
      this.opts.logger,
      'warn',
      'smtp.error',
      { hostname: this.opts.hostname },
      'RCPT TO:<Postmaster> refused: no hosted domain for the host name; set smtp.postmaster',
    );
    throw replyError('unknownUser');
  }

  async #onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const tx = this.#tx.get(session);
    const id = newMessageId();
    const drain = () =>
      new Promise<void>((resolve) => {
        if (stream.readableEnded || stream.destroyed) return resolve();
        stream.on('end', resolve);
        // A stream destroyed because the client went away never ends.
        stream.on('close', resolve);
        stream.resume();
      });
    if (!tx || (tx.destinations.length === 0 && !tx.lists)) {
      await drain();
      throw replyError('unknownUser');
    }
    const mailFrom = session.envelope.mailFrom as SMTPServerAddress | false;
    const sender = mailFrom ? mailFrom.address : '';
    const rcpts = [...new Set(tx.destinations.map((d) => d.rcpt))];
    const cipher = session.secure
      ? (session as unknown as { tlsOptions?: { name?: string; version?: string } }).tlsOptions
      : undefined;
    // A channel's client is named by its verified identity, never by its EHLO.
    const peer = this.#peers.get(session);
    const header = traceHeaders({
      sender,
      helo: peer ? peer.name : (session.hostNameAppearsAs ?? ''),
      ...(peer ? { clientHostname: peer.comment } : {}),
      clientAddress: session.remoteAddress,
      by: this.opts.hostname,
      id,
      ...(session.secure ? { tls: { version: cipher?.version, cipher: cipher?.name } } : {}),
      ...(session.user ? { user: (session.user as SessionUser).address } : {}),
      ...(rcpts.length === 1 ? { for: rcpts[0] } : {}),
      date: this.#now(),
    });
    const owned = tx.owned !== undefined ? tx.owned : await this.#ownedSenders(session);
    let violation: Error | undefined;
    let head = '';
    const checked = await mxAuthenticate(this.opts, session, stream, this.#networks, this.limits);
    const withTrace = (): Readable => {
      const src = checked.source();
      const out = new PassThrough();
      // Whoever consumes `out` sees its failure; this listener only keeps pipe() from re-throwing it
      // while the consumer is still being set up.
      out.on('error', () => undefined);
      out.write(checked.headers + header);
      // The Message-ID, for `delegato trace` (only the header block is looked at).
      const sniff = (chunk: Buffer) => {
        head += chunk.toString('latin1');
        if (head.length > 65536 || /\r?\n\r?\n/.test(head)) src.off('data', sniff);
      };
      src.on('data', sniff);
      // Too many Received fields (a loop, RFC 5321 §6.3) and a refused From fail the delivery they feed
      // (remembered: the store may wrap the error).
      const refuse = (err: Error) => {
        violation = err;
        out.destroy(err);
      };
      const counted = src.pipe(hopLimit(refuse));
      if (owned) counted.pipe(fromHeaderGuard(owned, refuse)).pipe(out);
      else counted.pipe(out);
      // smtp-server destroys the stream without 'end' (nor 'error', which it emits only to a listener) when
      // the client goes away mid-message: fail the delivery, or it would wait for the rest for ever (its
      // temp file kept, the store's close() and the appliance's shutdown blocked).
      const abort = () => {
        if (!src.readableEnded)
          out.destroy(Object.assign(new Error('client gone mid-message'), { code: 'client-gone' }));
      };
      if (src.destroyed) abort();
      else src.once('close', abort);
      return out;
    };
    const maxBytes = this.limits.maxMessageBytes + Buffer.byteLength(header);
    const onList = { sender, maxBytes, drain, violation: () => violation };
    if (tx.lists && this.opts.lists) return this.opts.lists.atData(tx.lists, withTrace(), onList);

    const local = [
      ...new Set(
        tx.destinations
          .filter((d) => d.dest.kind === 'local')
          .map((d) => (d.dest as { mailboxId: string }).mailboxId),
      ),
    ];
    const queued: QueuedRecipient[] = [];
    for (const d of tx.destinations) {
      if (d.dest.kind !== 'queue') continue;
      queued.push({
        address: d.dest.address,
        route: d.dest.route,
        ...(d.dest.region ? { region: d.dest.region } : {}),
        ...(d.orcpt ? { orcpt: d.orcpt } : d.dest.address !== d.rcpt ? { orcpt: `rfc822;${d.rcpt}` } : {}),
        ...(d.notify ? { notify: d.notify } : {}),
      });
    }

    let original: (() => Readable) | undefined;
    try {
      if (queued.length === 0) {
        for (const user of local) await this.opts.store.ensureUser(user);
        const result = await checked.store.deliver({
          users: local,
          source: withTrace(),
          internalDate: this.#now(),
          maxBytes,
        });
        const first = local[0] as string;
        const uid = result.uids.get(first) ?? 0;
        original = () => {
          const out = new PassThrough();
          // The DSN builder destroys `out` once it has what it needs (RET=HDRS: the header block); the
          // store's stream goes with it, or its file handle would stay open until garbage collection.
          checked.store.openMessage(first, 'INBOX', uid).then(
            (s) => {
              if (out.destroyed) s.destroy();
              else {
                out.once('close', () => s.destroy());
                s.pipe(out);
              }
            },
            (err) => out.destroy(err),
          );
          return out;
        };
      } else {
        const spooled = await this.opts.queue.spool(withTrace(), maxBytes);
        try {
          if (local.length > 0) {
            for (const user of local) await this.opts.store.ensureUser(user);
            await checked.store.deliver({
              users: local,
              source: createReadStream(this.opts.queue.spoolPath(spooled.file)),
              internalDate: this.#now(),
            });
          }
          original = () => createReadStream(this.opts.queue.spoolPath(spooled.file));
          const args = ((mailFrom ? mailFrom.args : undefined) ?? {}) as Record<string, string | boolean>;
          await this.opts.queue.enqueue({
            ...spooled,
            sender,
            envid: typeof args.ENVID === 'string' ? args.ENVID : null,
            ret: args.RET === 'HDRS' || args.RET === 'FULL' ? args.RET : null,
            requireTls: args.REQUIRETLS === true,
            recipients: queued,
          });
        } catch (err) {
          this.opts.queue.discard(spooled.file);
          throw err;
        }
      }
    } catch (err) {
      await drain();
      if (
        err instanceof TooLargeError ||
        (err instanceof Error && (err as { code?: string }).code === 'too-large')
      ) {
        throw replyError('messageTooBig');
      }
      // The store checks the quota with the message's real size (SIZE= may be absent or wrong).
      if ((err as { code?: string }).code === 'over-quota') throw replyError('mailboxFull');
      if (violation) throw violation;
      if (err instanceof SmtpReplyError) throw err;
      if ((err as { code?: string }).code === 'client-gone') {
        logEvent(this.opts.logger, 'smtp.aborted', { id }, 'client went away mid-message');
      } else {
        logEventAt(
          this.opts.logger,
          'error',
          'smtp.delivery_failed',
          { id, err: (err as Error).message },
          'delivery failed',
        );
      }
      throw replyError('localError');
    }
    if (stream.sizeExceeded) throw replyError('messageTooBig');
    this.#successDsn(tx, sender, mailFrom, original);
    if (local.length > 0) {
      const mid = headerMessageId(head);
      const at = this.#now();
      this.#log.push(
        ...tx.destinations.flatMap((d) =>
          d.dest.kind === 'local'
            ? (['received', 'delivered'] as const).map((event) => ({
                messageId: id,
                event,
                recipient: d.dest.address,
                ...(d.rcpt !== d.dest.address ? { orcpt: d.rcpt } : {}),
                sender,
                headerMessageId: mid,
                ...(event === 'delivered'
                  ? { remoteHost: 'local', reply: '250 2.0.0 delivered to INBOX' }
                  : {}),
                at,
              }))
            : [],
        ),
      );
    }
    const traffic = this.opts.traffic;
    const destinations = tx.destinations;
    if (traffic)
      reportAccepted(traffic, { sender, authenticated: Boolean(session.user), stream, destinations });
    logEvent(
      this.opts.logger,
      'smtp.received',
      {
        id,
        local: local.length,
        queued: queued.length,
        sender: sender || '<>',
        ...(peer ? { peer: peer.name } : {}),
      },
      'message accepted',
    );
    return `2.6.0 Message accepted as ${id}`;
  }

  /** RFC 3461 §4.1: NOTIFY=SUCCESS on a local delivery gets a DSN with action `delivered`. Best effort. */
  #successDsn(
    tx: Transaction,
    sender: string,
    mailFrom: SMTPServerAddress | false,
    original: (() => Readable) | undefined,
  ): void {
    const wanted = tx.destinations.filter((d) => d.dest.kind === 'local' && d.notify?.includes('SUCCESS'));
    if (!this.opts.dsn || !original || sender === '' || wanted.length === 0) return;
    const args = ((mailFrom ? mailFrom.args : undefined) ?? {}) as Record<string, string | boolean>;
    this.opts
      .dsn({
        sender,
        envid: typeof args.ENVID === 'string' ? args.ENVID : null,
        ret: args.RET === 'HDRS' || args.RET === 'FULL' ? args.RET : null,
        arrivalDate: this.#now(),
        original,
        recipients: wanted.map((d) => ({
          address: (d.dest as { address: string }).address,
          orcpt: d.orcpt ?? (d.rcpt !== (d.dest as { address: string }).address ? `rfc822;${d.rcpt}` : null),
          notify: d.notify ?? null,
          action: 'delivered' as const,
          reply: { code: 250, enhanced: '2.0.0', text: '250 2.0.0 delivered to mailbox' },
        })),
      })
      .catch((err: Error) =>
        logEventAt(this.opts.logger, 'error', 'smtp.dsn_failed', { err: err.message }, 'DSN failed'),
      );
  }

  listen(port: number, host: string): Promise<RunningMx> {
    return new Promise((resolve, reject) => {
      this.#server.server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.server.off('error', reject);
        resolve({ address: this.#server.server.address() as AddressInfo, close: () => this.close() });
      });
    });
  }

  /** Stops accepting, lets in-flight transactions finish (up to closeTimeout), then closes. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await this.#log.flush();
  }
}
