/**
 * The federation PKI: one CA per federation, one certificate per region, and the region bundle that
 * provisioning carries to a region. The functions are what `delegato federation init | issue | join` will
 * call, one each: `createFederationCa`, `issueRegionBundle` + `writeRegionBundle`, `installRegionBundle`.
 *
 * Data-dir layout (see {@link federationPaths}):
 *
 *   federation.key            federation-wide secret key, base64 (0600): the file the directory already reads
 *   federation/ca.pem         the federation CA certificate
 *   federation/ca-key.pem     the CA's private key (0600): only in the data dir where `init` ran
 *   federation/region.pem     this region's certificate (serverAuth + clientAuth)
 *   federation/region-key.pem this region's private key (0600)
 *
 * Keys are ECDSA P-256; signatures ECDSA with SHA-256.
 */
import { createPrivateKey, X509Certificate as NodeX509, type webcrypto } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { type Logger, logEvent } from '@delegato/observability';

type X509Module = typeof import('@peculiar/x509');

/** Every region certificate names its region as `<region>.federation.invalid` (RFC 6761 `.invalid`). */
export const FEDERATION_NAME_SUFFIX = '.federation.invalid';

/** Region ids, as in the configuration (`region.id`). */
export const REGION_ID = /^[a-z0-9-]{1,32}$/;

export const BUNDLE_FORMAT = 'delegato-federation-bundle/1';

const DAY_MS = 24 * 60 * 60 * 1000;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A refused PKI operation; `code` says why. */
export class PkiError extends Error {
  override name = 'PkiError';
  constructor(
    readonly code: 'exists' | 'missing' | 'invalid' | 'untrusted' | 'key-conflict',
    message: string,
  ) {
    super(message);
  }
}

export function federationPaths(dataDir: string) {
  const root = resolve(dataDir);
  const dir = join(root, 'federation');
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    regionCert: join(dir, 'region.pem'),
    regionKey: join(dir, 'region-key.pem'),
    federationKey: join(root, 'federation.key'),
  };
}

/** The CA's certificate and private key (PEM). */
export interface FederationCa {
  certPem: string;
  keyPem: string;
}

/** A region's certificate and private key (PEM). */
export interface RegionCredentials {
  region: string;
  certPem: string;
  keyPem: string;
}

/** Everything a region needs to join: its certificate and key, the CA certificate, the federation key. */
export interface RegionBundle extends RegionCredentials {
  caCertPem: string;
  /** The federation-wide secret key (32 bytes). */
  federationKey: Buffer;
}

/** What a region's appliance loads to speak on the federation channel. */
export interface RegionTls extends RegionCredentials {
  caCertPem: string;
}

export interface CreateCaOptions {
  /** CA subject common name; default "Delegato federation CA". */
  name?: string;
  /** Validity; default 10 years. */
  validityDays?: number;
  now?: Date;
  logger?: Logger;
}

/**
 * `federation init`: creates the federation CA in `<dataDir>/federation/` (key mode 0600). Refuses when a
 * CA is already there (code `exists`): a second CA would split the federation.
 */
export async function createFederationCa(dataDir: string, opts: CreateCaOptions = {}): Promise<FederationCa> {
  const paths = federationPaths(dataDir);
  const name = opts.name ?? 'Delegato federation CA';
  const now = opts.now ?? new Date();
  const x509 = await loadX509();
  const keys = await generateKeys();
  const notAfter = new Date(now.getTime() + (opts.validityDays ?? 3650) * DAY_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [name] }, { O: ['Delegato federation'] }],
    notBefore: new Date(now.getTime() - 60_000),
    notAfter,
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const ca = { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await writeExclusive(paths.caKey, ca.keyPem, 'the federation CA');
  await writeFile(paths.caCert, ca.certPem, { mode: 0o644 });
  if (opts.logger) {
    logEvent(opts.logger, 'federation.ca_created', {
      subject: cert.subject,
      notAfter: notAfter.toISOString(),
    });
  }
  return ca;
}

