/**
 * The appliance's one typed configuration schema. Every setting has a description and a default (or is
 * optional), and `configSchema.parse({})` gives the full default configuration. The loader (`load.ts`)
 * derives environment variable names from this schema, and `docs/config-reference.md` is generated from
 * it (`npm run docs:config`).
 */
import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * A more precise type name for settings whose zod type is a plain string, shown in the reference.
 * `path` also tells the loader to make the value absolute (relative to the working directory, or to the
 * region file's directory for values written in the file).
 */
export const settingTypes = z.registry<{
  type: 'path' | 'IP address' | 'IANA time zone' | 'peer list';
}>();

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}

/** A comma-separated list of CIDRs (`10.0.0.0/8`) or addresses; empty is allowed. */
function isCidrList(value: string): boolean {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .every((item) => {
      const [ip = '', bits, ...rest] = item.split('/');
      const kind = isIP(ip);
      if (kind === 0 || rest.length > 0) return false;
      if (bits === undefined) return true;
      const n = Number(bits);
      return /^\d+$/.test(bits) && n <= (kind === 4 ? 32 : 128);
    });
}

/** A comma-separated list of `ip` or `ip:port` (`[v6]:port`); empty is allowed. */
function isServerList(value: string): boolean {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .every((item) => {
      const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(item) ?? /^([^:]+)(?::(\d+))?$/.exec(item);
      if (!m) return isIP(item) === 6;
      const p = m[2] === undefined ? 53 : Number(m[2]);
      return isIP(m[1] ?? '') !== 0 && p >= 1 && p <= 65535;
    });
}

/** The default `port.federation`, and the port of a `federation.peers` entry that names none. */
export const FEDERATION_PORT = 2466;

/** The default `port.proxy`, and the proxy port of a `federation.peers` entry that names none. */
export const PROXY_PORT = 2468;

const REGION_ID = /^[a-z0-9-]{1,32}$/;
const HOST_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i;

/** `host`, `host:port`, `[v6]` or `[v6]:port`; null when malformed. */
function parseEndpoint(text: string): { host: string; port?: number } | null {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(text);
  if (!m) return isIP(text) === 6 ? { host: text } : null;
  return { host: m[1] ?? '', ...(m[2] === undefined ? {} : { port: Number(m[2]) }) };
}

/**
 * `federation.peers` in any of its written forms, as the list the schema checks: the environment's
 * `central=127.0.2.1:2466,south=[::1]`, a YAML list of `{region, host, port}`, or a YAML map
 * `region: host[:port]` / `region: {host, port}`.
 */
function peersInput(value: unknown, context: z.core.$RefinementCtx<unknown>): unknown {
  const endpoint = (region: string, text: string) => {
    const parsed = parseEndpoint(text.trim());
    if (parsed) return { region, ...parsed };
    context.addIssue({
      code: 'custom',
      message: `Expected host or host:port for region ${region}, got "${text}"`,
    });
    return z.NEVER;
  };
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0)
      .map((item) => {
        const eq = item.indexOf('=');
        if (eq > 0) return endpoint(item.slice(0, eq).trim(), item.slice(eq + 1));
        context.addIssue({
          code: 'custom',
          message: `Expected region=host:port pairs such as central=127.0.2.1:2466, got "${item}"`,
        });
        return z.NEVER;
      });
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).map(([region, target]) =>
      typeof target === 'string'
        ? endpoint(region, target)
        : { region, ...(target !== null && typeof target === 'object' ? target : { host: target }) },
    );
  }
  return value;
}

const federationPeer = z
  .object({
    region: z.string().regex(REGION_ID, 'Expected a region id: 1 to 32 characters among a-z, 0-9 and -'),
    host: z
      .string()
      .refine((host) => isIP(host) !== 0 || HOST_NAME.test(host), 'Expected a host name or an IP address'),
    port: z.int().min(1).max(65535).default(FEDERATION_PORT),
    proxyPort: z.int().min(1).max(65535).optional(),
    syncPort: z.int().min(1).max(65535).optional(),
  })
  .strict();

const port = (fallback: number, what: string) =>
  z
    .int()
    .min(0)
    .max(65535)
    .default(fallback)
    .describe(`TCP port for ${what}; 0 lets the system choose a free port.`);

const path = (description: string) =>
  z.string().min(1).optional().describe(description).register(settingTypes, { type: 'path' });

