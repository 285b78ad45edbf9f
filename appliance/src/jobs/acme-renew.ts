/**
 * The acme-renew job: certificates for the names users connect to, imap./pop./smtp./mail. of every
 * domain homed in this region (one certificate per domain, so a domain whose DNS is not there yet does
 * not hold the others back), and smtp.hostname; issued or renewed from the ACME CA when missing, short of
 * a name or within acme.renewDays of expiry, then loaded into the SNI table of every TLS listener.
 */
import { isIP } from 'node:net';
import type { Actor, Directory } from '@delegato/directory';
import { type Logger, logEvent, logEventAt } from '@delegato/observability';
import type { Config } from '../config/schema.js';
import {
  type AcmeSettings,
  ensureAcmeCertificates,
  type RenewalOutcome,
  type WantedCertificate,
} from '../tls/acme.js';
import type { ServerCertificates } from '../tls/certificates.js';

/**
 * Hourly, off the hour (CAs ask clients not to all come on the hour). A run that finds every certificate
 * current asks the CA nothing, and re-reads the certificate directories (an operator's replaced files).
 */
export const ACME_RENEW_SCHEDULE = '41 * * * *';

/** The host name prefixes users' clients are configured with (docs/provisioning.md, `delegato dns zone`). */
export const CLIENT_NAME_PREFIXES = ['imap', 'pop', 'smtp', 'mail'] as const;

const SYSTEM: Actor = { kind: 'system', name: 'acme-renew', from: 'local' };

export async function wantedCertificates(
  config: Pick<Config, 'region' | 'smtp'>,
  directory: Pick<Directory, 'listDomains'>,
): Promise<WantedCertificate[]> {
  const domains = (await directory.listDomains(SYSTEM)).filter((d) => d.region === config.region.id);
  const wanted = domains.map((d) => ({
    id: d.name,
    names: CLIENT_NAME_PREFIXES.map((prefix) => `${prefix}.${d.name}`),
  }));
  const host = config.smtp.hostname.toLowerCase();
  const covered = new Set(wanted.flatMap((w) => w.names));
  if (host.includes('.') && isIP(host) === 0 && !covered.has(host)) wanted.push({ id: host, names: [host] });
  return wanted;
}

export async function renewCertificates(opts: {
  config: Pick<Config, 'region' | 'smtp'>;
  directory: Pick<Directory, 'listDomains'>;
  acme: AcmeSettings;
  certificates: ServerCertificates;
  logger: Logger;
}): Promise<RenewalOutcome> {
  const outcome = await ensureAcmeCertificates(
    opts.acme,
    await wantedCertificates(opts.config, opts.directory),
  );
  for (const id of outcome.issued) logEvent(opts.logger, 'acme.issued', { certificate: id });
  for (const failure of outcome.failed)
    logEventAt(
      opts.logger,
      'warn',
      'acme.failed',
      { certificate: failure.id, err: failure.error },
      'ACME failed',
    );
  await opts.certificates.reload();
  if (outcome.failed.length > 0 && outcome.issued.length === 0 && outcome.current.length === 0)
    throw new Error(
      `no certificate could be issued: ${outcome.failed.map((f) => `${f.id}: ${f.error}`).join('; ')}`,
    );
  return outcome;
}
