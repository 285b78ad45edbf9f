/**
 * Row-level steps that several changes share, always run inside a change's transaction (`tx` of
 * `commit`, writer.ts): a mailbox with its official address, a person's generated aliases, groups, and
 * letting go of a mailbox's aliases. The rules of what an address is: docs/decisions/0002-directory-addresses-table.md.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { deriveCredentials } from '../credentials.js';
import type { DirectoryDb } from '../engine.js';
import { invalid } from '../errors.js';
import { targetsOf } from '../lookup.js';
import { addresses, addressTargets, groups, type MailboxKind, mailboxes } from '../schema.js';
import { newId } from './context.js';

const GROUP_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u;

/** Generated aliases a mailbox answers to, and those not created because the address is taken. */
export interface GeneratedAliases {
  /** Generated aliases this mailbox now answers to (ambiguous ones listed with their candidates). */
  aliases: Array<{ address: string; ambiguous: boolean; candidates: string[] }>;
  /** Generated aliases not created because the address is something else already. */
  skippedAliases: string[];
}

export interface MailboxRowInput {
  domainId: string;
  domainName: string;
  kind: MailboxKind;
  localPart: string;
  username: string;
  firstName: string | null;
  lastName: string | null;
  groupId: string | null;
  contact: string | null;
  flag: string | null;
  quotaBytes: number | null;
  expiresOn: string | null;
  credentials: Awaited<ReturnType<typeof deriveCredentials>> | null;
}

/** Inserts an active mailbox and its official address. */
export async function insertMailbox(
  tx: DirectoryDb,
  now: string,
  m: MailboxRowInput,
): Promise<{ id: string; address: string }> {
  const id = newId();
  const address = `${m.localPart}@${m.domainName}`;
  await tx.insert(mailboxes).values({
    id,
    domainId: m.domainId,
    kind: m.kind,
    firstName: m.firstName,
    lastName: m.lastName,
    username: m.username,
    localPart: m.localPart,
    address,
    groupId: m.groupId,
    contact: m.contact,
    flag: m.flag,
    quotaBytes: m.quotaBytes,
    expiresOn: m.expiresOn,
    state: 'active',
    removedAt: null,
    purgeAfter: null,
    passwordHash: m.credentials?.passwordHash ?? null,
    scramSalt: m.credentials?.scramSalt ?? null,
    scramIterations: m.credentials?.scramIterations ?? null,
    scramStoredKey: m.credentials?.scramStoredKey ?? null,
    scramServerKey: m.credentials?.scramServerKey ?? null,
    cramSecret: m.credentials?.cramSecret ?? null,
    createdAt: now,
    updatedAt: now,
  });
  await tx
    .insert(addresses)
    .values({ id: newId(), address, domainId: m.domainId, kind: 'official', mailboxId: id, createdAt: now });
  return { id, address };
}

/**
 * Adds the generated aliases of a person. An alias that is already generated for someone else gains
 * this mailbox as a second candidate and becomes ambiguous; an address that is something else
 * (official, manual, legacy, forward, list) is left alone and reported as skipped.
 */
export async function addGeneratedAliases(
  tx: DirectoryDb,
  now: string,
  target: { mailboxId: string; domainId: string; domainName: string },
  locals: string[],
): Promise<GeneratedAliases> {
  const { mailboxId, domainId, domainName } = target;
  const aliases: GeneratedAliases['aliases'] = [];
  const skippedAliases: string[] = [];
  for (const local of locals) {
    const address = `${local}@${domainName}`;
    const [row] = await tx.select().from(addresses).where(eq(addresses.address, address));
    let addressId: string;
    if (!row) {
      addressId = newId();
      await tx
        .insert(addresses)
        .values({ id: addressId, address, domainId, kind: 'generated', mailboxId: null, createdAt: now });
    } else if (row.kind === 'generated') {
      addressId = row.id;
    } else {
      skippedAliases.push(address);
      continue;
    }
    await tx.insert(addressTargets).values({
      id: newId(),
      addressId,
      targetMailboxId: mailboxId,
      targetAddress: null,
      targetKey: `mailbox:${mailboxId}`,
      createdAt: now,
    });
    const targets = await targetsOf(tx, addressId);
    aliases.push({
      address,
      ambiguous: targets.length > 1,
      candidates: targets.length > 1 ? targets.map((t) => t.address) : [],
    });
  }
  return { aliases, skippedAliases };
}

/** The id of a domain's group by name, created when missing; null for no group. */
export async function groupId(
  tx: DirectoryDb,
  now: string,
  domainId: string,
  name: string | null,
): Promise<string | null> {
  if (name === null) return null;
  if (!GROUP_NAME.test(name)) throw invalid(`invalid group name "${name}"`);
  const [row] = await tx
    .select()
    .from(groups)
    .where(and(eq(groups.domainId, domainId), eq(groups.name, name)));
  if (row) return row.id;
  const id = newId();
  await tx.insert(groups).values({ id, domainId, name, createdAt: now });
  return id;
}

/** Detaches a mailbox from every alias; aliases left without targets disappear. */
export async function detachMailbox(tx: DirectoryDb, mailboxId: string): Promise<void> {
  await tx.delete(addressTargets).where(eq(addressTargets.targetMailboxId, mailboxId));
  await tx.delete(addresses).where(and(eq(addresses.mailboxId, mailboxId), eq(addresses.kind, 'legacy')));
  await dropEmptyAliases(tx);
}

/** Deletes aliases (generated, manual, forward, list) that have no target left. */
export async function dropEmptyAliases(tx: DirectoryDb): Promise<void> {
  const aliasRows = await tx
    .select({ id: addresses.id })
    .from(addresses)
    .where(inArray(addresses.kind, ['generated', 'manual', 'forward', 'list']));
  if (aliasRows.length === 0) return;
  const withTargets = new Set(
    (await tx.selectDistinct({ id: addressTargets.addressId }).from(addressTargets)).map((r) => r.id),
  );
  const empty = aliasRows.filter((r) => !withTargets.has(r.id)).map((r) => r.id);
  if (empty.length > 0) await tx.delete(addresses).where(inArray(addresses.id, empty));
}
