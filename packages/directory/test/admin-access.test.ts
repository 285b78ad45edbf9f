/**
 * Per-admin access restrictions (allowed networks, pinned client certificate), TOTP secrets sealed in the
 * directory, and sign-in events in the audit log: real databases in temp dirs.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Actor,
  AdminAccessDenied,
  type Directory,
  DirectoryError,
  FederationKey,
  inNetworks,
  normaliseFingerprint,
  normaliseNetworks,
} from '../src/index.js';
import { operator, tempDirectory } from './helpers.js';

const PW = 'correct-horse-battery';
const FP = 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89';
const FP_HEX = FP.replace(/:/g, '').toLowerCase();
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function world(key = FederationKey.fromBytes(randomBytes(32))): Promise<Directory> {
  const { dir, cleanup } = await tempDirectory({ key });
  cleanups.push(cleanup);
  await dir.addDomain(operator, 'a.example');
  await dir.addAdmin(operator, { username: 'root', role: 'operator', password: PW });
  await dir.addAdmin(operator, {
    username: 'alice',
    role: 'domain-admin',
    domains: ['a.example'],
    password: PW,
  });
  return dir;
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AdminAccessDenied) return err.reason;
    if (err instanceof DirectoryError) return err.code;
    throw err;
  }
  return 'allowed';
}

describe('networks and fingerprints', () => {
  it.each([
    [['10.1.2.3/8'], ['10.0.0.0/8']],
    [[' 192.0.2.7 ', ''], ['192.0.2.7/32']],
    [['2001:DB8::1/32', '2001:db8::/32'], ['2001:db8::/32']],
    [['::1'], ['::1/128']],
  ])('normalises %j to %j', (input, out) => {
    expect(normaliseNetworks(input)).toEqual(out);
  });

  it.each(['10.0.0.0/33', 'example.org', '10.0.0', '::1/129', '1.2.3.4/8/9'])('refuses %s', (bad) => {
    expect(() => normaliseNetworks([bad])).toThrow(DirectoryError);
  });

  it('matches addresses, IPv4-mapped IPv6 as IPv4, and never garbage', () => {
    const nets = ['10.0.0.0/8', '2001:db8::/32'];
    expect(inNetworks('10.200.1.1', nets)).toBe(true);
    expect(inNetworks('::ffff:10.200.1.1', nets)).toBe(true);
    expect(inNetworks('2001:db8:1::5', nets)).toBe(true);
    expect(inNetworks('11.0.0.1', nets)).toBe(false);
    expect(inNetworks('2001:db9::1', nets)).toBe(false);
    expect(inNetworks('unknown', nets)).toBe(false);
  });

  it('normalises fingerprints as openssl and Node print them', () => {
    expect(normaliseFingerprint(FP)).toBe(FP_HEX);
    expect(normaliseFingerprint(`sha256 Fingerprint=${FP}`)).toBe(FP_HEX);
    expect(() => normaliseFingerprint('abc')).toThrow(DirectoryError);
  });
});

describe('per-admin access restrictions', () => {
  it('an allow-list refuses other addresses at sign-in and for an existing session', async () => {
    const dir = await world();
    const alice = await dir.actorForAdmin('alice', '198.51.100.1');
    expect(alice).toMatchObject({ kind: 'domain-admin', name: 'alice' });
    const root = (await dir.actorForAdmin('root', '127.0.0.1')) as Actor;
    const view = await dir.setAdminAccess(root, 'alice', {
      allowedNetworks: ['192.0.2.0/24', '2001:db8::/32'],
    });
    expect(view).toMatchObject({ allowedNetworks: ['192.0.2.0/24', '2001:db8::/32'], certFingerprint: null });

    expect(await dir.actorForAdmin('alice', '192.0.2.77')).toMatchObject({
      name: 'alice',
      from: '192.0.2.77',
    });
    expect(await dir.actorForAdmin('alice', '2001:db8::7')).toMatchObject({ name: 'alice' });
    expect(await refusal(dir.actorForAdmin('alice', '198.51.100.1'))).toBe('network');
    // The password is checked first: a wrong one is just null, a right one from elsewhere is refused.
    expect(await dir.authenticateAdmin('alice', 'wrong-password', '198.51.100.1')).toBeNull();
    expect(await refusal(dir.authenticateAdmin('alice', PW, '198.51.100.1'))).toBe('network');
    expect(await dir.authenticateAdmin('alice', PW, '192.0.2.1')).toMatchObject({ name: 'alice' });

    // Cleared: any address again.
    await dir.setAdminAccess(root, 'alice', { allowedNetworks: [] });
    expect(await dir.actorForAdmin('alice', '198.51.100.1')).toMatchObject({ name: 'alice' });
  });

  it('a pinned certificate must be presented, with exactly that fingerprint', async () => {
    const dir = await world();
    await dir.setAdminAccess(operator, 'alice', { certFingerprint: FP });
    expect((await dir.getAdmin(operator, 'alice')).certFingerprint).toBe(FP_HEX);
    expect(await refusal(dir.actorForAdmin('alice', '192.0.2.1'))).toBe('certificate');
    expect(await refusal(dir.actorForAdmin('alice', '192.0.2.1', { certFingerprint: null }))).toBe(
      'certificate',
    );
    expect(await refusal(dir.actorForAdmin('alice', '192.0.2.1', { certFingerprint: 'ff'.repeat(32) }))).toBe(
      'certificate',
    );
    expect(await dir.actorForAdmin('alice', '192.0.2.1', { certFingerprint: FP })).toMatchObject({
      name: 'alice',
    });
    expect(await dir.actorForAdmin('alice', '192.0.2.1', { certFingerprint: FP_HEX })).toMatchObject({
      name: 'alice',
    });
    // Other admins are not affected.
    expect(await dir.actorForAdmin('root', '192.0.2.1')).toMatchObject({ name: 'root' });
  });

  it('only operators change restrictions, their own included; nothing changes otherwise', async () => {
    const dir = await world();
    const alice = (await dir.actorForAdmin('alice', '192.0.2.1')) as Actor;
    expect(await refusal(dir.setAdminAccess(alice, 'alice', { allowedNetworks: ['0.0.0.0/0'] }))).toBe(
      'forbidden',
    );
    expect(await refusal(dir.setAdminAccess(alice, 'root', { allowedNetworks: ['192.0.2.0/24'] }))).toBe(
      'forbidden',
    );
    expect(await refusal(dir.getAdmin(alice, 'alice'))).toBe('forbidden');
    const admins = await dir.listAdmins(operator);
    expect(admins.map((a) => [a.username, a.allowedNetworks, a.certFingerprint])).toEqual([
      ['alice', [], null],
      ['root', [], null],
    ]);
    expect(await refusal(dir.setAdminAccess(operator, 'alice', { allowedNetworks: ['nonsense'] }))).toBe(
      'invalid',
    );
    expect(await refusal(dir.setAdminAccess(operator, 'nobody', { allowedNetworks: [] }))).toBe('not-found');
  });

  it('changes are audited with the operator and the new values', async () => {
    const dir = await world();
    await dir.setAdminAccess(operator, 'alice', { allowedNetworks: ['10.0.0.0/8'], certFingerprint: FP });
    const [row] = await dir.listAudit(operator, { limit: 1 });
    expect(row).toMatchObject({ action: 'admin.access', actor: 'operator:op', target: 'alice' });
    expect(JSON.parse(row?.details ?? '{}')).toEqual({
      allowedNetworks: ['10.0.0.0/8'],
      certFingerprint: FP_HEX,
    });
  });
});

describe('TOTP secrets in the directory', () => {
  const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

  it('are sealed with the federation key, readable by another region with the same key', async () => {
    const key = FederationKey.fromBytes(randomBytes(32));
    const dir = await world(key);
    const alice = (await dir.actorForAdmin('alice', '192.0.2.1')) as Actor;
    await dir.setAdminTotpSecret(alice, 'alice', SECRET);
    expect(await dir.adminTotpSecret('alice')).toBe(SECRET);
    expect((await dir.getAdmin(operator, 'alice')).totp).toBe(true);
    const raw = (await (
      await dir.engine.raw.prepare("SELECT totp_secret FROM admins WHERE username = 'alice'")
    ).all()) as Array<{ totp_secret: string }>;
    expect(raw[0]?.totp_secret).toMatch(/^v1:/);
    expect(raw[0]?.totp_secret).not.toContain(SECRET);
    expect(key.decrypt(raw[0]?.totp_secret ?? '')).toBe(SECRET);
    const [audit] = await dir.listAudit(operator, { limit: 1 });
    expect(audit).toMatchObject({ action: 'admin.totp-on', actor: 'domain-admin:alice', target: 'alice' });
    expect(JSON.stringify(audit)).not.toContain(SECRET);
  });

  it('an admin sets only their own; operators may reset anyone', async () => {
    const dir = await world();
    const alice = (await dir.actorForAdmin('alice', '192.0.2.1')) as Actor;
    await dir.setAdminTotpSecret(operator, 'root', SECRET);
    expect(await refusal(dir.setAdminTotpSecret(alice, 'root', null))).toBe('forbidden');
    expect(await dir.adminTotpSecret('root')).toBe(SECRET);
    expect(await refusal(dir.setAdminTotpSecret(alice, 'alice', 'not base32!'))).toBe('invalid');
    await dir.setAdminTotpSecret(operator, 'root', null);
    expect(await dir.adminTotpSecret('root')).toBeNull();
    expect(await dir.adminTotpSecret('nobody')).toBeNull();
  });
});

describe('sign-in events', () => {
  it('are written to the audit log with actor and client address', async () => {
    const dir = await world();
    await dir.recordAuthEvent({
      action: 'auth.signin-failed',
      actor: 'anonymous',
      from: '203.0.113.9',
      target: 'alice',
      details: { reason: 'password' },
    });
    const [row] = await dir.listAudit(operator, { limit: 1 });
    expect(row).toMatchObject({
      action: 'auth.signin-failed',
      actor: 'anonymous',
      actorFrom: '203.0.113.9',
      target: 'alice',
      domain: null,
    });
  });
});
