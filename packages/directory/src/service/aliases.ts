/**
 * Aliases: manual aliases (one or several targets; mail goes to all of them), removing any alias, forward
 * or list alias, and listing a domain's addresses other than official ones. Generated aliases come with
 * mailboxes (rows.ts); forwards and list aliases, whose targets are remote, are in forwards.ts and share
 * `addAddressWithTargets` below. What an address may be: docs/decisions/0002-directory-addresses-table.md.
 */
import { and, asc, eq, inArray, ne, or } from 'drizzle-orm';
import { parseAddress } from '../addressing/index.js';
import { duplicate, invalid, notFound } from '../errors.js';
import { type AliasTarget, lookupRecipient, targetsOf } from '../lookup.js';
import { type AddressKind, addresses, addressTargets, domains, mailboxes } from '../schema.js';
import { type Actor, visibleDomains } from '../scope.js';
import {
  type DirectoryContext,
  newId,
  POSTMASTER,
  scopedAddress,
  scopedDomain,
  toInvalid,
} from './context.js';
import type { ChangeContext } from './writer.js';

export interface AliasView {
  address: string;
  kind: Exclude<AddressKind, 'official'>;
  targets: string[];
  ambiguous: boolean;
}

/** An alias target: a local mailbox (by id), or an address kept as it is. */
export interface ResolvedTarget {
  mailboxId: string | null;
  address: string;
}

/** Resolves an alias target: a local address becomes its mailbox, anything else stays an address. */
export async function resolveTarget(
  ctx: DirectoryContext,
  actor: Actor,
  input: string,
): Promise<ResolvedTarget> {
  let parsed: { address: string; domain: string };
  try {
    parsed = parseAddress(input);
  } catch (err) {
    toInvalid(err);
  }
  // A domain admin learns nothing about domains they do not manage, hosted or not: such a target is
  // kept as the address typed, like an external one, without looking it up (no "exists" answer, no
  // official address behind an alias). Mail to it is resolved at delivery, as for any address.
  if (visibleDomains(actor)?.includes(parsed.domain) === false) {
    return { mailboxId: null, address: parsed.address };
  }
  const [hosted] = await ctx.db.select().from(domains).where(eq(domains.name, parsed.domain));
  if (!hosted) return { mailboxId: null, address: parsed.address };
  const found = await lookupRecipient(ctx.lookupContext(), parsed.address);
  switch (found.kind) {
    case 'mailbox':
      return { mailboxId: found.mailboxId, address: found.address };
    case 'alias':
    case 'forward':
    case 'list':
      return { mailboxId: null, address: found.address };
    case 'mailing-list':
      throw invalid(`${parsed.address} is a mailing list: make the addresses members of it instead`);
    case 'ambiguous':
      throw invalid(
        `${parsed.address} is ambiguous (${found.candidates.join(', ')}); use an official address`,
      );
    case 'disabled':
      throw invalid(`${parsed.address} is ${found.reason}`);
    default:
      throw notFound(`no such address ${parsed.address}`);
  }
}

/**
 * Adds an address of `kind` leading to `targetInputs` (each checked by `checkTarget` as well), or, for a
 * manual alias that exists, extends it. The actor must manage the address's domain.
 */
export async function addAddressWithTargets(
  ctx: DirectoryContext,
  change: ChangeContext,
  kind: 'manual' | 'forward' | 'list',
  input: { address: string; targets: string[] },
  checkTarget: (target: ResolvedTarget) => void = () => undefined,
): Promise<AliasView> {
  const { actor } = change;
  if (input.targets.length === 0) throw invalid('at least one target address is needed');
  const { address, domainRow } = await scopedAddress(ctx.db, actor, input.address);
  const targets: ResolvedTarget[] = [];
  for (const t of input.targets) {
    const target = await resolveTarget(ctx, actor, t);
    if (target.address === address) throw invalid(`${address} cannot point to itself`);
    checkTarget(target);
    targets.push(target);
  }
  const [existing] = await ctx.db.select().from(addresses).where(eq(addresses.address, address));
  // RFC 5321 §4.5.1: postmaster@ is a role mailbox "unless pointed elsewhere": an alias on it sends
  // its mail to the targets instead; removing that alias makes it the role mailbox again.
  const pointingPostmaster =
    kind === 'manual' && existing?.kind === 'official' && address === `${POSTMASTER}@${domainRow.name}`;
  if (existing && !(existing.kind === 'manual' && kind === 'manual') && !pointingPostmaster) {
    throw duplicate(
      `${address} already exists (${existing.kind === 'official' ? 'a mailbox' : `${existing.kind} alias`})`,
    );
  }
  const action = `${kind === 'manual' ? 'alias' : kind}.add`;
  return change.commit({ action, target: address, domain: domainRow.name }, async (tx) => {
    const now = ctx.nowIso();
    const addressId = existing?.id ?? newId();
    if (!existing) {
      await tx.insert(addresses).values({
        id: addressId,
        address,
        domainId: domainRow.id,
        kind,
        mailboxId: null,
        createdAt: now,
      });
    }
    for (const t of targets) {
      await tx.insert(addressTargets).values({
        id: newId(),
        addressId,
        targetMailboxId: t.mailboxId,
        targetAddress: t.mailboxId ? null : t.address,
        targetKey: t.mailboxId ? `mailbox:${t.mailboxId}` : `address:${t.address}`,
        createdAt: now,
      });
    }
    const all = await targetsOf(tx, addressId);
    return {
      result: { address, kind, targets: all.map((t) => t.address), ambiguous: false },
      details: { targets: targets.map((t) => t.address) },
    };
  });
}

