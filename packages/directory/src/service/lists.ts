/**
 * Built-in mailing lists (issue 19): a list address of a hosted domain, an owner (a mailbox user, who
 * moderates), a sender rule and members. Mail to the list is expanded by the MTA (packages/mta/src/lists/),
 * which reads lists through `lookupList`. The other kind of list, an alias to an external list server,
 * stays in forwards.ts (`list.add`).
 *
 * The list's address is a row of `addresses` (kind `mailing-list`), so one UNIQUE index still decides what
 * an address is; the list's control addresses `<list>-request@` (moderation replies) and `<list>-bounces@`
 * (the envelope sender of every copy) must be free when it is created.
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import { parseAddress } from '../addressing/index.js';
import { duplicate, invalid, notFound } from '../errors.js';
import { lookupRecipient, resolveLogin } from '../lookup.js';
import { addresses, type ListSenders, mailingListMembers, mailingLists } from '../schema.js';
import { type Actor, requireDomain, visibleDomains } from '../scope.js';
import { type DirectoryContext, newId, scopedAddress, scopedDomain, toInvalid } from './context.js';
import type { ChangeContext } from './writer.js';

export type { ListSenders } from '../schema.js';

/** A list as every interface shows it. */
export interface ListView {
  address: string;
  domain: string;
  owner: string;
  senders: ListSenders;
  /** The addresses that may post when `senders` is `listed`. */
  allowedSenders: string[];
  moderated: boolean;
  members: string[];
  createdAt: string;
}

/** The suffixes of a list's control addresses: `<local>-request@` and `<local>-bounces@`. */
export const LIST_CONTROL_SUFFIXES = ['request', 'bounces'] as const;

const MAX_MEMBERS_PER_CHANGE = 1000;

type ListRow = typeof mailingLists.$inferSelect;

function address(input: string): string {
  try {
    return parseAddress(input.trim()).address;
  } catch (err) {
    return toInvalid(err);
  }
}

async function view(ctx: DirectoryContext, row: ListRow): Promise<ListView> {
  const members = await ctx.db
    .select({ address: mailingListMembers.address })
    .from(mailingListMembers)
    .where(eq(mailingListMembers.listId, row.id))
    .orderBy(asc(mailingListMembers.address));
  return {
    address: row.address,
    domain: row.address.slice(row.address.lastIndexOf('@') + 1),
    owner: row.owner,
    senders: row.senders,
    allowedSenders: row.allowedSenders ? (JSON.parse(row.allowedSenders) as string[]) : [],
    moderated: row.moderated === 1,
    members: members.map((m) => m.address),
    createdAt: row.createdAt,
  };
}

/** The list row, when `address` is a built-in list whose address row still exists (a removed domain's is not). */
export async function listRow(ctx: DirectoryContext, listAddress: string): Promise<ListRow | null> {
  const [row] = await ctx.db.select().from(mailingLists).where(eq(mailingLists.address, listAddress));
  if (!row) return null;
  const [addr] = await ctx.db.select().from(addresses).where(eq(addresses.id, row.addressId));
  return addr?.kind === 'mailing-list' ? row : null;
}

/** A list the actor may manage: scope first (403), then the row (404). */
export async function scopedList(ctx: DirectoryContext, actor: Actor, input: string) {
  const { address: listAddress, domainRow } = await scopedAddress(ctx.db, actor, input);
  const row = await listRow(ctx, listAddress);
  if (!row) throw notFound(`no list ${listAddress}`);
  return { row, domainRow };
}

/** The owner: a mailbox (by any of its unambiguous addresses) of a domain the actor manages. */
async function ownerAddress(ctx: DirectoryContext, actor: Actor, input: string): Promise<string> {
  const owner = address(input);
  const domain = owner.slice(owner.lastIndexOf('@') + 1);
  if (visibleDomains(actor)?.includes(domain) === false) {
    throw invalid(`the owner ${owner} must be a mailbox of a domain you manage`);
  }
  requireDomain(actor, domain);
  const found = await lookupRecipient(ctx.lookupContext(), owner);
  if (found.kind !== 'mailbox') throw invalid(`the owner ${owner} must be an active mailbox`);
  return found.address;
}

function sendersRule(input: { senders?: string; allowedSenders?: string[] }): {
  senders: ListSenders;
  allowed: string[];
} {
  const senders = input.senders ?? 'members';
  if (senders === 'members' || senders === 'domain' || senders === 'anyone') {
    if (input.allowedSenders && input.allowedSenders.length > 0)
      throw invalid(`allowed senders are only for senders "listed", not "${senders}"`);
    return { senders, allowed: [] };
  }
  if (senders !== 'listed')
    throw invalid(`senders must be members, domain, anyone or listed, not "${senders}"`);
  const allowed = [...new Set((input.allowedSenders ?? []).map(address))];
  if (allowed.length === 0) throw invalid('senders "listed" needs at least one allowed sender address');
  return { senders, allowed };
}

