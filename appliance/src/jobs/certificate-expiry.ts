/**
 * Job `certificate-expiry`: the certificates this region presents (the TLS certificate of the listeners,
 * the federation region certificate and CA when installed) and how long each is still valid; those within
 * `operations.certificateWarningDays` are logged at warn (`certificate.expiring`) and shown as problems
 * on the health page.
 */
import { X509Certificate } from 'node:crypto';
import { type Logger, logEventAt } from '@delegato/observability';

export interface CertificateState {
  name: string;
  subject: string;
  notAfter: string;
  daysLeft: number;
}

/** The first certificate of each PEM, with its days left at `now` (unparseable ones are skipped). */
export function certificateStates(
  pems: Array<{ name: string; pem: string }>,
  now: Date = new Date(),
): CertificateState[] {
  const out: CertificateState[] = [];
  for (const { name, pem } of pems) {
    const block = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
    if (!block) continue;
    try {
      const cert = new X509Certificate(block);
      const notAfter = new Date(cert.validTo);
      out.push({
        name,
        subject: cert.subject.replace(/\n/g, ', '),
        notAfter: notAfter.toISOString(),
        daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
      });
    } catch {
      // not a certificate: nothing to warn about here (start-up checks the TLS material)
    }
  }
  return out;
}

export async function runCertificateExpiry(opts: {
  certificates: () => Promise<Array<{ name: string; pem: string }>>;
  warningDays: number;
  logger: Logger;
  now?: () => Date;
}): Promise<{ checked: number; expiring: string[] }> {
  const states = certificateStates(await opts.certificates(), opts.now?.() ?? new Date());
  const expiring = states.filter((s) => s.daysLeft < opts.warningDays);
  for (const s of expiring)
    logEventAt(opts.logger, 'warn', 'certificate.expiring', { ...s }, `certificate ${s.name} expires soon`);
  return { checked: states.length, expiring: expiring.map((s) => `${s.name} (${s.daysLeft} days)`) };
}
