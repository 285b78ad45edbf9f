/** The app's options, the dependencies every route gets, and the Hono environment type. */
import type { Directory } from '@delegato/directory';
import type { Context } from 'hono';
import { TokenStore } from './api/tokens.js';
import type { DnsRecordSource } from './dns/source.js';
import type { GatewayUsageSource } from './gateway/schemas.js';
import type { Lang } from './i18n/languages.js';
import type { ListPosts } from './list-posts.js';
import type { OperationsSource } from './operations/source.js';
import { type LoginLimiter, SimpleLoginLimiter } from './rate-limit.js';
import { type Session, SessionStore } from './session.js';
import { AdminStateDb } from './state.js';
import { DirectoryTotpStore, TotpReplayGuard, type TotpStore } from './totp.js';

export interface ServerNames {
  imap: string;
  pop: string;
  smtp: string;
}

export interface MailPorts {
  imap: number;
  imaps: number;
  pop3: number;
  pop3s: number;
  submission: number;
  submissions: number;
}

/** The standard ports: what users type when the appliance listens on them (production). */
export const STANDARD_PORTS: MailPorts = {
  imap: 143,
  imaps: 993,
  pop3: 110,
  pop3s: 995,
  submission: 587,
  submissions: 465,
};

/**
 * What the admin UI logs through: the part of a pino Logger it uses (the appliance passes its own). Every
 * line carries an `event` from the closed list (docs/log-events.md): `admin.signin`, `admin.signin_failed`,
 * `admin.lockout`, `admin.signout`, `admin.action`, `admin.error`. Never a password, code or token.
 */
export interface AdminLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const SILENT: AdminLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface AdminOptions {
  directory: Directory;
  /** This appliance's region id. */
  region: string;
  /** The names users put in their mail client; default `imap.<domain>`, `pop.<domain>`, `smtp.<domain>`. */
  hostnames?: ServerNames | ((domain: string) => ServerNames);
  /** The ports users connect to (the config's `port.*`); default the standard ones. */
  ports?: Partial<MailPorts>;
  now?: () => Date;
  /** Disk usage of a domain in the attachment gateway's store (the appliance's; absent: not shown). */
  gatewayUsage?: GatewayUsageSource;
  /** A domain's DNS records and their look-up (the appliance's; absent: no DNS records page). */
  dnsRecords?: DnsRecordSource;
  /** Signs the session cookie (at least 32 bytes; the same in every region behind one name). */
  sessionSecret: Buffer;
  /** Every admin must use two-step sign-in (TOTP); those without it enrol right after signing in. */
  requireTotp?: boolean;
  /** Client addresses (IPs or CIDR ranges) allowed to reach the admin UI and API; absent = everyone. */
  allowedNetworks?: string[];
  /** The client's IP address; default the socket's remote address under `@hono/node-server`. */
  clientAddress?: (c: Context) => string;
  /** Failed sign-in counting; default a limiter of its own (pass the appliance's shared one). */
  limiter?: LoginLimiter;
  /** Where admins' TOTP secrets are kept; default the directory (sealed with the federation key). */
  totpStore?: TotpStore;
  /**
   * The libSQL file keeping signed-in sessions and API tokens across restarts (`<data dir>/admin-state.db`);
   * absent = in memory (a restart signs everybody out).
   */
  stateFile?: string;
  /**
   * The SHA-256 fingerprint (hex) of the connection's TLS client certificate when it was verified against
   * the configured CA, else null; default read from the Node TLS socket under `@hono/node-server`.
   */
  clientCertificate?: (c: Context) => string | null;
  /** Where sign-ins, actions and unexpected errors are logged; default nowhere. */
  logger?: AdminLogger;
  /** Session timeouts (tests). */
  idleTimeoutMs?: number;
  absoluteTimeoutMs?: number;
  /** The statistics and health pages (operations/source.ts); absent: no such pages. */
  operations?: OperationsSource;
  /** Held posts of built-in lists (the MTA's list moderation); absent: none shown. */
  lists?: ListPosts;
  /** Bytes a mailbox's mail takes in the mail store, by official address; absent: usage not shown. */
  mailboxUsage?: (address: string) => Promise<number | null>;
  /** The outbound queue, for the operators' queue page (routes/queue.tsx); absent: no such page. */
  outboundQueue?: QueueSource;
  /** Bytes all of a domain's active mailboxes take in the mail store; absent: not shown. */
  domainUsage?: (domain: string) => Promise<number>;
}