export const configSchema = z
  .object({
    region: z
      .object({
        id: z
          .string()
          .regex(/^[a-z0-9-]{1,32}$/, 'Expected 1 to 32 characters among a-z, 0-9 and -')
          .default('local')
          .describe('Region identifier, unique among replicated regions (lowercase letters, digits, -).'),
        name: z.string().min(1).default('Local region').describe('Human-readable region name.'),
      })
      .strict()
      .prefault({})
      .describe('Identity of this region.'),
    listen: z
      .string()
      .refine((value) => isIP(value) !== 0, 'Expected an IPv4 or IPv6 address')
      .default('127.0.0.1')
      .describe('IP address all listeners bind to (0.0.0.0 or :: for every interface).')
      .register(settingTypes, { type: 'IP address' }),
    data: z
      .object({
        dir: z
          .string()
          .min(1)
          .default('./var')
          .describe('Data directory holding the directory database, generated TLS material and other state.')
          .register(settingTypes, { type: 'path' }),
      })
      .strict()
      .prefault({})
      .describe('Where the appliance keeps its state.'),
    port: z
      .object({
        smtp: port(2525, 'SMTP from other mail servers (25 in production)'),
        submission: port(2587, 'message submission with STARTTLS (587 in production)'),
        submissions: port(2465, 'message submission over implicit TLS (465 in production)'),
        imap: port(2143, 'IMAP with STARTTLS (143 in production)'),
        imaps: port(2993, 'IMAP over implicit TLS (993 in production)'),
        pop3: port(2110, 'POP3 with STLS (110 in production)'),
        pop3s: port(2995, 'POP3 over implicit TLS (995 in production)'),
        admin: port(8443, 'the administration API and console (HTTPS)'),
        web: port(
          8444,
          "the public web listener: mail client autoconfiguration and the users' home page (HTTPS)",
        ),
        federation: port(
          FEDERATION_PORT,
          'mail between regions: SMTP over implicit TLS with federation client certificates (decision 0008), opened only where this region has its federation certificate',
        ),
        proxy: port(
          PROXY_PORT,
          'the IMAP/POP3 proxy channel between regions: a login in another region for a mailbox homed here continues here, over implicit TLS with federation client certificates (decision 0010); opened only where this region has its federation certificate',
        ),
        http: port(
          2080,
          'the plain-HTTP listener (80 in production): ACME HTTP-01 challenges (RFC 8555 §8.3) and redirects to HTTPS, nothing else; opened only where acme.directoryUrl is set',
        ),
        sync: port(
          2467,
          'the federation API (HTTPS with federation client certificates: directory changes at the writer, delivery traces; decision 0011), opened in every region with a federation certificate; in the hub region also the directory sync gateway',
        ),
      })
      .strict()
      .prefault({})
      .describe('Listener ports.'),
    tls: z
      .object({
        certFile: path(
          'PEM certificate chain; when absent with keyFile, a self-signed one is generated in the data directory on first start.',
        ),
        keyFile: path('PEM private key matching certFile; set both or neither.'),
        certificatesDir: path(
          "Operator-provided certificates chosen by SNI: one subdirectory per certificate holding fullchain.pem and privkey.pem (certbot's live/ layout); each serves the names of its certificate. They take precedence over ACME certificates for the same name.",
        ),
      })
      .strict()
      .superRefine((tls, context) => {
        if ((tls.certFile === undefined) === (tls.keyFile === undefined)) return;
        const [given, missing] =
          tls.certFile === undefined ? ['keyFile', 'certFile'] : ['certFile', 'keyFile'];
        context.addIssue({
          code: 'custom',
          path: [given],
          message: `Expected tls.${missing} as well: set certFile and keyFile together`,
        });
      })
      .prefault({})
      .describe(
        'TLS certificate and key for every TLS listener: the default, and certificates by SNI (tls.certificatesDir, acme).',
      ),
    acme: z
      .object({
        directoryUrl: z
          .url({ protocol: /^https$/, error: 'Expected the https:// URL of an ACME directory' })
          .optional()
          .describe(
            'ACME directory URL (RFC 8555), e.g. https://acme-v02.api.letsencrypt.org/directory: certificates for imap., pop., smtp. and mail. of every domain homed in this region and for smtp.hostname, validated by HTTP-01 on port.http and renewed by the acme-renew job; absent: no ACME.',
          ),
        email: z
          .email()
          .optional()
          .describe('Contact address of the ACME account (expiry notices from the CA).'),
        caFile: path(
          'PEM CA bundle trusted for the ACME directory in addition to the system roots (a test CA such as pebble).',
        ),
        renewDays: z
          .int()
          .min(1)
          .max(60)
          .default(30)
          .describe('Renew an ACME certificate this many days before it expires.'),
      })
      .strict()
      .prefault({})
      .describe('Certificates from an ACME CA for the names users connect to (docs/provisioning.md).'),
    directory: z
      .object({
        syncUrl: z
          .url()
          .optional()
          .describe(
            'Sync URL for the directory without federation certificates: a Turso Cloud database (libsql://<database>-<organisation>.turso.io, with syncAuthToken) instead of a hub of our own. Absent, with federation.hub and federation.hubUrl unset too: this region is standalone.',
          ),
        syncAuthToken: z
          .string()
          .min(1)
          .optional()
          .describe(
            'Turso Cloud database auth token for directory.syncUrl (turso db tokens create <database>).',
          ),
        timezone: z
          .string()
          .refine(isTimeZone, 'Expected an IANA time zone such as UTC or Europe/Paris')
          .default('UTC')
          .describe(
            'IANA time zone for expiration dates, which are inclusive: valid until the end of that day.',
          )
          .register(settingTypes, { type: 'IANA time zone' }),
        retentionDays: z
          .int()
          .min(0)
          .max(3650)
          .default(30)
          .describe("Days a removed mailbox's mail is kept before the purge job deletes it."),
        cramMd5: z
          .boolean()
          .default(true)
          .describe(
            'Offer CRAM-MD5 authentication; it needs a password-equivalent secret, stored encrypted with the federation key. Off: no such secret is kept.',
          ),
      })
      .strict()
      .prefault({})
      .describe('The user and domain directory.'),
    lists: z
      .object({
        holdDays: z
          .int()
          .min(1)
          .max(90)
          .default(7)
          .describe(
            "Days a post to a moderated list waits for the owner's decision; then it is discarded and the poster told.",
          ),
      })
      .strict()
      .prefault({})
      .describe('Built-in mailing lists.'),
    internalNetworks: z
      .string()
      .refine(isCidrList, 'Expected a comma-separated list of CIDRs such as 10.0.0.0/8,2001:db8::/32')
      .default('')
      .describe(
        'Networks (comma-separated CIDRs) whose clients may relay through the MX without AUTH; empty: none.',
      ),
    smtp: z
      .object({
        hostname: z
          .string()
          .regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i, 'Expected a host name')
          .default('localhost')
          .describe(
            'Host name in the SMTP greeting, EHLO reply and Received headers (the MX name in production).',
          ),
        maxMessageBytes: z
          .int()
          .min(1024)
          .default(50 * 1024 * 1024)
          .describe('Largest message accepted (SIZE, RFC 1870), bytes.'),
        maxRecipients: z
          .int()
          .min(100)
          .max(10000)
          .default(100)
          .describe('Recipients accepted per message (RFC 5321 §4.5.3.1.8 asks for at least 100).'),
        greetingDelayMs: z
          .int()
          .min(0)
          .max(30000)
          .default(0)
          .describe('Pause before the greeting; clients that talk before it are refused (pregreet test).'),
        postmaster: z
          .string()
          .regex(/^(|[^@\s]+@[^@\s]+)$/, 'Expected an address such as postmaster@example.org')
          .default('')
          .describe(
            'Where RCPT TO:<Postmaster> without a domain goes (RFC 5321 §4.5.1); empty: postmaster@ of the hosted domain that smtp.hostname is or is under.',
          ),
        idleTimeoutMs: z
          .int()
          .min(1000)
          .default(60000)
          .describe('Idle time after which an SMTP connection is closed, ms.'),
        sessionTimeoutMs: z
          .int()
          .min(10000)
          .default(600000)
          .describe('Longest SMTP session, ms; cuts off clients that trickle bytes (slowloris).'),
        outboundPort: z
          .int()
          .min(1)
          .max(65535)
          .default(25)
          .describe(
            'Port the outbound queue connects to at the next hop (25; another port for labs and tests).',
          ),
      })
      .strict()
      .prefault({})
      .describe('The MTA.'),
    admin: z
      .object({
        requireTotp: z
          .boolean()
          .default(false)
          .describe(
            'Every administrator must use two-step sign-in (TOTP); those without it enrol right after signing in.',
          ),
        allowedNetworks: z
          .string()
          .refine(isCidrList, 'Expected a comma-separated list of CIDRs such as 10.0.0.0/8,2001:db8::/32')
          .default('')
          .describe(
            'Client networks (comma-separated CIDRs) allowed to reach the admin UI and API at all, for every admin; empty: any.',
          ),
        clientCertificates: z
          .enum(['off', 'optional', 'required'])
          .default('off')
          .describe(
            'TLS client certificates on the admin listener: off; optional (asked for and verified against admin.clientCa; needed by admins with a pinned certificate); required (connections without a valid one get 403 on everything but /healthz).',
          ),
        clientCa: path(
          'PEM bundle of the CA(s) that issue admin client certificates; needed unless admin.clientCertificates is off.',
        ),
      })
      .strict()
      .prefault({})
      .describe('The admin web UI and JSON API (port.admin).'),
    auth: z
      .object({
        inbound: z
          .boolean()
          .default(true)
          .describe(
            'Check SPF, DKIM, DMARC and ARC of mail from outside at the MX and add one Authentication-Results header (docs/message-authentication.md).',
          ),
        spoofing: z
          .enum(['reject', 'quarantine', 'off'])
          .default('reject')
          .describe(
            "Mail from outside with a hosted domain in From that fails SPF and DKIM, even without a DMARC policy: refused (550 5.7.1), delivered to the recipient's Junk folder, or not treated specially.",
          ),
        mtaSts: z
          .boolean()
          .default(true)
          .describe(
            "Apply recipient domains' MTA-STS policies (RFC 8461) to outbound delivery: under enforce, only the listed MX hosts and only over verified TLS.",
          ),
        mtaStsMode: z
          .enum(['enforce', 'testing', 'none'])
          .default('testing')
          .describe(
            'Mode of the MTA-STS policy served for hosted domains at https://mta-sts.<domain>/.well-known/mta-sts.txt (enforce only with certificates that senders can verify).',
          ),
        mtaStsPolicyPort: z
          .int()
          .min(1)
          .max(65535)
          .default(443)
          .describe('Port of MTA-STS policy hosts (443; another port for labs and tests).'),
        mtaStsCa: path(
          'PEM bundle of extra CAs trusted for MTA-STS policy hosts and for MX certificates under an enforce policy (labs and tests); absent: the system roots only.',
        ),
      })
      .strict()
      .prefault({})
      .describe('Message authentication: inbound checks at the MX and MTA-STS for outbound delivery.'),
    dns: z
      .object({
        servers: z
          .string()
          .refine(isServerList, 'Expected a comma-separated list of ip[:port] such as 127.0.0.1:5353')
          .default('')
          .describe('DNS resolvers for MX lookups (comma-separated ip[:port]); empty: the system resolvers.'),
      })
      .strict()
      .prefault({})
      .describe('DNS.'),
    queue: z
      .object({
        retrySchedule: z
          .string()
          .regex(/^\d+(,\d+)*$/, 'Expected comma-separated seconds such as 60,300,900')
          .default('60,300,900,1800,3600,7200,14400')
          .describe('Seconds between delivery attempts; the last interval repeats.'),
        giveUpAfterSeconds: z
          .int()
          .min(1)
          .default(432000)
          .describe('Age after which an undeliverable message is bounced (default 5 days).'),
        delayNotifyAfterSeconds: z
          .int()
          .min(1)
          .default(14400)
          .describe('Age after which the sender gets a delay notification (DSN), once (default 4 hours).'),
        concurrencyPerDestination: z
          .int()
          .min(1)
          .max(100)
          .default(2)
          .describe('Simultaneous connections per destination domain.'),
      })
      .strict()
      .prefault({})
      .describe('The outbound queue.'),
    federation: z
      .object({
        hub: z
          .boolean()
          .default(false)
          .describe(
            'Run the replication hub (tursodb on loopback) and the sync gateway (port.sync) in this region; needs a region certificate (delegato federation init or join).',
          ),
        hubRegion: z
          .string()
          .regex(/^[a-z0-9-]{1,32}$/, 'Expected a region id: 1 to 32 characters among a-z, 0-9 and -')
          .optional()
          .describe(
            "Region id of the region that runs the hub: the only certificate accepted from hubUrl's end; absent: this region when federation.hub is true.",
          ),
        hubUrl: z
          .url({
            protocol: /^https$/,
            error: 'Expected an https:// URL (the sync gateway of the hub region)',
          })
          .optional()
          .describe(
            "The hub region's sync gateway, https://<host>:<port.sync of that region>, for the other regions' directory replicas; needs hubRegion.",
          ),
        writer: z
          .string()
          .regex(/^[a-z0-9-]{1,32}$/, 'Expected a region id: 1 to 32 characters among a-z, 0-9 and -')
          .optional()
          .describe(
            'Region id of the initial directory writer: every directory change of every region is applied there, pushed, then confirmed (decision 0009); absent: the hub region (federation.hubRegion, or this region when federation.hub is true). Only the initial value: once `delegato federation writer <region>` moved the role, the replicated directory names the writer (decision 0011).',
          ),
        hubPort: z
          .int()
          .min(0)
          .max(65535)
          .default(0)
          .describe(
            'Loopback TCP port of the hub (tursodb) where federation.hub is true; 0: a free port chosen at each start. Never reachable from other hosts.',
          ),
        peers: z
          .preprocess(peersInput, z.array(federationPeer))
          .superRefine((peers, context) => {
            const seen = new Set<string>();
            for (const [i, peer] of peers.entries()) {
              if (seen.has(peer.region))
                context.addIssue({
                  code: 'custom',
                  path: [i, 'region'],
                  message: `Expected one entry per region, ${peer.region} is listed twice`,
                });
              seen.add(peer.region);
            }
          })
          .default([])
          .describe(
            "How to reach the other regions' federation SMTP listeners (their port.federation) for mail to domains homed there: region=host[:port] pairs separated by commas in the environment (central=127.0.2.1:2466,south=[::1]:2466); in the region file a YAML list of {region, host, port} or a map region: host[:port]. The port defaults to 2466. An entry may also name proxyPort, the region's port.proxy for IMAP and POP3 sessions of mailboxes homed there (decision 0010; default: this region's port.proxy), and syncPort, the region's port.sync, its federation API (directory changes when it is the writer, delivery traces; decision 0011; default: this region's port.sync). An entry for this region itself is ignored, so every region may carry the same list; mail for a region not listed stays queued (451 4.4.4 No route).",
          )
          .register(settingTypes, { type: 'peer list' }),
      })
      .strict()
      .superRefine((federation, context) => {
        if (federation.hubUrl !== undefined && federation.hubRegion === undefined) {
          context.addIssue({
            code: 'custom',
            path: ['hubRegion'],
            message:
              'Expected federation.hubRegion with federation.hubUrl: the region whose certificate the hub presents',
          });
        }
      })
      .prefault({})
      .describe(
        'Federation: the directory replication hub and how this region reaches it (docs/federation.md).',
      ),
    operations: z
      .object({
        metricsNetworks: z
          .string()
          .refine(isCidrList, 'Expected a comma-separated list of CIDRs such as 10.0.0.0/8,2001:db8::/32')
          .default('127.0.0.0/8,::1/128')
          .describe(
            'Client networks (comma-separated CIDRs) allowed to read GET /metrics on the admin listener (Prometheus); empty: nobody.',
          ),
        expiryWarningDays: z
          .int()
          .min(0)
          .max(365)
          .default(14)
          .describe(
            "Days before a mailbox's expiration date at which its contact person is warned by mail (job mailbox-expiry); 0: on the last day only.",
          ),
        certificateWarningDays: z
          .int()
          .min(1)
          .max(365)
          .default(21)
          .describe(
            'Days before a certificate expires from which job certificate-expiry warns (log, health page).',
          ),
        backupDir: path(
          'Where the scheduled backup job writes its snapshots (delegato backup); absent: no scheduled backup.',
        ),
        backupSchedule: z
          .string()
          .min(9)
          .default('41 2 * * *')
          .describe('When the scheduled backup runs (cron expression, directory.timezone).'),
        backupKeep: z
          .int()
          .min(1)
          .max(1000)
          .default(7)
          .describe(
            'Snapshots the scheduled backup keeps; older ones are removed with the files only they used.',
          ),
      })
      .strict()
      .prefault({})
      .describe('Operations: metrics, scheduled jobs, backups (docs/operations.md).'),
    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
          .default('info')
          .describe('Least severe level written to the log.'),
        file: path(
          'JSON log file (created with its directory); absent means standard error (pretty on a terminal).',
        ),
      })
      .strict()
      .prefault({})
      .describe('Logging.'),
  })
  .strict()
  .superRefine((config, context) => {
    // Cross-section rules of the federation keys (decision 0006).
    const { federation, directory } = config;
    if (federation.hub && federation.hubRegion !== undefined && federation.hubRegion !== config.region.id) {
      context.addIssue({
        code: 'custom',
        path: ['federation', 'hubRegion'],
        message: `federation.hub runs the hub in this region (${config.region.id}), but federation.hubRegion names ${federation.hubRegion}`,
      });
    }
    if (directory.syncUrl !== undefined && (federation.hub || federation.hubUrl !== undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['directory', 'syncUrl'],
        message:
          'Expected either directory.syncUrl (Turso Cloud) or the federation hub (federation.hub, federation.hubUrl), not both',
      });
    }
    if (directory.syncAuthToken !== undefined && directory.syncUrl === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['directory', 'syncAuthToken'],
        message: 'Expected directory.syncUrl with directory.syncAuthToken',
      });
    }
  });

export type Config = z.infer<typeof configSchema>;