/** The CA of `<dataDir>` (where `init` ran); code `missing` elsewhere. */
export async function loadFederationCa(dataDir: string): Promise<FederationCa> {
  const paths = federationPaths(dataDir);
  try {
    return { certPem: await readFile(paths.caCert, 'utf8'), keyPem: await readFile(paths.caKey, 'utf8') };
  } catch {
    throw new PkiError(
      'missing',
      `no federation CA in ${paths.dir} (run \`delegato federation init\` there)`,
    );
  }
}

export interface IssueOptions {
  region: string;
  /** The region's public host names or IP addresses (subject alternative names besides the region name). */
  hosts?: string[];
  /** Validity; default 825 days. */
  validityDays?: number;
  now?: Date;
  logger?: Logger;
}

/** A region certificate (serverAuth + clientAuth, CN = region, SAN `<region>.federation.invalid` + hosts). */
export async function issueRegionCertificate(
  ca: FederationCa,
  opts: IssueOptions,
): Promise<RegionCredentials> {
  if (!REGION_ID.test(opts.region)) {
    throw new PkiError(
      'invalid',
      `invalid region id ${JSON.stringify(opts.region)} (1 to 32 of a-z, 0-9, -)`,
    );
  }
  const x509 = await loadX509();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importKeyPem(ca.keyPem);
  const keys = await generateKeys();
  const now = opts.now ?? new Date();
  const notAfter = new Date(now.getTime() + (opts.validityDays ?? 825) * DAY_MS);
  const names: { type: 'dns' | 'ip'; value: string }[] = [{ type: 'dns', value: regionName(opts.region) }];
  for (const host of opts.hosts ?? []) {
    names.push(isIP(host) ? { type: 'ip', value: host } : { type: 'dns', value: host.toLowerCase() });
  }
  const serialNumber = randomSerial();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: [{ CN: [opts.region] }, { O: ['Delegato federation'] }],
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  if (opts.logger) {
    logEvent(opts.logger, 'federation.region_issued', {
      region: opts.region,
      hosts: opts.hosts ?? [],
      serial: serialNumber,
      notAfter: notAfter.toISOString(),
    });
  }
  return { region: opts.region, certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/**
 * `federation issue <region>`: a bundle for `region` from the CA in `dataDir`, carrying `federationKey` (the
 * writer's `federation.key`, 32 bytes). Write it with {@link writeRegionBundle}.
 */
export async function issueRegionBundle(
  dataDir: string,
  opts: IssueOptions & { federationKey: Uint8Array },
): Promise<RegionBundle> {
  const ca = await loadFederationCa(dataDir);
  const key = Buffer.from(opts.federationKey);
  if (key.length !== 32) throw new PkiError('invalid', 'the federation key must be 32 bytes');
  const creds = await issueRegionCertificate(ca, opts);
  return { ...creds, caCertPem: ca.certPem, federationKey: key };
}

/** Reads `<dataDir>/federation.key` (base64, 32 bytes), as the directory stores it. */
export async function readFederationKey(dataDir: string): Promise<Buffer> {
  const file = federationPaths(dataDir).federationKey;
  const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  if (key.length !== 32) throw new PkiError('invalid', `${file} does not hold a 32-byte key`);
  return key;
}

/** The bundle as one file (JSON, so that provisioning tools can read it). */
export function encodeBundle(bundle: RegionBundle): string {
  return `${JSON.stringify(
    {
      format: BUNDLE_FORMAT,
      region: bundle.region,
      cert: bundle.certPem,
      key: bundle.keyPem,
      ca: bundle.caCertPem,
      federationKey: bundle.federationKey.toString('base64'),
    },
    null,
    2,
  )}\n`;
}

/**
 * Parses and checks a bundle: format, region id, the certificate issued by the bundle's CA for that
 * region, the key matching the certificate, a 32-byte federation key.
 */
export function decodeBundle(text: string): RegionBundle {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new PkiError('invalid', 'not a federation bundle (not JSON)');
  }
  if (raw.format !== BUNDLE_FORMAT) throw new PkiError('invalid', `not a ${BUNDLE_FORMAT} file`);
  const { region, cert, key, ca, federationKey } = raw;
  if (
    typeof region !== 'string' ||
    typeof cert !== 'string' ||
    typeof key !== 'string' ||
    typeof ca !== 'string' ||
    typeof federationKey !== 'string'
  ) {
    throw new PkiError('invalid', 'federation bundle: missing fields');
  }
  const bundle: RegionBundle = {
    region,
    certPem: cert,
    keyPem: key,
    caCertPem: ca,
    federationKey: Buffer.from(federationKey, 'base64'),
  };
  checkRegionTls(bundle);
  if (bundle.federationKey.length !== 32)
    throw new PkiError('invalid', 'federation bundle: key is not 32 bytes');
  return bundle;
}

/** Writes the bundle (mode 0600; refuses to overwrite an existing file). */
export async function writeRegionBundle(file: string, bundle: RegionBundle): Promise<void> {
  await writeExclusive(resolve(file), encodeBundle(bundle), 'a bundle');
}

export async function readRegionBundle(file: string): Promise<RegionBundle> {
  return decodeBundle(await readFile(file, 'utf8'));
}

export interface InstallOptions {
  /**
   * Replace a different `federation.key` already in the data dir. Secrets sealed with the old key (in a
   * directory the region had while standalone) can no longer be opened; the replica from the hub replaces
   * that directory anyway. Default false: a different key is refused (code `key-conflict`).
   */
  replaceKey?: boolean;
  logger?: Logger;
}

/**
 * `federation join <bundle>`: installs a bundle (a file path or a decoded bundle) into `dataDir`: CA
 * certificate, region certificate and key (0600), and the federation key. Refuses a bundle of another
 * federation when a CA is already installed.
 */
export async function installRegionBundle(
  dataDir: string,
  source: string | RegionBundle,
  opts: InstallOptions = {},
): Promise<{ region: string; paths: ReturnType<typeof federationPaths> }> {
  const bundle = typeof source === 'string' ? await readRegionBundle(source) : source;
  checkRegionTls(bundle);
  const paths = federationPaths(dataDir);
  const installedCa = await readFile(paths.caCert, 'utf8').catch(() => undefined);
  if (installedCa !== undefined && !sameCertificate(installedCa, bundle.caCertPem)) {
    throw new PkiError(
      'untrusted',
      `${paths.caCert} holds another federation's CA; this bundle is not for it`,
    );
  }
  const installedKey = await readFile(paths.federationKey, 'utf8').catch(() => undefined);
  if (installedKey !== undefined && !opts.replaceKey) {
    const current = Buffer.from(installedKey.trim(), 'base64');
    if (!current.equals(bundle.federationKey)) {
      throw new PkiError(
        'key-conflict',
        `${paths.federationKey} holds another key; secrets sealed with it would become unreadable (replace it explicitly)`,
      );
    }
  }
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await writeAtomic(paths.caCert, bundle.caCertPem, 0o644);
  await writeAtomic(paths.regionKey, bundle.keyPem, 0o600);
  await writeAtomic(paths.regionCert, bundle.certPem, 0o644);
  await writeAtomic(paths.federationKey, `${bundle.federationKey.toString('base64')}\n`, 0o600);
  if (opts.logger) {
    logEvent(opts.logger, 'federation.bundle_installed', {
      region: bundle.region,
      ca: new NodeX509(bundle.caCertPem).subject,
    });
  }
  return { region: bundle.region, paths };
}

/** This region's TLS material for the federation channel, as installed by `join` (or by `init` + issue). */
export async function loadRegionTls(dataDir: string): Promise<RegionTls> {
  const paths = federationPaths(dataDir);
  let tls: Omit<RegionTls, 'region'>;
  try {
    tls = {
      certPem: await readFile(paths.regionCert, 'utf8'),
      keyPem: await readFile(paths.regionKey, 'utf8'),
      caCertPem: await readFile(paths.caCert, 'utf8'),
    };
  } catch {
    throw new PkiError('missing', `no region certificate in ${paths.dir} (run \`delegato federation join\`)`);
  }
  const region = verifyPeerCertificate(tls.certPem, tls.caCertPem).region;
  return { region, ...tls };
}

/**
 * Verifies a certificate (PEM or DER) against the federation CA: signed by it, within its validity, a
 * region certificate; returns the region id. Throws `PkiError` (`untrusted` or `invalid`) otherwise.
 */
export function verifyPeerCertificate(
  cert: string | Buffer,
  caCertPem: string,
  opts: { now?: Date } = {},
): { region: string } {
  let peer: NodeX509;
  let ca: NodeX509;
  try {
    peer = new NodeX509(cert);
    ca = new NodeX509(caCertPem);
  } catch {
    throw new PkiError('invalid', 'not a certificate');
  }
  if (!peer.checkIssued(ca) || !peer.verify(ca.publicKey)) {
    throw new PkiError('untrusted', `certificate of ${peer.subject} is not issued by the federation CA`);
  }
  const now = (opts.now ?? new Date()).getTime();
  if (now < Date.parse(peer.validFrom) || now > Date.parse(peer.validTo)) {
    throw new PkiError('untrusted', `certificate of ${peer.subject} is outside its validity`);
  }
  if (peer.ca) throw new PkiError('invalid', 'a CA certificate is not a region certificate');
  const region = regionFromNames(peer.subjectAltName, commonName(peer.subject));
  if (!region) throw new PkiError('invalid', `certificate of ${peer.subject} names no federation region`);
  return { region };
}

/**
 * The region named by a peer certificate that TLS has already verified against the federation CA
 * (`socket.getPeerCertificate()`): its `<region>.federation.invalid` name, which must agree with its CN.
 */
export function regionOfPeerCertificate(peer: PeerCertificate | undefined): string | undefined {
  if (!peer?.subject) return undefined;
  const cn = peer.subject.CN;
  return regionFromNames(peer.subjectaltname, Array.isArray(cn) ? cn[0] : cn);
}

function regionFromNames(subjectAltName: string | undefined, cn: string | undefined): string | undefined {
  const regions = (subjectAltName ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('DNS:') && entry.endsWith(FEDERATION_NAME_SUFFIX))
    .map((entry) => entry.slice(4, -FEDERATION_NAME_SUFFIX.length));
  if (regions.length !== 1) return undefined;
  const region = regions[0];
  if (region === undefined || !REGION_ID.test(region) || region !== cn) return undefined;
  return region;
}

/** `<region>.federation.invalid`. */
export function regionName(region: string): string {
  return `${region}${FEDERATION_NAME_SUFFIX}`;
}

/** Checks that a certificate, its key and a CA belong together. */
function checkRegionTls(tls: RegionTls): void {
  const { region } = verifyPeerCertificate(tls.certPem, tls.caCertPem);
  if (region !== tls.region) {
    throw new PkiError('invalid', `the certificate is for region ${region}, not ${tls.region}`);
  }
  try {
    if (!new NodeX509(tls.certPem).checkPrivateKey(createPrivateKey(tls.keyPem))) throw new Error('mismatch');
  } catch {
    throw new PkiError('invalid', 'the private key does not match the region certificate');
  }
}

function commonName(subject: string): string | undefined {
  for (const line of subject.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return undefined;
}

function sameCertificate(a: string, b: string): boolean {
  try {
    return new NodeX509(a).fingerprint256 === new NodeX509(b).fingerprint256;
  } catch {
    return false;
  }
}

/** Creates `file` with mode 0600; refuses an existing one (code `exists`). */
async function writeExclusive(file: string, content: string, what: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new PkiError('exists', `${file} already exists; not overwriting ${what}`);
    }
    throw err;
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes through a temp file and rename, with `mode` set before the content lands. */
async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  await writeFile(tmp, content, { mode, flag: 'wx' });
  await chmod(tmp, mode);
  await rename(tmp, file);
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive
  return Buffer.from(bytes).toString('hex');
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

async function importKeyPem(pem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
  return crypto.subtle.importKey('pkcs8', der, EC, false, ['sign']);
}

let x509Module: Promise<X509Module> | undefined;

/**
 * @peculiar/x509 depends on tsyringe, which refuses to load without the `reflect-metadata` polyfill: load
 * the polyfill first, then the library, lazily.
 */
function loadX509(): Promise<X509Module> {
  x509Module ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(globalThis.crypto);
    return x509;
  })();
  return x509Module;
}
