/**
 * DKIM keys as directory data (issue 18): created with a domain, sealed with the federation key (a second
 * directory with another key cannot open them; one with the same key can), rotated in two steps, retired,
 * backfilled, and readable only by the domain's own admins.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type Actor, DirectoryError, FederationKey } from '../src/index.js';
import { dkimKeys } from '../src/schema.js';
import { operator, tempDirectory } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function open(key = FederationKey.fromBytes(randomBytes(32))) {
  const t = await tempDirectory({ key });
  cleanups.push(t.cleanup);
  return t;
}

/** The public key of a TXT record's `p=` value (raw Ed25519, SPKI for RSA). */
function publicKeyOf(txt: string) {
  const p = /p=([A-Za-z0-9+/=]+)/.exec(txt)?.[1] ?? '';
  const raw = Buffer.from(p, 'base64');
  if (txt.includes('k=ed25519'))
    return createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]),
      format: 'der',
      type: 'spki',
    });
  return createPublicKey({ key: raw, format: 'der', type: 'spki' });
}

describe('DKIM keys', () => {
  it('are created with a domain: one Ed25519 and one RSA-2048 key whose records match the private keys', async () => {
    const { dir } = await open();
    await dir.addDomain(operator, 'uni.example');
    const keys = await dir.listDkimKeys(operator, 'uni.example');
    expect(keys.map((k) => [k.algorithm, k.state])).toEqual([
      ['ed25519', 'active'],
      ['rsa', 'active'],
    ]);
    const signing = await dir.dkimSigningKeys('UNI.example');
    expect(signing).toHaveLength(2);
    for (const k of keys) {
      expect(k.dnsName).toBe(`${k.selector}._domainkey.uni.example`);
      const priv = signing.find((s) => s.selector === k.selector)?.privateKey ?? '';
      const data = Buffer.from('message');
      const alg = k.algorithm === 'rsa' ? 'sha256' : null;
      const sig = sign(alg, data, createPrivateKey(priv));
      expect(verify(alg, data, publicKeyOf(k.txt), sig)).toBe(true);
    }
    const rsa = keys.find((k) => k.algorithm === 'rsa');
    expect(publicKeyOf(rsa?.txt ?? '').asymmetricKeyDetails?.modulusLength).toBe(2048);
    // Sealed: the stored private key is not PEM.
    const rows = await dir.db.select().from(dkimKeys);
    for (const r of rows) expect(r.privateKeySealed).toMatch(/^v1:/);
    expect(await dir.dkimSigningKeys('other.example')).toEqual([]);
  });

  it('rotate --prepare publishes pending keys, rotate activates them, retire lets the previous go', async () => {
    const { dir } = await open();
    await dir.addDomain(operator, 'uni.example');
    const first = (await dir.dkimSigningKeys('uni.example')).map((k) => k.selector).sort();
    await new Promise((r) => setTimeout(r, 1100)); // selectors carry the second
    const prepared = await dir.rotateDkimKeys(operator, 'uni.example', { prepare: true });
    expect(prepared.pending).toHaveLength(2);
    // Pending keys do not sign yet.
    expect((await dir.dkimSigningKeys('uni.example')).map((k) => k.selector).sort()).toEqual(first);
    const rotated = await dir.rotateDkimKeys(operator, 'uni.example');
    expect(rotated.active.sort()).toEqual([...prepared.pending].sort());
    expect(rotated.previous.sort()).toEqual(first);
    expect((await dir.dkimSigningKeys('uni.example')).map((k) => k.selector).sort()).toEqual(
      [...prepared.pending].sort(),
    );
    // An active key cannot be retired; a previous one can, once.
    await expect(dir.retireDkimKey(operator, 'uni.example', rotated.active[0] ?? '')).rejects.toMatchObject({
      code: 'invalid',
    });
    await dir.retireDkimKey(operator, 'uni.example', first[0] ?? '');
    const states = Object.fromEntries(
      (await dir.listDkimKeys(operator, 'uni.example')).map((k) => [k.selector, k.state]),
    );
    expect(states[first[0] ?? '']).toBe('retired');
    expect(states[first[1] ?? '']).toBe('previous');
    await expect(dir.retireDkimKey(operator, 'uni.example', 'nosuch')).rejects.toMatchObject({
      code: 'not-found',
    });
  });

  it('another region with the same federation key signs with them; a different key cannot open them', async () => {
    const bytes = randomBytes(32);
    const a = await open(FederationKey.fromBytes(bytes));
    await a.dir.addDomain(operator, 'uni.example');
    const [row] = await a.dir.db.select().from(dkimKeys);
    const sameKey = FederationKey.fromBytes(Buffer.from(bytes));
    expect(sameKey.decrypt(row?.privateKeySealed ?? '')).toMatch(/BEGIN PRIVATE KEY/);
    const other = FederationKey.fromBytes(randomBytes(32));
    expect(() => other.decrypt(row?.privateKeySealed ?? '')).toThrow();
  });

  it('domain admins see their own domain keys only and cannot rotate; the backfill covers domains without keys', async () => {
    const { dir } = await open();
    await dir.addDomain(operator, 'uni.example');
    await dir.addDomain(operator, 'other.example');
    const admin: Actor = { kind: 'domain-admin', name: 'alice', domains: ['uni.example'], from: '127.0.0.1' };
    expect(await dir.listDkimKeys(admin, 'uni.example')).toHaveLength(2);
    await expect(dir.listDkimKeys(admin, 'other.example')).rejects.toBeInstanceOf(DirectoryError);
    await expect(dir.listDkimKeys(admin, 'other.example')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(dir.rotateDkimKeys(admin, 'uni.example')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(dir.retireDkimKey(admin, 'other.example', 'x')).rejects.toMatchObject({ code: 'forbidden' });
    // A domain from before DKIM: its keys gone (as in a directory migrated to 0005), the backfill adds them.
    const { eq } = await import('drizzle-orm');
    const { domains } = await import('../src/schema.js');
    const [other] = await dir.db.select().from(domains).where(eq(domains.name, 'other.example'));
    await dir.engine.transaction(async (tx) => {
      await tx.delete(dkimKeys).where(eq(dkimKeys.domainId, other?.id ?? ''));
    });
    expect(await dir.ensureDkimKeys(operator)).toEqual({ created: ['other.example'] });
    expect(await dir.dkimSigningKeys('other.example')).toHaveLength(2);
    expect(await dir.ensureDkimKeys(operator)).toEqual({ created: [] });
    // Removing a domain removes its keys.
    await dir.removeDomain(operator, 'other.example');
    const left = await dir.db
      .select()
      .from(dkimKeys)
      .where(eq(dkimKeys.domainId, other?.id ?? ''));
    expect(left).toEqual([]);
  });
});
