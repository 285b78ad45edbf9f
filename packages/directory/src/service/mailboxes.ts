/**
 * Mailboxes: adding one (personal or role, with a person's generated aliases), listing a domain's, and
 * renaming. Passwords are in passwords.ts; expiry, removal and purge in expiry.ts. The addressing policy
 * (names → local parts): docs/addressing.md.
 */
import { and, asc, count, desc, eq, inArray, like, lt, or } from 'drizzle-orm';
import { AddressingError, personalLocalParts, validateLocalPart } from '../addressing/index.js';
import { deriveCredentials } from '../credentials.js';
import { conflict, duplicate, invalid } from '../errors.js';
import { isExpired, parseIsoDate, todayIn } from '../expiry.js';
import { checkPasswordFor } from '../password-policy.js';
import { addresses, addressTargets, groups, type MailboxKind, mailboxes } from '../schema.js';
import type { Actor } from '../scope.js';
import {
  cleanText,
  type DirectoryContext,
  mailboxByOfficial,
  newId,
  POSTMASTER,
  scopedAddress,
  scopedDomain,
  toInvalid,
} from './context.js';
import { checkDomainRoom } from './quotas.js';
import { addGeneratedAliases, type GeneratedAliases, groupId, insertMailbox } from './rows.js';
import type { ChangeContext } from './writer.js';

export interface NewMailbox {
  domain: string;
  kind: MailboxKind;
  firstName?: string;
  lastName?: string;
  /** Personal: overrides the official local part. Role: the role's local part (required). */
  localPart?: string;
  username?: string;
  group?: string;
  contact?: string;
  flag?: string;
  quotaBytes?: number | null;
  expiresOn?: string | null;
  /** Absent only for mailboxes nobody logs into yet (a fresh postmaster@). */
  password?: string;
}

export interface CreatedMailbox extends GeneratedAliases {
  address: string;
  username: string;
  kind: MailboxKind;
}

export interface MailboxView {
  address: string;
  kind: MailboxKind;
  username: string;
  firstName: string | null;
  lastName: string | null;
  group: string | null;
  contact: string | null;
  flag: string | null;
  quotaBytes: number | null;
  expiresOn: string | null;
  expired: boolean;
  state: 'active' | 'removed';
  purgeAfter: string | null;
  createdAt: string;
}

/**
 * The official local part and generated aliases of a person. With an explicit local part (`--address`),
 * a name that gives no address of its own (that is why it was given) just gets no generated aliases.
 */
export function personalParts(first: string, last: string, localPart: string | undefined) {
  if (localPart === undefined) {
    const parts = personalLocalParts(first, last);
    return { official: parts.official, generated: parts.aliases };
  }
  const official = validateLocalPart(localPart);
  try {
    return { official, generated: personalLocalParts(first, last).aliases.filter((a) => a !== official) };
  } catch (err) {
    if (err instanceof AddressingError) return { official, generated: [] };
    throw err;
  }
}

