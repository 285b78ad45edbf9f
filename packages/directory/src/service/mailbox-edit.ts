/**
 * A mailbox's details after creation (issue 19): group, contact, flag and type changed in place (a new
 * name goes through `mailbox.rename`, mailboxes.ts, which keeps the old address as an alias), and a
 * removed mailbox restored while its mail is still kept (`retentionDays`).
 */
import { and, eq } from 'drizzle-orm';
import { AddressingError, personalLocalParts } from '../addressing/index.js';
import { conflict, invalid } from '../errors.js';
import { addresses, groups, type MailboxKind, mailboxes } from '../schema.js';
import { cleanText, type DirectoryContext, mailboxByOfficial, POSTMASTER, scopedAddress } from './context.js';
import { checkDomainRoom } from './quotas.js';
import { addGeneratedAliases, type GeneratedAliases, groupId } from './rows.js';
import type { ChangeContext } from './writer.js';

export interface MailboxUpdate {
  address: string;
  /** A field left undefined is kept; null (or empty) clears it. */
  group?: string | null;
  contact?: string | null;
  flag?: string | null;
  kind?: MailboxKind;
}

/** `mailbox.update`: group, contact, flag, type (personal or role) of an active mailbox. */
export async function updateMailbox(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: MailboxUpdate,
): Promise<{ address: string; changed: string[] }> {
  const { address, domainRow } = await scopedAddress(ctx.db, change.actor, input.address);
  const mb = await mailboxByOfficial(ctx.db, address);
  if (mb.state !== 'active') throw conflict(`${address} is removed; restore it first`);
  const set: Partial<typeof mailboxes.$inferInsert> = {};
  const from: Record<string, unknown> = {};
  const to: Record<string, unknown> = {};
  let group: string | null | undefined;
  if (input.group !== undefined) group = cleanText('group', input.group);
  const [old] = mb.groupId ? await ctx.db.select().from(groups).where(eq(groups.id, mb.groupId)) : [];
  const oldGroup = old?.name ?? null;
  if (input.contact !== undefined) {
    const contact = cleanText('contact', input.contact);
    if (contact !== mb.contact) {
      set.contact = contact;
      to.contact = contact;
      from.contact = mb.contact;
    }
  }
  if (input.flag !== undefined) {
    const flag = cleanText('flag', input.flag);
    if (flag !== mb.flag) {
      set.flag = flag;
      to.flag = flag;
      from.flag = mb.flag;
    }
  }
  if (input.kind !== undefined && input.kind !== mb.kind) {
    if (input.kind !== 'personal' && input.kind !== 'role') throw invalid('type must be personal or role');
    if (mb.localPart === POSTMASTER) throw conflict('postmaster@ stays a role mailbox');
    if (input.kind === 'personal' && (!mb.firstName || !mb.lastName)) {
      throw invalid('a personal mailbox needs a first and a last name: rename it first');
    }
    set.kind = input.kind;
    from.kind = mb.kind;
    to.kind = input.kind;
  }
  return change.commit({ action: 'mailbox.update', target: address, domain: domainRow.name }, async (tx) => {
    if (group !== undefined) {
      const id = await groupId(tx, ctx.nowIso(), domainRow.id, group);
      if (id !== mb.groupId) {
        set.groupId = id;
        to.group = group;
        from.group = oldGroup;
      }
    }
    const changed = Object.keys(to).sort();
    if (changed.length > 0) {
      await tx
        .update(mailboxes)
        .set({ ...set, updatedAt: ctx.nowIso() })
        .where(eq(mailboxes.id, mb.id));
    }
    return {
      result: { address, changed },
      details: { from, to },
    };
  });
}

/**
 * `mailbox.restore`: a removed mailbox active again, with the mail kept for it and a person's generated
 * aliases (those still free); refused once its mail was purged, or when the domain has no room left.
 */
export async function restoreMailbox(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { address: string },
): Promise<{ address: string; mailboxId: string } & GeneratedAliases> {
  const { address, domainRow } = await scopedAddress(ctx.db, change.actor, input.address);
  const mb = await mailboxByOfficial(ctx.db, address);
  if (mb.state !== 'removed') throw conflict(`${address} is not removed`);
  await checkDomainRoom(ctx.db, domainRow, { adding: 1, quotas: [mb.quotaBytes] });
  let generated: string[] = [];
  if (mb.kind === 'personal' && mb.firstName && mb.lastName) {
    try {
      generated = personalLocalParts(mb.firstName, mb.lastName).aliases.filter((a) => a !== mb.localPart);
    } catch (err) {
      if (!(err instanceof AddressingError)) throw err;
    }
  }
  return change.commit({ action: 'mailbox.restore', target: address, domain: domainRow.name }, async (tx) => {
    const now = ctx.nowIso();
    const [official] = await tx
      .select()
      .from(addresses)
      .where(and(eq(addresses.mailboxId, mb.id), eq(addresses.kind, 'official')));
    if (!official) throw conflict(`${address} no longer has its address; it cannot be restored`);
    await tx
      .update(mailboxes)
      .set({ state: 'active', removedAt: null, purgeAfter: null, updatedAt: now })
      .where(eq(mailboxes.id, mb.id));
    const gen = await addGeneratedAliases(
      tx,
      now,
      { mailboxId: mb.id, domainId: domainRow.id, domainName: domainRow.name },
      generated,
    );
    return {
      result: { address, mailboxId: mb.id, ...gen },
      details: { aliases: gen.aliases.map((a) => a.address) },
      accounts: [mb.id],
    };
  });
}
