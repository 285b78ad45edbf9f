import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@delegato/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createFederationCa,
  decodeBundle,
  encodeBundle,
  federationPaths,
  installRegionBundle,
  issueRegionBundle,
  loadRegionTls,
  PkiError,
  readFederationKey,
  readRegionBundle,
  verifyPeerCertificate,
  writeRegionBundle,
} from '../src/index.js';
import { capturingLogger, testFederation } from './support.js';

const dirs: { remove: () => void }[] = [];
function dir(): string {
  const d = tempDir('delegato-pki-');
  dirs.push(d);
  return d.path;
}
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const mode = (file: string) => statSync(file).mode & 0o777;
const KEY = Buffer.alloc(32, 7);

describe('federation PKI', () => {
  it('init creates the CA once, with its key mode 0600, and logs it', async () => {
    const writer = dir();
    const { logger, lines } = capturingLogger();
    const ca = await createFederationCa(writer, { logger });
    const paths = federationPaths(writer);
    expect(mode(paths.caKey)).toBe(0o600);
    expect(mode(paths.dir)).toBe(0o700);
    const cert = new X509Certificate(readFileSync(paths.caCert));
    expect(cert.ca).toBe(true);
    expect(cert.subject).toContain('CN=Delegato federation CA');
    expect(cert.checkIssued(cert)).toBe(true);
    expect(ca.certPem).toBe(readFileSync(paths.caCert, 'utf8'));
    await expect(createFederationCa(writer)).rejects.toMatchObject({ code: 'exists' });
    await new Promise((r) => setImmediate(r));
    expect(lines.some((l) => l.event === 'federation.ca_created')).toBe(true);
  });

  it('a region certificate: CN, SANs, serverAuth + clientAuth, verified against the CA', async () => {
    const { ca, region } = await testFederation(dir());
    const north = await region('north', ['north.mail.example', '127.0.1.1']);
    const cert = new X509Certificate(north.certPem);
    expect(cert.subject).toContain('CN=north');
    expect(cert.subjectAltName).toBe(
      'DNS:north.federation.invalid, DNS:north.mail.example, IP Address:127.0.1.1',
    );
    expect(cert.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(cert.ca).toBe(false);
    expect(verifyPeerCertificate(north.certPem, ca.certPem)).toEqual({ region: 'north' });
    // DER works too (what a TLS socket hands over as `raw`).
    expect(verifyPeerCertificate(cert.raw, ca.certPem)).toEqual({ region: 'north' });
    await expect(region('North_1')).rejects.toBeInstanceOf(PkiError);
  });

  it('refuses a certificate of another CA, an expired one, and the CA itself', async () => {
    const ours = await testFederation(dir());
    const theirs = await testFederation(dir(), 'Foreign CA');
    const foreign = await theirs.region('north');
    expect(() => verifyPeerCertificate(foreign.certPem, ours.ca.certPem)).toThrow(
      /not issued by the federation CA/,
    );
    const north = await ours.region('north');
    expect(() =>
      verifyPeerCertificate(north.certPem, ours.ca.certPem, { now: new Date(Date.now() + 900 * 86_400_000) }),
    ).toThrow(/outside its validity/);
    expect(() => verifyPeerCertificate(ours.ca.certPem, ours.ca.certPem)).toThrow(PkiError);
  });

  it('issue -> bundle file (0600, one file) -> join installs it in another data dir', async () => {
    const writer = dir();
    const south = dir();
    await createFederationCa(writer);
    const bundle = await issueRegionBundle(writer, {
      region: 'south',
      hosts: ['south.mail.example'],
      federationKey: KEY,
    });
    const file = join(dir(), 'south.bundle');
    await writeRegionBundle(file, bundle);
    expect(mode(file)).toBe(0o600);
    await expect(writeRegionBundle(file, bundle)).rejects.toMatchObject({ code: 'exists' });
    const text = readFileSync(file, 'utf8');
    expect(JSON.parse(text)).toMatchObject({ format: 'delegato-federation-bundle/1', region: 'south' });
    expect(decodeBundle(text)).toEqual(await readRegionBundle(file));

    const { logger, lines } = capturingLogger();
    const installed = await installRegionBundle(south, file, { logger });
    expect(installed.region).toBe('south');
    const paths = federationPaths(south);
    expect(mode(paths.regionKey)).toBe(0o600);
    expect(mode(paths.federationKey)).toBe(0o600);
    expect(mode(paths.caCert)).toBe(0o644);
    expect(readFileSync(paths.caCert, 'utf8')).toBe(bundle.caCertPem);
    // The federation key lands where the directory reads it (base64, as FederationKey.loadOrCreate writes).
    expect(await readFederationKey(south)).toEqual(KEY);
    const tls = await loadRegionTls(south);
    expect(tls.region).toBe('south');
    expect(verifyPeerCertificate(tls.certPem, readFileSync(federationPaths(writer).caCert, 'utf8'))).toEqual({
      region: 'south',
    });
    // The CA's key never leaves the writer.
    expect(() => statSync(paths.caKey)).toThrow();
    // Installing the same bundle again is harmless.
    await installRegionBundle(south, file);
    await new Promise((r) => setImmediate(r));
    expect(lines.some((l) => l.event === 'federation.bundle_installed' && l.region === 'south')).toBe(true);
  });

  it('join refuses a tampered bundle, another federation, and silently replacing a different key', async () => {
    const writer = dir();
    await createFederationCa(writer);
    const bundle = await issueRegionBundle(writer, { region: 'south', federationKey: KEY });
    const other = await issueRegionBundle(writer, { region: 'central', federationKey: KEY });

    expect(() => decodeBundle(encodeBundle({ ...bundle, keyPem: other.keyPem }))).toThrow(/does not match/);
    expect(() => decodeBundle(encodeBundle({ ...bundle, region: 'central' }))).toThrow(/for region south/);
    expect(() => decodeBundle(encodeBundle({ ...bundle, federationKey: Buffer.alloc(16) }))).toThrow(
      /32 bytes/,
    );
    expect(() => decodeBundle('{"format":"something else"}')).toThrow(PkiError);

    const foreignWriter = dir();
    await createFederationCa(foreignWriter, { name: 'Foreign CA' });
    const foreign = await issueRegionBundle(foreignWriter, { region: 'south', federationKey: KEY });
    const south = dir();
    await installRegionBundle(south, bundle);
    await expect(installRegionBundle(south, foreign)).rejects.toMatchObject({ code: 'untrusted' });

    // A standalone region already has its own federation.key.
    const standalone = dir();
    writeFileSync(join(standalone, 'federation.key'), `${Buffer.alloc(32, 1).toString('base64')}\n`, {
      mode: 0o600,
    });
    await expect(installRegionBundle(standalone, bundle)).rejects.toMatchObject({ code: 'key-conflict' });
    await installRegionBundle(standalone, bundle, { replaceKey: true });
    expect(await readFederationKey(standalone)).toEqual(KEY);
  });
});
