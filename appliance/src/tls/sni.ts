/**
 * The TLS identity every TLS listener is given: the default certificate (tls.certFile or the self-signed
 * one) and the certificates chosen by SNI (certificates.ts), with the ACME settings when acme.directoryUrl
 * is set (the acme-renew job and the plain-HTTP challenge listener use them).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TlsOptions } from 'node:tls';
import { type Logger, logEvent, logEventAt } from '@delegato/observability';
import type { Config } from '../config/schema.js';
import { type AcmeSettings, HttpChallenges } from './acme.js';
import { ServerCertificates } from './certificates.js';

export interface ListenerTls {
  key: string;
  cert: string;
  SNICallback: NonNullable<TlsOptions['SNICallback']>;
  certificates: ServerCertificates;
  /** Present where acme.directoryUrl is set. */
  acme?: AcmeSettings;
}

export async function listenerTls(
  config: Pick<Config, 'data' | 'tls' | 'acme'>,
  fallback: { key: string; cert: string },
  logger: Logger,
): Promise<ListenerTls> {
  const acmeDir = join(config.data.dir, 'tls', 'acme');
  const certificates = new ServerCertificates({
    operatorDir: config.tls.certificatesDir,
    acmeDir: join(acmeDir, 'live'),
  });
  await certificates.reload();
  for (const problem of certificates.problems)
    logEventAt(logger, 'warn', 'tls.certificate_skipped', problem, 'certificate directory skipped');
  logEvent(logger, 'tls.certificates_loaded', {
    certificates: certificates.loaded.length,
    names: certificates.loaded.flatMap((c) => c.names).length,
  });
  let acme: AcmeSettings | undefined;
  const { directoryUrl, caFile, email, renewDays } = config.acme;
  if (directoryUrl !== undefined) {
    let ca: string | undefined;
    if (caFile !== undefined) {
      try {
        ca = await readFile(caFile, 'utf8');
      } catch (error) {
        throw new Error(`acme.caFile: cannot read ${caFile}: ${(error as Error).message}`);
      }
    }
    acme = { directoryUrl, email, ca, renewDays, dir: acmeDir, challenges: new HttpChallenges() };
  }
  return {
    key: fallback.key,
    cert: fallback.cert,
    SNICallback: certificates.SNICallback,
    certificates,
    ...(acme ? { acme } : {}),
  };
}
