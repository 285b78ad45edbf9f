/**
 * Message authentication wired to the configuration (`auth.*`, `dns.servers`) and the directory
 * (docs/message-authentication.md): the MX's inbound checks, DKIM signing and ARC sealing in the queue,
 * MTA-STS for outbound delivery, and the MTA-STS policy this appliance serves for the domains homed here.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { AdminOptions } from '@delegato/admin';
import { type Directory, DirectoryError, type DkimKeyView } from '@delegato/directory';
import {
  checkRecords,
  createAuthResolver,
  InboundAuth,
  MtaSts,
  OutboundSigner,
  parseDnsServers,
  type ZoneInput,
  type ZoneRecord,
  zoneRecords,
} from '@delegato/mta';
import type { Logger } from '@delegato/observability';
import { Hono } from 'hono';
import type { Config } from '../config/schema.js';

type Pick2 = Pick<Config, 'auth' | 'dns' | 'smtp' | 'data' | 'region'>;

function resolver(config: Pick<Config, 'dns'>) {
  return createAuthResolver(parseDnsServers(config.dns.servers));
}

/** Whether a domain is hosted (any region): its postmaster@ is known (every domain has one). */
async function hosted(directory: Pick<Directory, 'lookupRecipient'>, domain: string): Promise<boolean> {
  const found = await directory.lookupRecipient(`postmaster@${domain}`);
  return found.kind !== 'not-hosted' && found.kind !== 'invalid';
}

/** The MX's checks (auth.inbound); undefined when they are off. */
export function inboundAuth(
  config: Pick2,
  directory: Pick<Directory, 'lookupRecipient'>,
  logger: Logger,
): InboundAuth | undefined {
  if (!config.auth.inbound) return undefined;
  return new InboundAuth({
    resolver: resolver(config),
    authservId: config.smtp.hostname,
    isHosted: (domain) => hosted(directory, domain),
    spoofing: config.auth.spoofing,
    workDir: join(config.data.dir, 'auth-work'),
    logger,
  });
}

/** DKIM signing and ARC sealing of outgoing mail, keys from the directory. */
export function outboundAuth(
  config: Pick2,
  directory: Pick<Directory, 'dkimSigningKeys'>,
  logger: Logger,
): OutboundSigner {
  return new OutboundSigner({ keys: directory, authservId: config.smtp.hostname, logger });
}

/** The extra CAs of `auth.mtaStsCa` (labs and tests), read once. */
export function mtaStsCa(config: Pick<Config, 'auth'>): string | undefined {
  return config.auth.mtaStsCa ? readFileSync(config.auth.mtaStsCa, 'utf8') : undefined;
}

/** Recipient domains' MTA-STS policies (auth.mtaSts); undefined when off. */
export function mtaSts(config: Pick2, logger: Logger): MtaSts | undefined {
  if (!config.auth.mtaSts) return undefined;
  const ca = mtaStsCa(config);
  return new MtaSts({
    resolver: resolver(config),
    port: config.auth.mtaStsPolicyPort,
    ...(ca ? { ca } : {}),
    file: join(config.data.dir, 'mta-sts-policies.json'),
    logger,
  });
}

/** RFC 8461 §3.2: the policy served for every domain homed here (the MX is this appliance). */
export function mtaStsPolicyText(config: Pick<Config, 'auth' | 'smtp'>): string {
  const lines = ['version: STSv1', `mode: ${config.auth.mtaStsMode}`];
  if (config.auth.mtaStsMode !== 'none') lines.push(`mx: ${config.smtp.hostname}`);
  lines.push('max_age: 604800');
  return `${lines.join('\r\n')}\r\n`;
}

/** The `id` of the `_mta-sts` TXT record (RFC 8461 §3.1): changes whenever the policy text does. */
export function mtaStsPolicyId(config: Pick<Config, 'auth' | 'smtp'>): string {
  return createHash('sha256').update(mtaStsPolicyText(config)).digest('hex').slice(0, 20);
}

/**
 * `GET /.well-known/mta-sts.txt` on the web listener, answered only at `mta-sts.<domain>` for a domain
 * homed in this region (RFC 8461 §3.3: text/plain, 200); 404 for anything else.
 */
export function mtaStsApp(
  config: Pick<Config, 'auth' | 'smtp' | 'region'>,
  directory: Pick<Directory, 'lookupRecipient'>,
): Hono {
  const app = new Hono();
  app.get('/.well-known/mta-sts.txt', async (c) => {
    const host = (c.req.header('host') ?? '').replace(/:\d+$/, '').toLowerCase();
    const m = /^mta-sts\.((?:[a-z0-9-]{1,63}\.)+[a-z0-9-]{1,63})$/.exec(host);
    if (!m?.[1]) return c.text('not found', 404);
    const found = await directory.lookupRecipient(`postmaster@${m[1]}`);
    if (found.kind === 'not-hosted' || found.kind === 'invalid' || found.region !== config.region.id)
      return c.text('not found', 404);
    return c.body(mtaStsPolicyText(config), 200, { 'content-type': 'text/plain; charset=utf-8' });
  });
  return app;
}

/** The host names of the regions named in `federation.peers` (DNS names only; addresses are no MX). */
function peerHosts(config: Config): Map<string, string> {
  const peers = (config.federation as { peers?: Array<{ region: string; host: string }> }).peers ?? [];
  return new Map(peers.filter((p) => isIP(p.host) === 0).map((p) => [p.region, p.host]));
}

/** Everything the zone of `domain` is made of. */
export function zoneInput(config: Config, domain: string, region: string, keys: DkimKeyView[]): ZoneInput {
  const peers = peerHosts(config);
  const mxHost = region === config.region.id ? config.smtp.hostname : peers.get(region);
  if (!mxHost)
    throw new DirectoryError(
      'invalid',
      `${domain} is homed in region ${region}: run "delegato dns zone ${domain}" there (its MX is that region's smtp.hostname)`,
    );
  return {
    domain,
    mxHost,
    senders: [config.smtp.hostname, ...peers.values()],
    dkim: keys.filter((k) => k.state !== 'retired'),
    mtaStsId: mtaStsPolicyId(config),
    ports: {
      submission: config.port.submission,
      submissions: config.port.submissions,
      imap: config.port.imap,
      imaps: config.port.imaps,
      pop3: config.port.pop3,
      pop3s: config.port.pop3s,
    },
  };
}

/** The DNS records page of the admin UI (packages/admin/src/dns): a domain's records and their look-up. */
export function dnsRecordSource(
  config: Config,
  directory: Directory,
): NonNullable<AdminOptions['dnsRecords']> {
  return {
    async records(actor, domain) {
      const keys = await directory.listDkimKeys(actor, domain);
      const found = (await directory.listDomains(actor)).find((d) => d.name === domain);
      if (!found) throw new DirectoryError('not-found', `unknown domain ${domain}`);
      return zoneRecords(zoneInput(config, domain, found.region, keys));
    },
    check: (records) => checkRecords(resolver(config), records as ZoneRecord[]),
  };
}
