import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTlsMaterial, TlsMaterialError } from '../src/tls/self-signed.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'delegato-tls-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const DAY_MS = 24 * 60 * 60 * 1000;

/** Serves TLS with cert/key on 127.0.0.1, connects trusting only `cert`, returns what the client saw. */
async function handshake(
  cert: string,
  key: string,
  servername: string,
): Promise<{ authorized: boolean; error: string | undefined; reply: string }> {
  const server = createServer({ cert, key }, (socket) => socket.end('hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve, reject) => {
      const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca: cert, servername }, () => {
        let reply = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          reply += chunk;
        });
        socket.on('end', () =>
          resolve({ authorized: socket.authorized, error: socket.authorizationError?.message, reply }),
        );
      });
      socket.on('error', reject);
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('ensureTlsMaterial', () => {
  it('generates a self-signed certificate that a TLS client trusting it accepts', async () => {
    const dataDir = join(await tempDir(), 'var');
    const material = await ensureTlsMaterial({ dataDir, hostnames: ['mail.example.test', '192.0.2.10'] });

    expect(material.created).toBe(true);
    expect(material.certFile).toBe(join(dataDir, 'tls', 'cert.pem'));
    expect(material.keyFile).toBe(join(dataDir, 'tls', 'key.pem'));
    expect(await readFile(material.certFile, 'utf8')).toBe(material.cert);
    expect(await readFile(material.keyFile, 'utf8')).toBe(material.key);
    expect(material.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);

    const result = await handshake(material.cert, material.key, 'localhost');
    expect(result).toEqual({ authorized: true, error: undefined, reply: 'hello' });
    // The configured hostname is in the certificate too.
    expect((await handshake(material.cert, material.key, 'mail.example.test')).authorized).toBe(true);
  });

  it('issues an ECDSA P-256 server certificate with the expected names and validity', async () => {
    const now = new Date('2030-01-15T12:00:00Z');
    const material = await ensureTlsMaterial({
      dataDir: await tempDir(),
      hostnames: ['Mail.Example.Test'],
      now,
    });
    const certificate = new X509Certificate(material.cert);

    expect(certificate.publicKey.asymmetricKeyType).toBe('ec');
    expect(certificate.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(certificate.subjectAltName?.split(', ')).toEqual([
      'DNS:mail.example.test',
      'DNS:localhost',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
    ]);
    expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // extended key usage: serverAuth
    expect(certificate.ca).toBe(false);
    expect(certificate.checkHost('mail.example.test')).toBe('mail.example.test');
    expect(certificate.checkIP('::1')).toBe('::1');
    const notBefore = new Date(certificate.validFrom).getTime();
    const notAfter = new Date(certificate.validTo).getTime();
    expect(notBefore).toBe(now.getTime() - DAY_MS);
    expect(notAfter - notBefore).toBe(825 * DAY_MS);

    // Node does not expose key usage bits; read them with @peculiar/x509 (loadable now: the module
    // under test has made sure a Reflect metadata implementation is present).
    const x509 = await import('@peculiar/x509');
    const parsed = new x509.X509Certificate(material.cert);
    expect(parsed.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(parsed.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
    expect(await parsed.isSelfSigned()).toBe(true);
  });

  it('keeps the key private: key 0600, tls directory 0700, no temp files left', async () => {
    const dataDir = await tempDir();
    const material = await ensureTlsMaterial({ dataDir, hostnames: [] });
    expect((await stat(material.keyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'tls'))).mode & 0o777).toBe(0o700);
    expect((await readdir(join(dataDir, 'tls'))).sort()).toEqual(['cert.pem', 'key.pem']);
  });

  it('reuses the files on the next call', async () => {
    const dataDir = await tempDir();
    const first = await ensureTlsMaterial({ dataDir, hostnames: ['a.example.test'] });
    const firstMtime = (await stat(first.certFile)).mtimeMs;
    const second = await ensureTlsMaterial({ dataDir, hostnames: ['a.example.test'] });

    expect(second.created).toBe(false);
    expect(second.cert).toBe(first.cert);
    expect(second.key).toBe(first.key);
    expect((await stat(second.certFile)).mtimeMs).toBe(firstMtime);
  });

  it('replaces an expired generated certificate, and a half-written pair', async () => {
    const dataDir = await tempDir();
    const old = await ensureTlsMaterial({ dataDir, hostnames: [], now: new Date('2020-01-01T00:00:00Z') });
    const renewed = await ensureTlsMaterial({ dataDir, hostnames: [] });
    expect(renewed.created).toBe(true);
    expect(renewed.cert).not.toBe(old.cert);
    expect(new Date(new X509Certificate(renewed.cert).validTo).getTime()).toBeGreaterThan(Date.now());

    await rm(renewed.certFile);
    const rebuilt = await ensureTlsMaterial({ dataDir, hostnames: [] });
    expect(rebuilt.created).toBe(true);
    expect(rebuilt.key).not.toBe(renewed.key);
    expect((await handshake(rebuilt.cert, rebuilt.key, 'localhost')).authorized).toBe(true);
  });

  it('refuses to overwrite generated files it cannot parse', async () => {
    const dataDir = await tempDir();
    const material = await ensureTlsMaterial({ dataDir, hostnames: [] });
    await writeFile(material.certFile, 'not a certificate\n');
    await expect(ensureTlsMaterial({ dataDir, hostnames: [] })).rejects.toThrow(
      /cert\.pem is not a PEM certificate/,
    );
    expect(await readFile(material.certFile, 'utf8')).toBe('not a certificate\n');
  });

  it('reads operator-provided files without generating anything', async () => {
    const source = await ensureTlsMaterial({ dataDir: await tempDir(), hostnames: [] });
    const dataDir = await tempDir();
    const provided = await ensureTlsMaterial({
      dataDir,
      certFile: source.certFile,
      keyFile: source.keyFile,
      hostnames: [],
    });
    expect(provided).toEqual({ ...source, created: false });
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('explains missing, mismatched or half-configured operator files', async () => {
    const dir = await tempDir();
    const one = await ensureTlsMaterial({ dataDir: join(dir, 'one'), hostnames: [] });
    const two = await ensureTlsMaterial({ dataDir: join(dir, 'two'), hostnames: [] });
    const missing = join(dir, 'absent.pem');

    await expect(
      ensureTlsMaterial({ dataDir: dir, certFile: missing, keyFile: one.keyFile, hostnames: [] }),
    ).rejects.toThrow(`tls.certFile: cannot read the TLS certificate ${missing}: file not found`);
    await expect(
      ensureTlsMaterial({ dataDir: dir, certFile: one.certFile, keyFile: missing, hostnames: [] }),
    ).rejects.toThrow(`tls.keyFile: cannot read the TLS private key ${missing}: file not found`);
    await expect(
      ensureTlsMaterial({ dataDir: dir, certFile: one.certFile, keyFile: two.keyFile, hostnames: [] }),
    ).rejects.toThrow(/is not the private key of the certificate/);
    await expect(
      ensureTlsMaterial({ dataDir: dir, certFile: one.certFile, hostnames: [] }),
    ).rejects.toBeInstanceOf(TlsMaterialError);
  });
});