/** `mailing-list.create`: a built-in list with its owner, sender rule and (optionally) first members. */
export async function createList(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: {
    address: string;
    owner: string;
    senders?: string;
    allowedSenders?: string[];
    moderated?: boolean;
    members?: string[];
  },
): Promise<ListView> {
  const { actor } = change;
  const { address: listAddress, local, domainRow } = await scopedAddress(ctx.db, actor, input.address);
  const owner = await ownerAddress(ctx, actor, input.owner);
  const rule = sendersRule(input);
  const members = [...new Set((input.members ?? []).map(address))];
  if (members.includes(listAddress)) throw invalid(`${listAddress} cannot be a member of itself`);
  const reserved = [listAddress, ...LIST_CONTROL_SUFFIXES.map((s) => `${local}-${s}@${domainRow.name}`)];
  const taken = await ctx.db.select().from(addresses).where(inArray(addresses.address, reserved));
  if (taken.length > 0) {
    const first = taken[0]?.address ?? listAddress;
    throw duplicate(
      first === listAddress
        ? `${listAddress} already exists`
        : `${first} already exists: a list needs ${reserved.slice(1).join(' and ')} free`,
    );
  }
  return change.commit(
    { action: 'mailing-list.create', target: listAddress, domain: domainRow.name },
    async (tx) => {
      const now = ctx.nowIso();
      // A list of that address whose address row is gone (its domain was removed and added again).
      const [orphan] = await tx.select().from(mailingLists).where(eq(mailingLists.address, listAddress));
      if (orphan) {
        await tx.delete(mailingListMembers).where(eq(mailingListMembers.listId, orphan.id));
        await tx.delete(mailingLists).where(eq(mailingLists.id, orphan.id));
      }
      const addressId = newId();
      await tx.insert(addresses).values({
        id: addressId,
        address: listAddress,
        domainId: domainRow.id,
        kind: 'mailing-list',
        mailboxId: null,
        createdAt: now,
      });
      const listId = newId();
      const row: ListRow = {
        id: listId,
        address: listAddress,
        addressId,
        domainId: domainRow.id,
        owner,
        senders: rule.senders,
        allowedSenders: rule.allowed.length > 0 ? JSON.stringify(rule.allowed) : null,
        moderated: input.moderated ? 1 : 0,
        createdAt: now,
        updatedAt: now,
      };
      await tx.insert(mailingLists).values(row);
      for (const m of members) {
        await tx.insert(mailingListMembers).values({ id: newId(), listId, address: m, createdAt: now });
      }
      return {
        result: {
          address: listAddress,
          domain: domainRow.name,
          owner,
          senders: rule.senders,
          allowedSenders: rule.allowed,
          moderated: row.moderated === 1,
          members: members.sort(),
          createdAt: now,
        },
        details: { owner, senders: rule.senders, moderated: row.moderated === 1, members: members.length },
      };
    },
  );
}

/** `mailing-list.members`: adds and/or removes members; returns the list as it is afterwards. */
export async function changeMembers(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { address: string; add?: string[]; remove?: string[] },
): Promise<ListView & { added: string[]; removed: string[] }> {
  const { row, domainRow } = await scopedList(ctx, change.actor, input.address);
  const add = [...new Set((input.add ?? []).map(address))];
  const remove = [...new Set((input.remove ?? []).map(address))];
  if (add.length + remove.length === 0) throw invalid('name at least one member address');
  if (add.length + remove.length > MAX_MEMBERS_PER_CHANGE)
    throw invalid(`at most ${MAX_MEMBERS_PER_CHANGE} members per change`);
  if (add.includes(row.address)) throw invalid(`${row.address} cannot be a member of itself`);
  const current = new Set(
    (
      await ctx.db
        .select({ address: mailingListMembers.address })
        .from(mailingListMembers)
        .where(eq(mailingListMembers.listId, row.id))
    ).map((m) => m.address),
  );
  const missing = remove.filter((m) => !current.has(m));
  if (missing.length > 0) throw notFound(`not a member of ${row.address}: ${missing.join(', ')}`);
  const added = add.filter((m) => !current.has(m));
  await change.commit(
    { action: 'mailing-list.members', target: row.address, domain: domainRow.name },
    async (tx) => {
      const now = ctx.nowIso();
      for (const m of added) {
        await tx
          .insert(mailingListMembers)
          .values({ id: newId(), listId: row.id, address: m, createdAt: now });
      }
      if (remove.length > 0) {
        await tx
          .delete(mailingListMembers)
          .where(and(eq(mailingListMembers.listId, row.id), inArray(mailingListMembers.address, remove)));
      }
      await tx.update(mailingLists).set({ updatedAt: now }).where(eq(mailingLists.id, row.id));
      return { result: undefined, details: { added, removed: remove } };
    },
  );
  const after = await listRow(ctx, row.address);
  return { ...(await view(ctx, after ?? row)), added, removed: remove };
}