/** `mailbox.add`: a personal or role mailbox in a domain the actor manages. */
export async function addMailbox(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: NewMailbox,
): Promise<CreatedMailbox> {
  const domain = await scopedDomain(ctx.db, change.actor, input.domain);
  const domainName = domain.name;

  const firstName = cleanText('first name', input.firstName);
  const lastName = cleanText('last name', input.lastName);
  let official: string;
  let generated: string[] = [];
  try {
    if (input.kind === 'personal') {
      if (!firstName || !lastName) throw invalid('a personal mailbox needs a first and a last name');
      ({ official, generated } = personalParts(firstName, lastName, input.localPart));
    } else {
      if (input.localPart === undefined) throw invalid('a role mailbox needs its address (local part)');
      official = validateLocalPart(input.localPart);
    }
  } catch (err) {
    if (err instanceof AddressingError && input.kind === 'personal' && err.code === 'empty-name') {
      throw invalid(`${err.message}`);
    }
    toInvalid(err);
  }
  const username = (() => {
    try {
      return input.username !== undefined ? validateLocalPart(input.username) : official;
    } catch {
      throw invalid(`invalid username "${input.username}": use letters, digits, dots, hyphens`);
    }
  })();
  const contact = cleanText('contact', input.contact);
  const flag = cleanText('flag', input.flag);
  const group = cleanText('group', input.group);
  const expiresOn = input.expiresOn ? parseIsoDate(input.expiresOn) : null;
  if (input.quotaBytes !== undefined && input.quotaBytes !== null) {
    if (!Number.isSafeInteger(input.quotaBytes) || input.quotaBytes < 0)
      throw invalid('quota must be a size in bytes');
  }
  const address = `${official}@${domainName}`;
  await checkDomainRoom(ctx.db, domain, { adding: 1, quotas: [input.quotaBytes ?? null] });

  const [taken] = await ctx.db.select().from(addresses).where(eq(addresses.address, address));
  if (taken) {
    const what = taken.kind === 'official' ? 'a mailbox' : `a ${taken.kind} alias`;
    throw duplicate(
      `${address} already exists (${what}); choose another official address with --address <local part>, e.g. --address ${official}2`,
    );
  }
  const [sameUser] = await ctx.db
    .select()
    .from(mailboxes)
    .where(and(eq(mailboxes.domainId, domain.id), eq(mailboxes.username, username)));
  if (sameUser)
    throw duplicate(`username ${username} is already used in ${domainName} by ${sameUser.address}`);
  if (username !== official) {
    const [clash] = await ctx.db
      .select()
      .from(addresses)
      .where(eq(addresses.address, `${username}@${domainName}`));
    if (clash) throw duplicate(`username ${username} would clash with the address ${clash.address}`);
  }

  if (input.password !== undefined) {
    checkPasswordFor(input.password, {});
  }
  const credentials =
    input.password !== undefined
      ? await deriveCredentials(input.password, { key: ctx.options.key, cramMd5: ctx.options.cramMd5 })
      : null;

  return change.commit({ action: 'mailbox.add', target: address, domain: domainName }, async (tx) => {
    const groupRowId = await groupId(tx, ctx.nowIso(), domain.id, group);
    const { id } = await insertMailbox(tx, ctx.nowIso(), {
      domainId: domain.id,
      domainName,
      kind: input.kind,
      localPart: official,
      username,
      firstName,
      lastName,
      groupId: groupRowId,
      contact,
      flag,
      quotaBytes: input.quotaBytes ?? null,
      expiresOn,
      credentials,
    });
    const gen = await addGeneratedAliases(
      tx,
      ctx.nowIso(),
      { mailboxId: id, domainId: domain.id, domainName },
      generated,
    );
    return {
      result: { address, username, kind: input.kind, ...gen },
      details: {
        kind: input.kind,
        username,
        aliases: gen.aliases.map((a) => a.address),
        expiresOn,
        group,
        ...(firstName && lastName ? { name: `${firstName} ${lastName}` } : {}),
      },
    };
  });
}

/** How a mailbox list may be sorted (the list page's column headers). */
export const MAILBOX_SORTS = ['address', 'name', 'group', 'quota', 'expires', 'created'] as const;
export type MailboxSort = (typeof MAILBOX_SORTS)[number];

export interface MailboxListOptions {
  search?: string;
  limit?: number;
  offset?: number;
  includeRemoved?: boolean;
  /** Only this group's mailboxes (by name). */
  group?: string;
  /** Only active, removed, or expired (active but past their date) mailboxes. */
  state?: 'active' | 'removed' | 'expired';
  sort?: MailboxSort;
  descending?: boolean;
}

/** A domain's mailboxes (the actor must manage it), optionally searched, filtered, sorted and paged. */
export async function listMailboxes(
  ctx: DirectoryContext,
  actor: Actor,
  domainInput: string,
  opts: MailboxListOptions = {},
): Promise<{ total: number; mailboxes: MailboxView[] }> {
  const domain = await scopedDomain(ctx.db, actor, domainInput);
  const search = opts.search?.trim().toLowerCase();
  const pattern = search ? `%${search.replace(/[%_\\]/g, (c) => `\\${c}`)}%` : null;
  const today = todayIn(ctx.options.timezone, ctx.now());
  const where = and(
    eq(mailboxes.domainId, domain.id),
    opts.includeRemoved === false ? eq(mailboxes.state, 'active') : undefined,
    opts.state === 'active' ? eq(mailboxes.state, 'active') : undefined,
    opts.state === 'removed' ? eq(mailboxes.state, 'removed') : undefined,
    opts.state === 'expired' ? and(eq(mailboxes.state, 'active'), lt(mailboxes.expiresOn, today)) : undefined,
    opts.group !== undefined
      ? inArray(
          mailboxes.groupId,
          ctx.db
            .select({ id: groups.id })
            .from(groups)
            .where(and(eq(groups.domainId, domain.id), eq(groups.name, opts.group))),
        )
      : undefined,
    pattern
      ? or(
          like(mailboxes.address, pattern),
          like(mailboxes.username, pattern),
          like(mailboxes.firstName, pattern),
          like(mailboxes.lastName, pattern),
        )
      : undefined,
  );
  const [{ n } = { n: 0 }] = await ctx.db.select({ n: count() }).from(mailboxes).where(where);
  const rows = await ctx.db
    .select({ mb: mailboxes, groupName: groups.name })
    .from(mailboxes)
    .leftJoin(groups, eq(groups.id, mailboxes.groupId))
    .where(where)
    .orderBy(...mailboxOrder(opts.sort, opts.descending))
    .limit(Math.min(Math.max(opts.limit ?? 1000, 1), 10_000))
    .offset(Math.max(opts.offset ?? 0, 0));
  const now = ctx.now();
  return {
    total: n,
    mailboxes: rows.map(({ mb, groupName }) => ({
      address: mb.address,
      kind: mb.kind,
      username: mb.username,
      firstName: mb.firstName,
      lastName: mb.lastName,
      group: groupName,
      contact: mb.contact,
      flag: mb.flag,
      quotaBytes: mb.quotaBytes,
      expiresOn: mb.expiresOn,
      expired: isExpired(mb.expiresOn, ctx.options.timezone, now),
      state: mb.state,
      purgeAfter: mb.purgeAfter,
      createdAt: mb.createdAt,
    })),
  };
}

