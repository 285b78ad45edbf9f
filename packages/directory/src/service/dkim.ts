/**
 * DKIM signing keys (RFC 6376; Ed25519 of RFC 8463): every hosted domain signs with two keys at once, an
 * Ed25519 and an RSA-2048 one (receivers that do not know Ed25519 yet check the RSA signature, RFC 8463 §6).
 * Keys are directory data: private keys sealed with the federation key (as CRAM-MD5 secrets,
 * credentials.ts), so every region signs for every domain.
 *
 * Life of a key: `pending` (published, not signing yet: `dkim rotate --prepare`) → `active` (signs) →
 * `previous` after a rotation (no longer signs, still published so that mail in flight verifies) →
 * `retired` by the operator (the DNS record may go). A domain's first keys are `active` at once (the
 * domain's records are published with them). See docs/message-authentication.md.
 */
import { generateKeyPair as generateKeyPairCb, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { FederationKey } from '../credentials.js';
import type { DirectoryDb } from '../engine.js';
import { conflict, invalid, notFound } from '../errors.js';
import { dkimKeys, domains } from '../schema.js';
import { type Actor, requireOperator } from '../scope.js';
import { type DirectoryContext, domainRow, newId, scopedDomain } from './context.js';
import type { ChangeContext } from './writer.js';

const generateKeyPair = promisify(generateKeyPairCb);

export type DkimAlgorithm = 'ed25519' | 'rsa';
export type DkimKeyState = 'pending' | 'active' | 'previous' | 'retired';

/** What an admin sees of a key: never the private key. */
export interface DkimKeyView {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  state: DkimKeyState;
  createdAt: string;
  retiredAt: string | null;
  /** The record's owner name: `<selector>._domainkey.<domain>` (RFC 6376 §3.6.2.1). */
  dnsName: string;
  /** The TXT record's value (RFC 6376 §3.6.1; `k=ed25519`, RFC 8463 §4). */
  txt: string;
}

/** A key the mail side signs with (the private key opened with the federation key). */
export interface DkimSigningKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  /** PKCS#8 PEM. */
  privateKey: string;
}

interface NewKey {
  selector: string;
  algorithm: DkimAlgorithm;
  publicKey: string;
  privateKeySealed: string;
}

/** The `p=` value: raw 32 bytes for Ed25519 (RFC 8463 §4.2), the SubjectPublicKeyInfo DER for RSA. */
function publicValue(algorithm: DkimAlgorithm, key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return (algorithm === 'ed25519' ? der.subarray(der.length - 32) : der).toString('base64');
}

