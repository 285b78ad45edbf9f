/**
 * Read-side resolution: what a recipient address means (for SMTP RCPT) and which mailbox a login name
 * names (for SMTP AUTH, IMAP, POP3). Pure reads of the local replica; no actor needed.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { AddressingError, parseAddress } from './addressing/index.js';
import type { DirectoryDb } from './engine.js';
import { isExpired } from './expiry.js';
import { addresses, addressTargets, domains, mailboxes } from './schema.js';

export type MailboxRow = typeof mailboxes.$inferSelect;

export type AliasTarget =
  | { kind: 'mailbox'; address: string; mailboxId: string }
  | { kind: 'address'; address: string };

/** What mail to an address becomes. */
export type RecipientLookup =
  | { kind: 'invalid'; reason: string }
  | { kind: 'not-hosted'; domain: string }
  | { kind: 'unknown'; domain: string; region: string }
  | { kind: 'mailbox'; address: string; mailboxId: string; region: string; quotaBytes: number | null }
  | { kind: 'disabled'; address: string; reason: 'expired' | 'removed'; region: string }
  | { kind: 'ambiguous'; address: string; candidates: string[]; region: string }
  | { kind: 'alias'; address: string; targets: AliasTarget[]; region: string }
  | { kind: 'forward'; address: string; target: string; region: string }
  | { kind: 'list'; address: string; target: string; region: string }
  /** A built-in list (service/lists.ts): expanded by the MTA of its domain's region. */
  | { kind: 'mailing-list'; address: string; region: string };

export interface LookupContext {
  db: DirectoryDb;
  timezone: string;
  now: () => Date;
  /** Region id → region name. */
  regionName: (regionId: string) => Promise<string>;
}

/**
 * The key a mailbox's failed logins count on in the shared login limiter, whichever of its names was
 * typed (official address, alias, `username@domain`) and whichever protocol (IMAP, POP3, SMTP, web).
 */
export function mailboxAccountKey(mailboxId: string): string {
  return `mailbox:${mailboxId.toLowerCase()}`;
}

/** The targets of an alias row, local mailboxes shown by their official address. */
export async function targetsOf(db: DirectoryDb, addressId: string): Promise<AliasTarget[]> {
  const rows = await db
    .select({
      targetMailboxId: addressTargets.targetMailboxId,
      targetAddress: addressTargets.targetAddress,
      mailboxAddress: mailboxes.address,
    })
    .from(addressTargets)
    .leftJoin(mailboxes, eq(mailboxes.id, addressTargets.targetMailboxId))
    .where(eq(addressTargets.addressId, addressId))
    .orderBy(addressTargets.createdAt, addressTargets.id);
  return rows.map((r) =>
    r.targetMailboxId
      ? { kind: 'mailbox', address: r.mailboxAddress ?? '(purged)', mailboxId: r.targetMailboxId }
      : { kind: 'address', address: r.targetAddress ?? '' },
  );
}

function mailboxResult(ctx: LookupContext, mb: MailboxRow, region: string): RecipientLookup {
  if (mb.state === 'removed') return { kind: 'disabled', address: mb.address, reason: 'removed', region };
  if (isExpired(mb.expiresOn, ctx.timezone, ctx.now())) {
    return { kind: 'disabled', address: mb.address, reason: 'expired', region };
  }
  return { kind: 'mailbox', address: mb.address, mailboxId: mb.id, region, quotaBytes: mb.quotaBytes };
}

export async function lookupRecipient(ctx: LookupContext, input: string): Promise<RecipientLookup> {
  let parsed: { address: string; domain: string };
  try {
    parsed = parseAddress(input);
  } catch (err) {
    if (err instanceof AddressingError) return { kind: 'invalid', reason: err.message };
    throw err;
  }
  const { db } = ctx;
  const [domain] = await db.select().from(domains).where(eq(domains.name, parsed.domain));
  if (!domain) return { kind: 'not-hosted', domain: parsed.domain };
  const region = await ctx.regionName(domain.regionId);
  const [row] = await db.select().from(addresses).where(eq(addresses.address, parsed.address));
  if (!row) return { kind: 'unknown', domain: parsed.domain, region };

  const targets = await targetsOf(db, row.id);
  // postmaster@ pointed elsewhere (the only official address that can have targets) is an alias.
  if (row.kind === 'official' && targets.length > 0) {
    return { kind: 'alias', address: row.address, targets, region };
  }
  if (row.kind === 'official' || row.kind === 'legacy') {
    const [mb] = await db
      .select()
      .from(mailboxes)
      .where(eq(mailboxes.id, row.mailboxId ?? ''));
    if (!mb) return { kind: 'unknown', domain: parsed.domain, region };
    return mailboxResult(ctx, mb, region);
  }
  switch (row.kind) {
    case 'generated': {
      if (targets.length > 1) {
        return { kind: 'ambiguous', address: row.address, candidates: targets.map((t) => t.address), region };
      }
      const only = targets[0];
      if (only?.kind !== 'mailbox') return { kind: 'unknown', domain: parsed.domain, region };
      const [mb] = await db.select().from(mailboxes).where(eq(mailboxes.id, only.mailboxId));
      return mb ? mailboxResult(ctx, mb, region) : { kind: 'unknown', domain: parsed.domain, region };
    }
    case 'manual':
      return { kind: 'alias', address: row.address, targets, region };
    case 'forward':
      return { kind: 'forward', address: row.address, target: targets[0]?.address ?? '', region };
    case 'list':
      return { kind: 'list', address: row.address, target: targets[0]?.address ?? '', region };
    case 'mailing-list':
      return { kind: 'mailing-list', address: row.address, region };
  }
  return { kind: 'unknown', domain: parsed.domain, region };
}

/**
 * The mailbox a login name names: its official address, any unambiguous alias of it (generated or
 * legacy), or `username@domain`. Returns null when the name names no mailbox (or an ambiguous alias).
 */
export async function resolveLogin(db: DirectoryDb, login: string): Promise<MailboxRow | null> {
  let parsed: { local: string; domain: string; address: string };
  try {
    parsed = parseAddress(login.trim());
  } catch {
    return null;
  }
  const [row] = await db.select().from(addresses).where(eq(addresses.address, parsed.address));
  let mailboxId: string | null = null;
  if (row && (row.kind === 'official' || row.kind === 'legacy')) mailboxId = row.mailboxId;
  if (row && row.kind === 'generated') {
    const targets = await db.select().from(addressTargets).where(eq(addressTargets.addressId, row.id));
    if (targets.length === 1) mailboxId = targets[0]?.targetMailboxId ?? null;
  }
  if (mailboxId) {
    const [mb] = await db.select().from(mailboxes).where(eq(mailboxes.id, mailboxId));
    return mb ?? null;
  }
  // An address that is something else (a manual or ambiguous alias, a forward) never falls back to a
  // username: `rossi@` must not log in as whoever has the username `rossi` once it became an alias.
  if (row) return null;
  const [domain] = await db.select().from(domains).where(eq(domains.name, parsed.domain));
  if (!domain) return null;
  const [byUsername] = await db
    .select()
    .from(mailboxes)
    .where(and(eq(mailboxes.domainId, domain.id), eq(mailboxes.username, parsed.local)));
  return byUsername ?? null;
}

/** Official addresses of the given mailbox ids, in input order. */
export async function officialAddresses(db: DirectoryDb, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: mailboxes.id, address: mailboxes.address })
    .from(mailboxes)
    .where(inArray(mailboxes.id, ids));
  return new Map(rows.map((r) => [r.id, r.address]));
}