/** `alias.add`: a manual alias (several targets: mail goes to all of them); adding to one extends it. */
export function addAlias(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { address: string; targets: string[] },
): Promise<AliasView> {
  return addAddressWithTargets(ctx, change, 'manual', input);
}

/** `alias.remove`: removes an alias, forward or list alias (any kind but an official address). */
export async function removeAlias(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { address: string },
): Promise<void> {
  const { address, domainRow } = await scopedAddress(ctx.db, change.actor, input.address);
  const [row] = await ctx.db.select().from(addresses).where(eq(addresses.address, address));
  if (!row) throw notFound(`no alias ${address}`);
  if (row.kind === 'mailing-list') throw invalid(`${address} is a mailing list: use list remove`);
  const isPostmaster = row.kind === 'official' && address === `${POSTMASTER}@${domainRow.name}`;
  if (row.kind === 'official') {
    const pointed = isPostmaster
      ? await ctx.db.select().from(addressTargets).where(eq(addressTargets.addressId, row.id))
      : [];
    if (pointed.length === 0) throw invalid(`${address} is a mailbox's official address: use mailbox remove`);
  }
  const action = `${row.kind === 'forward' || row.kind === 'list' ? row.kind : 'alias'}.remove`;
  await change.commit({ action, target: address, domain: domainRow.name }, async (tx) => {
    await tx.delete(addressTargets).where(eq(addressTargets.addressId, row.id));
    // postmaster@ pointed elsewhere goes back to being its role mailbox; other aliases disappear.
    if (!isPostmaster) await tx.delete(addresses).where(eq(addresses.id, row.id));
    return { result: undefined, details: { kind: isPostmaster ? 'postmaster' : row.kind } };
  });
}

/** Every address of a domain except official ones; ambiguous generated aliases carry their candidates. */
export async function listAliases(
  ctx: DirectoryContext,
  actor: Actor,
  domainInput: string,
  opts: { kinds?: AddressKind[] } = {},
): Promise<AliasView[]> {
  const domain = await scopedDomain(ctx.db, actor, domainInput);
  const rows = await ctx.db
    .select()
    .from(addresses)
    .where(
      and(
        eq(addresses.domainId, domain.id),
        opts.kinds
          ? inArray(addresses.kind, opts.kinds)
          : or(ne(addresses.kind, 'official'), eq(addresses.address, `${POSTMASTER}@${domain.name}`)),
      ),
    )
    .orderBy(asc(addresses.address));
  const out: AliasView[] = [];
  for (const r of rows) {
    let targets: AliasTarget[];
    if (r.kind === 'official') {
      // Only postmaster@ pointed elsewhere is listed: as the manual alias it behaves as.
      targets = await targetsOf(ctx.db, r.id);
      if (targets.length === 0) continue;
      out.push({
        address: r.address,
        kind: 'manual',
        targets: targets.map((t) => t.address),
        ambiguous: false,
      });
      continue;
    }
    if (r.kind === 'legacy') {
      const [mb] = await ctx.db
        .select()
        .from(mailboxes)
        .where(eq(mailboxes.id, r.mailboxId ?? ''));
      targets = mb ? [{ kind: 'mailbox', address: mb.address, mailboxId: mb.id }] : [];
    } else {
      targets = await targetsOf(ctx.db, r.id);
    }
    out.push({
      address: r.address,
      kind: r.kind,
      targets: targets.map((t) => t.address),
      ambiguous: r.kind === 'generated' && targets.length > 1,
    });
  }
  return out;
}
