/**
 * TLS client certificates on the admin listener, against the real appliance (`admin.clientCertificates`,
 * `admin.clientCa`): certificates made with the openssl command line (two CAs), a real HTTPS client
 * presenting them, and per-admin pinned fingerprints in the directory.
 */
import { join } from 'node:path';
import { type ClientCert, clientCert, tempDir, testCa } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClientCa } from '../src/services/admin-http.js';
import { OP, OPERATOR, OPERATOR_PASSWORD, startTestAppliance, WebClient } from './admin-support.js';

const work = tempDir('delegato-client-cert-');
const caA = testCa(work.path, 'ca-a');
const caB = testCa(work.path, 'ca-b');
const alice = clientCert(caA, 'alice', 'alice');
const colleague = clientCert(caA, 'colleague', 'colleague');
// Another CA issuing a certificate with the same name: it must not count.
const forged = clientCert(caB, 'forged', 'alice');

afterAll(() => work.remove());

/** One HTTPS request on a fresh connection, presenting `client` (or no certificate). */
function https(
  origin: string,
  method: string,
  path: string,
  opts: { client?: ClientCert; json?: unknown; bearer?: string } = {},
) {
  return new WebClient(origin, opts.client).fetch(method, path, {
    cookies: false,
    ...(opts.json === undefined ? {} : { json: opts.json }),
    ...(opts.bearer ? { bearer: opts.bearer } : {}),
  });
}

const tokenFor = (origin: string, username: string, password: string, client?: ClientCert) =>
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
