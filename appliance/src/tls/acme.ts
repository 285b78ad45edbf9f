/**
 * Certificates from an ACME CA (RFC 8555) with the HTTP-01 challenge (§8.3): the key authorization is
 * served by the plain-HTTP listener (http-listener.ts) from `HttpChallenges` while the CA validates.
 *
 * Layout under `<data.dir>/tls/acme/`: `account.pem` (the account key, 0600, created once) and
 * `live/<id>/{fullchain.pem,privkey.pem}` per certificate, certbot's layout, which `ServerCertificates`
 * reads. A certificate is (re)issued when it is missing, does not cover every wanted name, or expires
 * within `renewDays`; otherwise nothing is asked of the CA, so the job can run as often as it likes.
 */
import type { X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import { dnsNames, readCertificateDir } from './certificates.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Tokens and key authorizations of the HTTP-01 challenges in progress. */
export class HttpChallenges {
  readonly #byToken = new Map<string, string>();

  set(token: string, keyAuthorization: string): void {
    this.#byToken.set(token, keyAuthorization);
  }

  delete(token: string): void {
    this.#byToken.delete(token);
  }

  /** The key authorization for a token (RFC 8555 §8.3), or undefined. */
  get(token: string): string | undefined {
    return this.#byToken.get(token);
  }
}

export interface WantedCertificate {
  /** Subdirectory name under live/: the hosted domain, or the host name. */
  id: string;
  names: string[];
}

export interface AcmeSettings {
  directoryUrl: string;
  email?: string | undefined;
  /** PEM text of extra CAs trusted for the ACME directory (a test CA). */
  ca?: string | undefined;
  renewDays: number;
  /** `<data.dir>/tls/acme`. */
  dir: string;
  challenges: HttpChallenges;
  now?: () => Date;
}

export interface RenewalOutcome {
  issued: string[];
  current: string[];
  failed: Array<{ id: string; error: string }>;
}

/** Why a certificate directory needs a new certificate, or null when it is current. */
export async function renewalReason(
  dir: string,
  names: string[],
  renewDays: number,
  now: Date,
): Promise<string | null> {
  let certificate: X509Certificate;
  try {
    certificate = (await readCertificateDir(dir)).certificate;
  } catch {
    return 'missing';
  }
  const covered = new Set(dnsNames(certificate));
  if (names.some((name) => !covered.has(name))) return 'names';
  if (new Date(certificate.validTo).getTime() - now.getTime() < renewDays * DAY_MS) return 'expiry';
  return null;
}

/** Issues or renews what `wanted` needs; one failing certificate does not stop the others. */
export async function ensureAcmeCertificates(
  settings: AcmeSettings,
  wanted: WantedCertificate[],
): Promise<RenewalOutcome> {
  const outcome: RenewalOutcome = { issued: [], current: [], failed: [] };
  const now = settings.now?.() ?? new Date();
  const due: WantedCertificate[] = [];
  for (const want of wanted) {
    const reason = await renewalReason(
      join(settings.dir, 'live', want.id),
      want.names,
      settings.renewDays,
      now,
    );
    if (reason === null) outcome.current.push(want.id);
    else due.push(want);
  }
  if (due.length === 0) return outcome;

  trustForAcme(settings.ca);
  const client = new acme.Client({
    directoryUrl: settings.directoryUrl,
    accountKey: await accountKey(settings.dir),
  });
  for (const want of due) {
    try {
      await issue(client, settings, want);
      outcome.issued.push(want.id);
    } catch (error) {
      outcome.failed.push({ id: want.id, error: (error as Error).message });
    }
  }
  return outcome;
}

async function issue(client: acme.Client, settings: AcmeSettings, want: WantedCertificate): Promise<void> {
  const [key, csr] = await acme.crypto.createCsr(
    { commonName: want.names[0] ?? want.id, altNames: want.names },
    await acme.crypto.createPrivateEcdsaKey('P-256'),
  );
  const chain = await client.auto({
    csr,
    ...(settings.email ? { email: settings.email } : {}),
    termsOfServiceAgreed: true,
    challengePriority: ['http-01'],
    // The CA validates; acme-client's own pre-check would fetch the name from inside the region, which
    // hairpin NAT and split DNS often break.
    skipChallengeVerification: true,
    challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
      if (challenge.type !== 'http-01') throw new Error(`unsupported challenge ${challenge.type}`);
      settings.challenges.set(challenge.token, keyAuthorization);
    },
    challengeRemoveFn: async (_authz, challenge) => {
      settings.challenges.delete(challenge.token);
    },
  });
  const dir = join(settings.dir, 'live', want.id);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // The key first: a reader seeing the new chain finds its key (readCertificateDir checks the pair).
  await replaceFile(join(dir, 'privkey.pem'), key.toString(), 0o600);
  await replaceFile(join(dir, 'fullchain.pem'), chain, 0o644);
}

async function accountKey(dir: string): Promise<Buffer> {
  const file = join(dir, 'account.pem');
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = await acme.crypto.createPrivateEcdsaKey('P-256');
  await writeFile(file, key, { mode: 0o600, flag: 'wx' });
  return key;
}

async function replaceFile(file: string, content: string, mode: number): Promise<void> {
  const temp = `${file}.new`;
  await writeFile(temp, content, { mode });
  await chmod(temp, mode);
  await rename(temp, file);
}

let trusted: string | undefined;

/**
 * acme-client talks through one axios instance of its own: its HTTPS agent trusts the system roots plus
 * `ca` (acme.caFile). Process-wide, like the module; set again only when `ca` changes.
 */
function trustForAcme(ca: string | undefined): void {
  if (ca === undefined || ca === trusted) return;
  acme.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, ca], keepAlive: false });
  trusted = ca;
}