/** One queued message as the queue page shows it (the MTA's `StoredMessage` fits). */
export interface QueuedView {
  id: string;
  sender: string;
  size: number;
  createdAt: string;
  recipients: ReadonlyArray<{ address: string; state: string; attempts: number; lastReply: string | null }>;
}

/** What the queue page needs of the outbound queue (the MTA's `OutboundQueue` fits). */
export interface QueueSource {
  list(): Promise<QueuedView[]>;
  retry(id: string): Promise<number>;
  delete(id: string): Promise<boolean>;
}

/** What every route factory gets. */
export interface Deps {
  directory: Directory;
  region: string;
  serverNames: (domain: string) => ServerNames;
  ports: MailPorts;
  now: () => Date;
  sessions: SessionStore;
  limiter: LoginLimiter;
  totp: TotpStore;
  totpReplay: TotpReplayGuard;
  tokens: TokenStore;
  state: AdminStateDb;
  requireTotp: boolean;
  clientAddress: (c: Context) => string;
  clientCertificate: (c: Context) => string | null;
  log: AdminLogger;
  lists?: ListPosts;
  mailboxUsage?: (address: string) => Promise<number | null>;
  outboundQueue?: QueueSource;
  domainUsage?: (domain: string) => Promise<number>;
}

export type AppEnv = {
  Variables: {
    /** The session of this request (null: none yet, or expired). */
    session: Session | null;
    /** The client's IP address, as the audit log records it. */
    clientIp: string;
    /** The SHA-256 (hex) of the connection's verified TLS client certificate, or null. */
    clientCert: string | null;
    /** The language this request's pages are in (i18n/middleware.ts). */
    lang: Lang;
  };
};

/** `c.env.incoming.socket.remoteAddress`: where @hono/node-server puts the Node request. */
export function nodeRemoteAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/**
 * The verified client certificate's SHA-256 (lowercase hex) of the Node TLS socket under
 * `@hono/node-server`; null without one, or when it did not verify against the CA (`authorized`).
 */
export function nodeClientCertificate(c: Context): string | null {
  const env = c.env as
    | {
        incoming?: {
          socket?: { authorized?: boolean; getPeerCertificate?: () => { fingerprint256?: string } | null };
        };
      }
    | undefined;
  const socket = env?.incoming?.socket;
  if (!socket?.authorized || typeof socket.getPeerCertificate !== 'function') return null;
  const fp = socket.getPeerCertificate()?.fingerprint256;
  return fp ? fp.replace(/:/g, '').toLowerCase() : null;
}

export function resolveDeps(opts: AdminOptions): Deps {
  const now = opts.now ?? (() => new Date());
  const state = AdminStateDb.open(opts.stateFile);
  const hostnames = opts.hostnames;
  const serverNames =
    typeof hostnames === 'function'
      ? hostnames
      : hostnames
        ? () => hostnames
        : (domain: string) => ({ imap: `imap.${domain}`, pop: `pop.${domain}`, smtp: `smtp.${domain}` });
  return {
    directory: opts.directory,
    region: opts.region,
    serverNames,
    ports: {
      ...STANDARD_PORTS,
      ...Object.fromEntries(
        Object.entries(opts.ports ?? {}).filter(([, v]) => typeof v === 'number' && v > 0),
      ),
    },
    now,
    sessions: new SessionStore({
      secret: opts.sessionSecret,
      now,
      ...(opts.idleTimeoutMs ? { idleMs: opts.idleTimeoutMs } : {}),
      ...(opts.absoluteTimeoutMs ? { absoluteMs: opts.absoluteTimeoutMs } : {}),
      db: state,
    }),
    limiter: opts.limiter ?? new SimpleLoginLimiter({ now: () => now().getTime() }),
    totp: opts.totpStore ?? new DirectoryTotpStore(opts.directory),
    totpReplay: new TotpReplayGuard(),
    tokens: new TokenStore(now, undefined, state),
    state,
    requireTotp: opts.requireTotp ?? false,
    clientAddress: opts.clientAddress ?? nodeRemoteAddress,
    clientCertificate: opts.clientCertificate ?? nodeClientCertificate,
    log: opts.logger ?? SILENT,
    ...(opts.lists ? { lists: opts.lists } : {}),
    ...(opts.mailboxUsage ? { mailboxUsage: opts.mailboxUsage } : {}),
    ...(opts.outboundQueue ? { outboundQueue: opts.outboundQueue } : {}),
    ...(opts.domainUsage ? { domainUsage: opts.domainUsage } : {}),
  };
}