/** `<selector>` names: letters, digits and hyphens, unique per domain (a timestamp to the second). */
function selectorFor(algorithm: DkimAlgorithm, at: Date): string {
  const stamp = at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${algorithm === 'ed25519' ? 'ed' : 'rsa'}${stamp}`;
}

/** One Ed25519 and one RSA-2048 key, private keys sealed. Generated before a change's transaction. */
export async function generateDkimKeys(key: FederationKey, at: Date): Promise<NewKey[]> {
  const out: NewKey[] = [];
  for (const algorithm of ['ed25519', 'rsa'] as const) {
    const pair =
      algorithm === 'ed25519'
        ? await generateKeyPair('ed25519')
        : await generateKeyPair('rsa', { modulusLength: 2048 });
    const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    out.push({
      selector: selectorFor(algorithm, at),
      algorithm,
      publicKey: publicValue(algorithm, pair.publicKey),
      privateKeySealed: key.encrypt(pem),
    });
  }
  return out;
}

/** Inserts keys for a domain inside a change's transaction (domain.add, dkim.rotate, dkim.ensure). */
export async function insertDkimKeys(
  tx: DirectoryDb,
  domainId: string,
  keys: NewKey[],
  state: DkimKeyState,
  now: string,
): Promise<void> {
  for (const k of keys)
    await tx.insert(dkimKeys).values({ id: newId(), domainId, ...k, state, createdAt: now, retiredAt: null });
}

export function dkimTxt(algorithm: DkimAlgorithm, publicKey: string): string {
  return `v=DKIM1; k=${algorithm}; p=${publicKey}`;
}

function view(domain: string, row: typeof dkimKeys.$inferSelect): DkimKeyView {
  const algorithm = row.algorithm as DkimAlgorithm;
  return {
    domain,
    selector: row.selector,
    algorithm,
    state: row.state as DkimKeyState,
    createdAt: row.createdAt,
    retiredAt: row.retiredAt ?? null,
    dnsName: `${row.selector}._domainkey.${domain}`,
    txt: dkimTxt(algorithm, row.publicKey),
  };
}

/** A domain's keys, newest first within each state (its admins and operators: they publish the records). */
export async function listDkimKeys(
  ctx: DirectoryContext,
  actor: Actor,
  domain: string,
): Promise<DkimKeyView[]> {
  const row = await scopedDomain(ctx.db, actor, domain);
  const rows = await ctx.db
    .select()
    .from(dkimKeys)
    .where(eq(dkimKeys.domainId, row.id))
    .orderBy(asc(dkimKeys.createdAt), asc(dkimKeys.selector));
  return rows.map((r) => view(row.name, r));
}

/**
 * The keys that sign mail of `domain` now (`active`), private keys opened; `[]` for a domain that is not
 * hosted or has none. The mail side's read: no actor.
 */
export async function signingKeys(ctx: DirectoryContext, domain: string): Promise<DkimSigningKey[]> {
  const [d] = await ctx.db.select().from(domains).where(eq(domains.name, domain.toLowerCase()));
  if (!d) return [];
  const rows = await ctx.db
    .select()
    .from(dkimKeys)
    .where(and(eq(dkimKeys.domainId, d.id), eq(dkimKeys.state, 'active')))
    .orderBy(asc(dkimKeys.algorithm));
  return rows.map((r) => ({
    domain: d.name,
    selector: r.selector,
    algorithm: r.algorithm as DkimAlgorithm,
    privateKey: ctx.options.key.decrypt(r.privateKeySealed),
  }));
}

/** What a rotation did: selectors by their new state. */
export interface Rotation {
  domain: string;
  active: string[];
  pending: string[];
  previous: string[];
}

/**
 * `dkim.rotate` (operators): with `prepare`, new keys are created `pending` (publish their records, they do
 * not sign yet). Without it, pending keys become `active` and the active ones `previous`; when there are no
 * pending keys, new ones are created and take over at once (the records must be published right away).
 * The previous keys stay published until `dkim.retire`.
 */
export async function rotateDkimKeys(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { domain: string; prepare?: boolean },
): Promise<Rotation> {
  requireOperator(change.actor, 'rotate DKIM keys');
  const d = await domainRow(ctx.db, input.domain.toLowerCase());
  const existing = await ctx.db.select().from(dkimKeys).where(eq(dkimKeys.domainId, d.id));
  const pending = existing.filter((k) => k.state === 'pending');
  const active = existing.filter((k) => k.state === 'active');
  if (input.prepare && pending.length > 0)
    throw conflict(
      `domain ${d.name} already has pending keys: run rotate without --prepare to activate them`,
    );
  const fresh = pending.length === 0 ? await generateDkimKeys(ctx.options.key, ctx.now()) : [];
  const now = ctx.nowIso();
  return change.commit<Rotation>({ action: 'dkim.rotate', target: d.name, domain: d.name }, async (tx) => {
    if (input.prepare) {
      await insertDkimKeys(tx, d.id, fresh, 'pending', now);
      const names = fresh.map((k) => k.selector);
      return {
        result: { domain: d.name, active: active.map((k) => k.selector), pending: names, previous: [] },
        details: { pending: names },
      };
    }
    if (active.length > 0)
      await tx
        .update(dkimKeys)
        .set({ state: 'previous' })
        .where(
          inArray(
            dkimKeys.id,
            active.map((k) => k.id),
          ),
        );
    let activated: string[];
    if (pending.length > 0) {
      await tx
        .update(dkimKeys)
        .set({ state: 'active' })
        .where(
          inArray(
            dkimKeys.id,
            pending.map((k) => k.id),
          ),
        );
      activated = pending.map((k) => k.selector);
    } else {
      await insertDkimKeys(tx, d.id, fresh, 'active', now);
      activated = fresh.map((k) => k.selector);
    }
    const previous = active.map((k) => k.selector);
    return {
      result: { domain: d.name, active: activated, pending: [], previous },
      details: { active: activated, previous },
    };
  });
}

/** `dkim.retire` (operators): a `previous` key is retired (its DNS record may be removed). */
export async function retireDkimKey(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { domain: string; selector: string },
): Promise<{ domain: string; selector: string }> {
  requireOperator(change.actor, 'retire DKIM keys');
  const d = await domainRow(ctx.db, input.domain.toLowerCase());
  const [k] = await ctx.db
    .select()
    .from(dkimKeys)
    .where(and(eq(dkimKeys.domainId, d.id), eq(dkimKeys.selector, input.selector)));
  if (!k) throw notFound(`domain ${d.name} has no DKIM key ${input.selector}`);
  if (k.state === 'active' || k.state === 'pending')
    throw invalid(`key ${input.selector} is ${k.state}: rotate first, then retire the previous keys`);
  if (k.state === 'retired') return { domain: d.name, selector: k.selector };
  const now = ctx.nowIso();
  return change.commit(
    { action: 'dkim.retire', target: `${k.selector}._domainkey.${d.name}`, domain: d.name },
    async (tx) => {
      await tx.update(dkimKeys).set({ state: 'retired', retiredAt: now }).where(eq(dkimKeys.id, k.id));
      return { result: { domain: d.name, selector: k.selector } };
    },
  );
}

/**
 * `dkim.ensure` (operators; the one-time backfill for domains added before DKIM existed): every domain
 * (or the one named) without active keys gets a new pair. Returns the domains that got keys.
 */
export async function ensureDkimKeys(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { domain?: string },
): Promise<{ created: string[] }> {
  requireOperator(change.actor, 'create DKIM keys');
  const all = input.domain
    ? [await domainRow(ctx.db, input.domain.toLowerCase())]
    : await ctx.db.select().from(domains).orderBy(asc(domains.name));
  const withKeys = new Set(
    (
      await ctx.db
        .select({ domainId: dkimKeys.domainId })
        .from(dkimKeys)
        .where(inArray(dkimKeys.state, ['active', 'pending']))
    ).map((r) => r.domainId),
  );
  const missing = all.filter((d) => !withKeys.has(d.id));
  if (missing.length === 0) return { created: [] };
  const fresh = new Map<string, NewKey[]>();
  for (const d of missing) fresh.set(d.id, await generateDkimKeys(ctx.options.key, ctx.now()));
  const now = ctx.nowIso();
  const names = missing.map((d) => d.name);
  return change.commit({ action: 'dkim.ensure', target: names.join(','), domain: null }, async (tx) => {
    for (const d of missing) await insertDkimKeys(tx, d.id, fresh.get(d.id) ?? [], 'active', now);
    return { result: { created: names }, details: { domains: names } };
  });
}
