/**
 * Quotas (issue 19): a mailbox's quota set and changed after creation, and the operator's limits per
 * domain: the most mailboxes it may have, and the most bytes its mailboxes' quotas may add up to. The
 * mail store enforces a mailbox's quota at delivery; the limits here are checked whenever a mailbox is
 * added, restored or given a quota. postmaster@ (every domain has it, RFC 5321 §4.5.1) counts for neither.
 */
import { and, eq, ne } from 'drizzle-orm';
import type { DirectoryDb } from '../engine.js';
import { conflict, invalid } from '../errors.js';
import { domains, mailboxes } from '../schema.js';
import { requireDomain, requireOperator } from '../scope.js';
import {
  type DirectoryContext,
  domainName,
  domainRow,
  mailboxByOfficial,
  POSTMASTER,
  scopedAddress,
} from './context.js';
import type { ChangeContext } from './writer.js';

export interface DomainLimits {
  domain: string;
  /** The operator's limits; null = none. */
  maxMailboxes: number | null;
  maxQuotaBytes: number | null;
  /** Active mailboxes, postmaster@ left out. */
  mailboxes: number;
  /** The sum of their quotas, and how many have none (unlimited). */
  quotaBytesAssigned: number;
  unlimitedMailboxes: number;
}

type DomainRow = typeof domains.$inferSelect;

const SIZE = /^(\d+)\s*([kmgt]?)(i?b)?$/i;
const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * A size as people type it: bytes, or K, M, G, T (powers of 1024) as in `500M`, `2G`; empty, `none` or
 * `unlimited` is null (no quota). `invalid` otherwise.
 */
export function parseSizeText(input: string): number | null {
  const v = input.trim();
  if (v === '' || /^(none|unlimited)$/i.test(v)) return null;
  const m = SIZE.exec(v);
  if (!m) throw invalid(`invalid size "${input}": use bytes or a K, M, G suffix (e.g. 500M)`);
  const bytes = Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1);
  if (!Number.isSafeInteger(bytes)) throw invalid(`size "${input}" is too large`);
  return bytes;
}

function sizeOrNull(label: string, v: number | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  if (!Number.isSafeInteger(v) || v < 0) throw invalid(`${label} must be a whole number, 0 or more`);
  return v;
}

async function counted(db: DirectoryDb, domain: DomainRow, exceptMailboxId?: string) {
  const rows = await db
    .select({ id: mailboxes.id, quotaBytes: mailboxes.quotaBytes })
    .from(mailboxes)
    .where(
      and(
        eq(mailboxes.domainId, domain.id),
        eq(mailboxes.state, 'active'),
        ne(mailboxes.localPart, POSTMASTER),
      ),
    );
  const others = rows.filter((r) => r.id !== exceptMailboxId);
  return {
    mailboxes: others.length,
    quotaBytesAssigned: others.reduce((n, r) => n + (r.quotaBytes ?? 0), 0),
    unlimitedMailboxes: others.filter((r) => r.quotaBytes === null).length,
  };
}

/**
 * Throws `conflict` (with what is left) unless the domain has room for `adding` more mailboxes with these
 * quotas; `replacing` is a mailbox whose quota is being changed (its old quota does not count).
 */
export async function checkDomainRoom(
  db: DirectoryDb,
  domain: DomainRow,
  change: { adding: number; quotas: Array<number | null>; replacing?: string },
): Promise<void> {
  if (domain.maxMailboxes === null && domain.maxQuotaBytes === null) return;
  const now = await counted(db, domain, change.replacing);
  if (domain.maxMailboxes !== null && now.mailboxes + change.adding > domain.maxMailboxes) {
    throw conflict(
      `${domain.name} may have at most ${domain.maxMailboxes} mailboxes (it has ${now.mailboxes}); ask the operators for more`,
    );
  }
  if (domain.maxQuotaBytes !== null) {
    if (change.quotas.some((q) => q === null)) {
      throw invalid(
        `${domain.name} has a total quota of ${domain.maxQuotaBytes} bytes: give the mailbox a quota (${Math.max(0, domain.maxQuotaBytes - now.quotaBytesAssigned)} bytes are left)`,
      );
    }
    const adding = change.quotas.reduce<number>((n, q) => n + (q ?? 0), 0);
    if (now.quotaBytesAssigned + adding > domain.maxQuotaBytes) {
      throw conflict(
        `the quotas of ${domain.name} would add up to more than its total of ${domain.maxQuotaBytes} bytes (${Math.max(0, domain.maxQuotaBytes - now.quotaBytesAssigned)} bytes are left)`,
      );
    }
  }
}

