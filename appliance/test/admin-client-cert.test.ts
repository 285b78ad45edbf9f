/**
 * TLS client certificates on the admin listener, against the real appliance (`admin.clientCertificates`,
 * `admin.clientCa`): certificates made with the openssl command line (two CAs), a real HTTPS client
 * presenting them, and per-admin pinned fingerprints in the directory.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClientCa } from '../src/services/admin-http.js';
import { OP, OPERATOR, OPERATOR_PASSWORD, startTestAppliance } from './admin-support.js';

interface Pem {
  cert: string;
  key: string;
  fingerprint: string;
}

const work = tempDir('delegato-client-cert-');
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: work.path, stdio: 'pipe' });

/** A CA: a P-256 key and a self-signed CA certificate. */
function makeCa(name: string): { certFile: string; keyFile: string } {
  const keyFile = join(work.path, `${name}.key`);
  const certFile = join(work.path, `${name}.pem`);
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ); // prettier-ignore
  return { certFile, keyFile };
}

/** A client certificate for `cn` issued by `ca`. */
function makeClient(ca: { certFile: string; keyFile: string }, name: string, cn: string): Pem {
  const keyFile = join(work.path, `${name}.key`);
  const csrFile = join(work.path, `${name}.csr`);
  const certFile = join(work.path, `${name}.pem`);
  const extFile = join(work.path, `${name}.ext`);
  writeFileSync(extFile, 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  openssl(
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    keyFile,
    '-out',
    csrFile,
  ); // prettier-ignore
  openssl(
    'x509',
    '-req',
    '-in',
    csrFile,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    extFile,
    '-out',
    certFile,
  ); // prettier-ignore
  const cert = readFileSync(certFile, 'utf8');
  return {
    cert,
    key: readFileSync(keyFile, 'utf8'),
    fingerprint: new X509Certificate(cert).fingerprint256,
  };
}

const caA = makeCa('ca-a');
const caB = makeCa('ca-b');
const alice = makeClient(caA, 'alice', 'alice');
const colleague = makeClient(caA, 'colleague', 'colleague');
// Another CA issuing a certificate with the same name: it must not count.
const forged = makeClient(caB, 'forged', 'alice');

afterAll(() => work.remove());

interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTPS request on a fresh connection, presenting `client` (or no certificate). */
function https(
  origin: string,
  method: string,
  path: string,
  opts: { client?: Pem; json?: unknown; bearer?: string } = {},
): Promise<Res> {
  const url = new URL(path, origin);
  if (url.hostname !== '127.0.0.1') throw new Error('loopback only');
  const headers: Record<string, string> = {};
  const body = opts.json === undefined ? undefined : JSON.stringify(opts.json);
  if (body) headers['content-type'] = 'application/json';
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers,
        agent: false,
        // The appliance's generated server certificate is self-signed; the client side is what is tested.
        rejectUnauthorized: false,
        ...(opts.client ? { cert: opts.client.cert, key: opts.client.key } : {}),
      },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () =>
          resolve({
            status: r.statusCode ?? 0,
            headers: r.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        r.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const tokenFor = (origin: string, username: string, password: string, client?: Pem) =>
  https(origin, 'POST', '/api/v1/tokens', {
    json: { username, password },
    ...(client ? { client } : {}),
  });

describe('admin.clientCertificates = optional', () => {
  let t: Awaited<ReturnType<typeof startTestAppliance>>;

  beforeAll(async () => {
    t = await startTestAppliance('delegato-cc-optional-', {
      DELEGATO_ADMIN_CLIENT_CERTIFICATES: 'optional',
      DELEGATO_ADMIN_CLIENT_CA: caA.certFile,
    });
    const d = t.app.directory;
    await d.addAdmin(OP, { username: 'pinned', role: 'operator', password: OPERATOR_PASSWORD });
    await d.setAdminAccess(OP, 'pinned', { certFingerprint: alice.fingerprint });
  });
  afterAll(async () => t?.stop());

  it('admins without a pinned certificate sign in with or without one', async () => {
    expect((await tokenFor(t.origin, OPERATOR, OPERATOR_PASSWORD)).status).toBe(201);
    expect((await tokenFor(t.origin, OPERATOR, OPERATOR_PASSWORD, forged)).status).toBe(201);
    expect((await https(t.origin, 'GET', '/login')).status).toBe(200);
  });

  it('a pinned admin needs exactly that certificate, issued by the configured CA', async () => {
    expect((await tokenFor(t.origin, 'pinned', OPERATOR_PASSWORD)).status).toBe(401);
    // Right CA, wrong certificate.
    expect((await tokenFor(t.origin, 'pinned', OPERATOR_PASSWORD, colleague)).status).toBe(401);
    // Another CA, same subject.
    expect((await tokenFor(t.origin, 'pinned', OPERATOR_PASSWORD, forged)).status).toBe(401);
    const ok = await tokenFor(t.origin, 'pinned', OPERATOR_PASSWORD, alice);
    expect(ok.status).toBe(201);
    const token = JSON.parse(ok.body).token as string;

    expect((await https(t.origin, 'GET', '/api/v1/domains', { bearer: token, client: alice })).status).toBe(
      200,
    );
    // The token on a connection without the certificate, or with another one: 403, nothing changes.
    const before = await t.app.directory.listDomains(OP);
    for (const client of [undefined, colleague, forged]) {
      const r = await https(t.origin, 'POST', '/api/v1/domains', {
        bearer: token,
        json: { name: 'stolen.example' },
        ...(client ? { client } : {}),
      });
      expect(r.status).toBe(403);
    }
    expect(await t.app.directory.listDomains(OP)).toEqual(before);
    const reasons = (await t.app.directory.listAudit(OP, { limit: 100 }))
      .filter((r) => r.action === 'auth.signin-failed' && r.target === 'pinned')
      .map((r) => JSON.parse(r.details ?? '{}').reason);
    expect(reasons).toEqual(['certificate', 'certificate', 'certificate']);
  });

  it('a fingerprint pinned to a certificate of another CA never matches', async () => {
    await t.app.directory.setAdminAccess(OP, 'pinned', { certFingerprint: forged.fingerprint });
    expect((await tokenFor(t.origin, 'pinned', OPERATOR_PASSWORD, forged)).status).toBe(401);
    await t.app.directory.setAdminAccess(OP, 'pinned', { certFingerprint: alice.fingerprint });
  });
});

describe('admin.clientCertificates = required', () => {
  let t: Awaited<ReturnType<typeof startTestAppliance>>;

  beforeAll(async () => {
    t = await startTestAppliance('delegato-cc-required-', {
      DELEGATO_ADMIN_CLIENT_CERTIFICATES: 'required',
      DELEGATO_ADMIN_CLIENT_CA: caA.certFile,
    });
  });
  afterAll(async () => t?.stop());

  it('answers 403 without a valid certificate, except /healthz', async () => {
    expect((await https(t.origin, 'GET', '/healthz')).status).toBe(200);
    for (const path of ['/login', '/api/v1/openapi.json', '/assets/admin.css', '/nowhere']) {
      expect((await https(t.origin, 'GET', path)).status, path).toBe(403);
      expect((await https(t.origin, 'GET', path, { client: forged })).status, path).toBe(403);
    }
    expect((await tokenFor(t.origin, OPERATOR, OPERATOR_PASSWORD, forged)).status).toBe(403);
    expect((await https(t.origin, 'GET', '/login', { client: colleague })).status).toBe(200);
    expect((await tokenFor(t.origin, OPERATOR, OPERATOR_PASSWORD, colleague)).status).toBe(201);
  });
});

describe('adminClientCa', () => {
  it('is needed unless off, and must hold a certificate', async () => {
    expect(await adminClientCa({ admin: cfg('off') })).toBeUndefined();
    await expect(adminClientCa({ admin: cfg('optional') })).rejects.toThrow(/admin\.clientCa/);
    await expect(adminClientCa({ admin: cfg('required', join(work.path, 'missing.pem')) })).rejects.toThrow(
      /cannot read/,
    );
    await expect(adminClientCa({ admin: cfg('required', caA.keyFile) })).rejects.toThrow(
      /no PEM certificate/,
    );
    expect(await adminClientCa({ admin: cfg('required', caA.certFile) })).toContain('BEGIN CERTIFICATE');
  });
});

function cfg(mode: 'off' | 'optional' | 'required', clientCa?: string) {
  return {
    requireTotp: false,
    allowedNetworks: '',
    clientCertificates: mode,
    ...(clientCa ? { clientCa } : {}),
  };
}