/**
 * `mailing-list.settings`: a new owner, sender rule or moderation; what is not given is kept. A new
 * sender rule other than `listed` drops the allowed senders.
 */
export async function setListSettings(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: {
    address: string;
    owner?: string;
    senders?: string;
    allowedSenders?: string[];
    moderated?: boolean;
  },
): Promise<ListView> {
  const { row, domainRow } = await scopedList(ctx, change.actor, input.address);
  const owner = input.owner !== undefined ? await ownerAddress(ctx, change.actor, input.owner) : row.owner;
  const rule =
    input.senders !== undefined || input.allowedSenders !== undefined
      ? sendersRule({
          senders: input.senders ?? row.senders,
          ...(input.allowedSenders ? { allowedSenders: input.allowedSenders } : {}),
        })
      : null;
  const moderated = input.moderated === undefined ? row.moderated : input.moderated ? 1 : 0;
  await change.commit(
    { action: 'mailing-list.settings', target: row.address, domain: domainRow.name },
    async (tx) => {
      await tx
        .update(mailingLists)
        .set({
          owner,
          ...(rule
            ? {
                senders: rule.senders,
                allowedSenders: rule.allowed.length > 0 ? JSON.stringify(rule.allowed) : null,
              }
            : {}),
          moderated,
          updatedAt: ctx.nowIso(),
        })
        .where(eq(mailingLists.id, row.id));
      return {
        result: undefined,
        details: { owner, moderated: moderated === 1, ...(rule ? { senders: rule.senders } : {}) },
      };
    },
  );
  const after = await listRow(ctx, row.address);
  return view(ctx, after ?? row);
}

/** `mailing-list.remove`: the list, its members and its address. Held messages expire where they are. */
export async function removeList(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { address: string },
): Promise<void> {
  const { row, domainRow } = await scopedList(ctx, change.actor, input.address);
  await change.commit(
    { action: 'mailing-list.remove', target: row.address, domain: domainRow.name },
    async (tx) => {
      await tx.delete(mailingListMembers).where(eq(mailingListMembers.listId, row.id));
      await tx.delete(mailingLists).where(eq(mailingLists.id, row.id));
      await tx.delete(addresses).where(eq(addresses.id, row.addressId));
      return { result: undefined };
    },
  );
}

/** One list, for an actor who may manage its domain. */
export async function getList(ctx: DirectoryContext, actor: Actor, input: string): Promise<ListView> {
  return view(ctx, (await scopedList(ctx, actor, input)).row);
}

/** Every built-in list of a domain the actor may manage. */
export async function listLists(
  ctx: DirectoryContext,
  actor: Actor,
  domainInput: string,
): Promise<ListView[]> {
  const domain = await scopedDomain(ctx.db, actor, domainInput);
  const rows = await ctx.db
    .select()
    .from(mailingLists)
    .where(eq(mailingLists.domainId, domain.id))
    .orderBy(asc(mailingLists.address));
  const out: ListView[] = [];
  for (const r of rows) if (await listRow(ctx, r.address)) out.push(await view(ctx, r));
  return out;
}

/**
 * The lists a mailbox owns (self-service: the address comes from the session), named by any of its
 * addresses: a list set up before the owner was renamed names their former (legacy) address.
 */
export async function listsOwnedBy(ctx: DirectoryContext, owner: string): Promise<ListView[]> {
  const mb = await resolveLogin(ctx.db, owner);
  const names = mb
    ? (
        await ctx.db
          .select({ address: addresses.address })
          .from(addresses)
          .where(eq(addresses.mailboxId, mb.id))
      ).map((r) => r.address)
    : [owner.toLowerCase()];
  if (names.length === 0) return [];
  const rows = await ctx.db
    .select()
    .from(mailingLists)
    .where(inArray(mailingLists.owner, names))
    .orderBy(asc(mailingLists.address));
  const out: ListView[] = [];
  for (const r of rows) if (await listRow(ctx, r.address)) out.push(await view(ctx, r));
  return out;
}

/** A built-in list by address, without an actor (the MTA's read side); null when it is not one. */
export async function lookupList(ctx: DirectoryContext, input: string): Promise<ListView | null> {
  let listAddress: string;
  try {
    listAddress = parseAddress(input).address;
  } catch {
    return null;
  }
  const row = await listRow(ctx, listAddress);
  return row ? view(ctx, row) : null;
}
