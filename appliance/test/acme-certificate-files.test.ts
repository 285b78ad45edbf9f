/**
 * Certificates by SNI from files the operator provides (tls.certificatesDir, certbot's live/ layout): each
 * TLS listener serves the certificate whose names cover the requested server name, exact or by a
 * wildcard one level up, and the default certificate otherwise; a directory that cannot be used is
 * skipped, not fatal.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { type ClientCert, clientCert, selfSignedCert, tempDir, testCa } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { ServerCertificates } from '../src/tls/certificates.js';
import { startApplianceIn } from './appliance-support.js';

let temp: ReturnType<typeof tempDir>;
let app: RunningAppliance;
const exact = selfSignedCert(['imap.files.example', 'pop.files.example']);
const wildcard = selfSignedCert(['*.wild.example']);
const adminName = selfSignedCert(['admin.files.example']);

function install(root: string, name: string, pair: { cert: string; key: string }) {
  mkdirSync(join(root, name), { recursive: true });
  writeFileSync(join(root, name, 'fullchain.pem'), pair.cert);
  writeFileSync(join(root, name, 'privkey.pem'), pair.key, { mode: 0o600 });
}

function peer(port: number, servername: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve(cert);
    });
    socket.once('error', reject);
  });
}

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
const portOf = (name: string) => app.listeners.find((l) => l.name === name)?.port ?? 0;

beforeAll(async () => {
  temp = tempDir('delegato-certfiles-');
  const dir = join(temp.path, 'certificates');
  install(dir, 'files.example', exact);
  install(dir, 'wild.example', wildcard);
  install(dir, 'admin.files.example', adminName);
  // A broken one: the key of another certificate.
  install(dir, 'broken.example', { cert: exact.cert, key: wildcard.key });
  app = await startApplianceIn(temp.path, { DELEGATO_TLS_CERTIFICATES_DIR: dir });
}, 60_000);

afterAll(async () => {
  await app?.stop();
  temp?.remove();
});

describe('tls.certificatesDir', () => {
  it('serves the certificate covering the requested name on IMAPS and POP3S', async () => {
    expect((await peer(portOf('imaps'), 'imap.files.example')).fingerprint256).toBe(fingerprint(exact.cert));
    expect((await peer(portOf('pop3s'), 'pop.files.example')).fingerprint256).toBe(fingerprint(exact.cert));
  });

  it('a wildcard covers one level: smtp.wild.example yes, a.b.wild.example no', async () => {
    expect((await peer(portOf('submissions'), 'smtp.wild.example')).fingerprint256).toBe(
      fingerprint(wildcard.cert),
    );
    const deeper = await peer(portOf('submissions'), 'a.b.wild.example');
    expect(deeper.fingerprint256).not.toBe(fingerprint(wildcard.cert));
    expect(deeper.fingerprint256).not.toBe(fingerprint(exact.cert));
  });

  it('an unknown name gets the default certificate', async () => {
    const other = await peer(portOf('imaps'), 'imap.unknown.example');
    expect([fingerprint(exact.cert), fingerprint(wildcard.cert)]).not.toContain(other.fingerprint256);
  });

  it('skips a directory whose key does not match, and says why', async () => {
    const certificates = new ServerCertificates({
      operatorDir: join(temp.path, 'certificates'),
      acmeDir: join(temp.path, 'none'),
    });
    await certificates.reload();
    expect(certificates.loaded.map((c) => c.names)).toEqual([
      ['admin.files.example'],
      ['imap.files.example', 'pop.files.example'],
      ['*.wild.example'],
    ]);
    expect(certificates.problems).toEqual([
      { dir: join(temp.path, 'certificates', 'broken.example'), error: expect.stringMatching(/not the key/) },
    ]);
    expect(certificates.certificateFor('IMAP.files.example')?.origin).toBe('operator');
  });
});

describe('tls.certificatesDir with admin client certificates required', () => {
  let admin: RunningAppliance;
  let client: ClientCert;

  beforeAll(async () => {
    const ca = testCa(temp.path, 'admin-ca');
    client = clientCert(ca, 'alice', 'alice');
    admin = await startApplianceIn(join(temp.path, 'admin'), {
      DELEGATO_TLS_CERTIFICATES_DIR: join(temp.path, 'certificates'),
      DELEGATO_ADMIN_CLIENT_CERTIFICATES: 'required',
      DELEGATO_ADMIN_CLIENT_CA: ca.certFile,
    });
  }, 60_000);

  afterAll(async () => admin?.stop());

  /** GET /login on the admin port with SNI `servername`, presenting `client` or no certificate. */
  const get = (servername: string, withCert: boolean) =>
    new Promise<{ status: number; fingerprint: string }>((resolve, reject) => {
      const port = admin.listeners.find((l) => l.name === 'admin')?.port ?? 0;
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/login',
          servername,
          rejectUnauthorized: false,
          agent: false,
          ...(withCert ? { cert: client.cert, key: client.key } : {}),
        },
        (res) => {
          res.resume();
          const socket = res.socket as import('node:tls').TLSSocket;
          resolve({ status: res.statusCode ?? 0, fingerprint: socket.getPeerCertificate().fingerprint256 });
        },
      );
      req.once('error', reject);
      req.end();
    });

  it('the certificate chosen by SNI still verifies client certificates against admin.clientCa', async () => {
    const withCert = await get('admin.files.example', true);
    expect(withCert.fingerprint).toBe(fingerprint(adminName.cert));
    expect(withCert.status).toBe(200);
    expect((await get('admin.files.example', false)).status).toBe(403);
  });
});