/** `mailbox.quota`: sets (null: removes) a mailbox's quota, in bytes, within its domain's limits. */
export async function setQuota(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { address: string; quotaBytes: number | null },
): Promise<{ address: string; quotaBytes: number | null }> {
  const quotaBytes = sizeOrNull('quota', input.quotaBytes);
  const { address, domainRow: domain } = await scopedAddress(ctx.db, change.actor, input.address);
  const mb = await mailboxByOfficial(ctx.db, address);
  if (mb.state !== 'active') throw conflict(`${address} is removed; restore it first`);
  if (mb.localPart !== POSTMASTER) {
    await checkDomainRoom(ctx.db, domain, { adding: 0, quotas: [quotaBytes], replacing: mb.id });
  }
  return change.commit({ action: 'mailbox.quota', target: address, domain: domain.name }, async (tx) => {
    await tx.update(mailboxes).set({ quotaBytes, updatedAt: ctx.nowIso() }).where(eq(mailboxes.id, mb.id));
    return { result: { address, quotaBytes }, details: { from: mb.quotaBytes, to: quotaBytes } };
  });
}

/** `domain.limits`: the operator's limits of a domain (null: none); refused below what it already has. */
export async function setDomainLimits(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { domain: string; maxMailboxes: number | null; maxQuotaBytes: number | null },
): Promise<DomainLimits> {
  requireOperator(change.actor, 'set domain limits');
  const maxMailboxes = sizeOrNull('the most mailboxes', input.maxMailboxes);
  const maxQuotaBytes = sizeOrNull('the total quota', input.maxQuotaBytes);
  const domain = await domainRow(ctx.db, domainName(input.domain));
  const now = await counted(ctx.db, domain);
  if (maxMailboxes !== null && now.mailboxes > maxMailboxes) {
    throw conflict(`${domain.name} already has ${now.mailboxes} mailboxes, more than ${maxMailboxes}`);
  }
  if (maxQuotaBytes !== null && now.quotaBytesAssigned > maxQuotaBytes) {
    throw conflict(
      `the quotas of ${domain.name} already add up to ${now.quotaBytesAssigned} bytes, more than ${maxQuotaBytes}`,
    );
  }
  return change.commit({ action: 'domain.limits', target: domain.name, domain: domain.name }, async (tx) => {
    await tx
      .update(domains)
      .set({ maxMailboxes, maxQuotaBytes, updatedAt: ctx.nowIso() })
      .where(eq(domains.id, domain.id));
    return {
      result: { domain: domain.name, maxMailboxes, maxQuotaBytes, ...now },
      details: {
        from: { maxMailboxes: domain.maxMailboxes, maxQuotaBytes: domain.maxQuotaBytes },
        to: { maxMailboxes, maxQuotaBytes },
      },
    };
  });
}

/** A domain's limits and what it uses of them (its admins and operators). */
export async function domainLimits(
  ctx: DirectoryContext,
  actor: Parameters<typeof requireDomain>[0],
  input: string,
): Promise<DomainLimits> {
  const name = domainName(input);
  requireDomain(actor, name);
  const domain = await domainRow(ctx.db, name);
  return {
    domain: domain.name,
    maxMailboxes: domain.maxMailboxes,
    maxQuotaBytes: domain.maxQuotaBytes,
    ...(await counted(ctx.db, domain)),
  };
}