function mailboxOrder(sort: MailboxSort | undefined, descending = false) {
  const dir = descending ? desc : asc;
  switch (sort) {
    case 'name':
      return [dir(mailboxes.lastName), dir(mailboxes.firstName), asc(mailboxes.address)];
    case 'group':
      return [dir(groups.name), asc(mailboxes.address)];
    case 'quota':
      return [dir(mailboxes.quotaBytes), asc(mailboxes.address)];
    case 'expires':
      return [dir(mailboxes.expiresOn), asc(mailboxes.address)];
    case 'created':
      return [dir(mailboxes.createdAt), asc(mailboxes.address)];
    default:
      return [dir(mailboxes.address)];
  }
}

/**
 * `mailbox.rename`: renames a person (or sets a new official local part): the old official address
 * stays as a legacy alias, and the new name's generated aliases are added (with the usual ambiguity rules).
 */
export async function renameMailbox(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { address: string; firstName?: string; lastName?: string; localPart?: string },
): Promise<CreatedMailbox & { legacy: string }> {
  const { address: oldAddress, domainRow } = await scopedAddress(ctx.db, change.actor, input.address);
  const mb = await mailboxByOfficial(ctx.db, oldAddress);
  if (mb.state !== 'active') throw conflict(`${oldAddress} is removed`);
  if (mb.localPart === POSTMASTER) throw conflict('postmaster@ cannot be renamed');
  const firstName = cleanText('first name', input.firstName) ?? mb.firstName;
  const lastName = cleanText('last name', input.lastName) ?? mb.lastName;
  let official: string;
  let generated: string[] = [];
  try {
    if (mb.kind === 'personal' && firstName && lastName) {
      ({ official, generated } = personalParts(firstName, lastName, input.localPart));
    } else {
      if (input.localPart === undefined) throw invalid('a role mailbox is renamed with a new address');
      official = validateLocalPart(input.localPart);
    }
  } catch (err) {
    toInvalid(err);
  }
  const address = `${official}@${domainRow.name}`;
  if (address === oldAddress) throw invalid(`${oldAddress} already has that address`);
  const [taken] = await ctx.db.select().from(addresses).where(eq(addresses.address, address));
  if (taken) throw duplicate(`${address} already exists; choose another address with --address <local part>`);
  return change.commit({ action: 'mailbox.rename', target: address, domain: domainRow.name }, async (tx) => {
    const now = ctx.nowIso();
    await tx
      .update(addresses)
      .set({ kind: 'legacy' })
      .where(and(eq(addresses.mailboxId, mb.id), eq(addresses.kind, 'official')));
    await tx.insert(addresses).values({
      id: newId(),
      address,
      domainId: domainRow.id,
      kind: 'official',
      mailboxId: mb.id,
      createdAt: now,
    });
    await tx
      .update(mailboxes)
      .set({ address, localPart: official, firstName, lastName, updatedAt: now })
      .where(eq(mailboxes.id, mb.id));
    const existing = new Set(
      (
        await tx
          .select({ address: addresses.address })
          .from(addressTargets)
          .innerJoin(addresses, eq(addresses.id, addressTargets.addressId))
          .where(eq(addressTargets.targetMailboxId, mb.id))
      ).map((r) => r.address),
    );
    const fresh = generated.filter((l) => !existing.has(`${l}@${domainRow.name}`));
    const gen = await addGeneratedAliases(
      tx,
      ctx.nowIso(),
      { mailboxId: mb.id, domainId: domainRow.id, domainName: domainRow.name },
      fresh,
    );
    return {
      result: { address, username: mb.username, kind: mb.kind, legacy: oldAddress, ...gen },
      details: { from: oldAddress },
    };
  });
}
