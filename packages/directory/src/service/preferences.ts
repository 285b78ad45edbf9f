/**
 * Personal preferences kept in the directory (so they follow the person to every region): the language
 * an admin or a mailbox user reads the web interface in. The set of languages is the admin UI's; here a
 * language is any lowercase tag of two or three letters (`en`, `it`), or null for "the browser's choice".
 */
import { eq } from 'drizzle-orm';
import { invalid } from '../errors.js';
import { admins, mailboxes } from '../schema.js';
import { requireOperator } from '../scope.js';
import { adminRow } from './admins.js';
import { type DirectoryContext, mailboxByOfficial, scopedAddress } from './context.js';
import type { ChangeContext } from './writer.js';

const LANGUAGE_TAG = /^[a-z]{2,3}$/;

function languageTag(input: string | null): string | null {
  if (input === null) return null;
  const tag = input.trim().toLowerCase();
  if (!LANGUAGE_TAG.test(tag)) throw invalid(`invalid language "${input}": use a code such as en or it`);
  return tag;
}

/** `mailbox.language`: the interface language of a mailbox user (themselves, or an admin of the domain). */
export async function setMailboxLanguage(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { address: string; language: string | null },
): Promise<{ language: string | null }> {
  const language = languageTag(input.language);
  const { address, domainRow } = await scopedAddress(ctx.db, change.actor, input.address);
  const mb = await mailboxByOfficial(ctx.db, address);
  return change.commit(
    { action: 'mailbox.language', target: address, domain: domainRow.name },
    async (tx) => {
      await tx.update(mailboxes).set({ language, updatedAt: ctx.nowIso() }).where(eq(mailboxes.id, mb.id));
      return { result: { language }, details: { from: mb.language, to: language } };
    },
  );
}

/** `admin.language`: an admin's own interface language, or anyone's by an operator. */
export async function setAdminLanguage(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { username: string; language: string | null },
): Promise<{ language: string | null }> {
  const { actor } = change;
  const username = input.username.trim().toLowerCase();
  if (!(actor.kind === 'domain-admin' && actor.name === username))
    requireOperator(actor, 'change other admins');
  const language = languageTag(input.language);
  const row = await adminRow(ctx, username);
  return change.commit({ action: 'admin.language', target: username, domain: null }, async (tx) => {
    await tx.update(admins).set({ language, updatedAt: ctx.nowIso() }).where(eq(admins.id, row.id));
    return { result: { language }, details: { from: row.language, to: language } };
  });
}

/** An admin's stored language (no access check: it is their own page's language); null when unset. */
export async function adminLanguage(ctx: DirectoryContext, username: string): Promise<string | null> {
  const [row] = await ctx.db
    .select({ language: admins.language })
    .from(admins)
    .where(eq(admins.username, username.trim().toLowerCase()));
  return row?.language ?? null;
}
