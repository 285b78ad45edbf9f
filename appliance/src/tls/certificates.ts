/**
 * Certificates chosen by SNI (RFC 6066 §3) for every TLS listener: users' clients connect to
 * imap./pop./smtp./mail. of their own domain, so each listener serves the certificate whose names cover
 * the server name the client asked for, and the default certificate (tls.certFile or the self-signed one)
 * when none does or the client sent no name.
 *
 * Certificates come from directories in certbot's live/ layout: one subdirectory per certificate with
 * `fullchain.pem` and `privkey.pem`. The operator's directory (`tls.certificatesDir`) is read before the
 * ACME one (`<data.dir>/tls/acme/live`), so an operator's certificate wins for a name both cover.
 * `reload()` re-reads both (after a renewal); handshakes in progress keep the contexts they got.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createSecureContext,
  type SecureContext,
  type SecureContextOptions,
  type TlsOptions,
} from 'node:tls';

export interface LoadedCertificate {
  /** The subdirectory it was read from. */
  dir: string;
  /** DNS names of its subjectAltName (lowercase; wildcards as `*.example.org`). */
  names: string[];
  notAfter: Date;
  origin: 'operator' | 'acme';
}

export interface CertificateProblem {
  dir: string;
  error: string;
}

type SniCallback = NonNullable<TlsOptions['SNICallback']>;

interface Entry {
  context: SecureContext;
  loaded: LoadedCertificate;
  pem: { cert: string; key: string };
}

/** The DNS names of a certificate's subjectAltName (RFC 6125 §6.4: the CN is not consulted). */
export function dnsNames(certificate: X509Certificate): string[] {
  const san = certificate.subjectAltName ?? '';
  return san
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).trim().toLowerCase())
    .filter((name) => name.length > 0);
}

/** Reads one certificate directory; throws with the reason when it is not a usable pair. */
export async function readCertificateDir(
  dir: string,
): Promise<{ cert: string; key: string; certificate: X509Certificate }> {
  const cert = await readFile(join(dir, 'fullchain.pem'), 'utf8');
  const key = await readFile(join(dir, 'privkey.pem'), 'utf8');
  const certificate = new X509Certificate(cert);
  if (!certificate.checkPrivateKey(createPrivateKey(key))) {
    throw new Error('privkey.pem is not the key of the certificate in fullchain.pem');
  }
  return { cert, key, certificate };
}

async function subdirectories(root: string): Promise<string[]> {
  try {
    const entries = await readdir(root, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() || e.isSymbolicLink())
      .map((e) => join(root, e.name))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export class ServerCertificates {
  #byName = new Map<string, Entry>();
  #loaded: LoadedCertificate[] = [];
  #problems: CertificateProblem[] = [];

  constructor(private readonly sources: { operatorDir?: string | undefined; acmeDir: string }) {}

  /** The SNI callback for `tls.createServer`, `TLSSocket` and smtp-server: undefined picks the default. */
  readonly SNICallback: SniCallback = (servername, callback) => {
    callback(null, this.contextFor(servername));
  };

  /**
   * The SNI callback of a listener whose contexts need more than the certificate: the CA that verifies
   * client certificates (the admin listener's admin.clientCa) lives in the context, not the server.
   * Contexts are made once per certificate and dropped with it at the next reload.
   */
  SNICallbackWith(extra: SecureContextOptions): SniCallback {
    const made = new WeakMap<Entry, SecureContext>();
    return (servername, callback) => {
      const entry = this.#entryFor(servername);
      if (!entry) return callback(null, undefined);
      let context = made.get(entry);
      if (!context) {
        context = createSecureContext({ ...entry.pem, minVersion: 'TLSv1.2', ...extra });
        made.set(entry, context);
      }
      callback(null, context);
    };
  }

  /** The context for a requested server name: an exact name first, then a wildcard one level up. */
  contextFor(servername: string): SecureContext | undefined {
    return this.#entryFor(servername)?.context;
  }

  #entryFor(servername: string): Entry | undefined {
    const name = servername.toLowerCase().replace(/\.$/, '');
    const exact = this.#byName.get(name);
    if (exact) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? this.#byName.get(`*${name.slice(dot)}`) : undefined;
  }

  /** The certificate that serves `servername`, if any (the renewal job, tests). */
  certificateFor(servername: string): LoadedCertificate | undefined {
    return this.#entryFor(servername)?.loaded;
  }

  get loaded(): readonly LoadedCertificate[] {
    return this.#loaded;
  }

  /** Directories that could not be used at the last load (unreadable, mismatched key, no DNS name). */
  get problems(): readonly CertificateProblem[] {
    return this.#problems;
  }

  /** Reads both sources again and swaps the name table in one step. */
  async reload(): Promise<void> {
    const byName = new Map<string, Entry>();
    const loaded: LoadedCertificate[] = [];
    const problems: CertificateProblem[] = [];
    const sources: Array<[string | undefined, LoadedCertificate['origin']]> = [
      [this.sources.operatorDir, 'operator'],
      [this.sources.acmeDir, 'acme'],
    ];
    for (const [root, origin] of sources) {
      if (root === undefined) continue;
      for (const dir of await subdirectories(root)) {
        try {
          const { cert, key, certificate } = await readCertificateDir(dir);
          const names = dnsNames(certificate);
          if (names.length === 0) throw new Error('the certificate names no DNS name (subjectAltName)');
          const entry: LoadedCertificate = {
            dir,
            names,
            notAfter: new Date(certificate.validTo),
            origin,
          };
          const context = createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
          loaded.push(entry);
          const value: Entry = { context, loaded: entry, pem: { cert, key } };
          for (const name of names) if (!byName.has(name)) byName.set(name, value);
        } catch (error) {
          problems.push({ dir, error: (error as Error).message });
        }
      }
    }
    this.#byName = byName;
    this.#loaded = loaded;
    this.#problems = problems;
  }
}
