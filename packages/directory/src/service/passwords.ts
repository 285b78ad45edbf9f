/**
 * Setting credentials: mailbox passwords (argon2id, SCRAM-SHA-256 keys and the sealed CRAM-MD5 secret,
 * see ../credentials.ts), admin passwords, and admins' TOTP secrets (sealed with the federation key so
 * they work in every region). A password change ends the sessions and tokens issued before it
 * (`sessions_valid_after`); login.ts checks all of these.
 */
import { eq } from 'drizzle-orm';
import { checkPasswordPolicy, deriveCredentials, hashPassword } from '../credentials.js';
import { invalid } from '../errors.js';
import { checkPasswordFor } from '../password-policy.js';
import { admins, mailboxes } from '../schema.js';
import { requireOperator } from '../scope.js';
import { adminRow } from './admins.js';
import { type DirectoryContext, mailboxByOfficial, scopedAddress } from './context.js';
import type { ChangeContext } from './writer.js';

/** `mailbox.passwd`: a mailbox's new password, by an admin of its domain. */
export async function setPassword(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { address: string; password: string },
): Promise<void> {
  const { address, domainRow } = await scopedAddress(ctx.db, change.actor, input.address);
  const mb = await mailboxByOfficial(ctx.db, address);
  checkPasswordFor(input.password, {});
  const c = await deriveCredentials(input.password, { key: ctx.options.key, cramMd5: ctx.options.cramMd5 });
  await change.commit({ action: 'mailbox.passwd', target: address, domain: domainRow.name }, async (tx) => {
    const now = ctx.nowIso();
    // Whoever knew the old password is out: sessions that began before now are over (every region).
    await tx
      .update(mailboxes)
      .set({ ...c, updatedAt: now, sessionsValidAfter: now })
      .where(eq(mailboxes.id, mb.id));
    return { result: undefined, accounts: [mb.id] };
  });
}

/** `admin.passwd`: an admin's own new password, or anyone's by an operator. */
export async function setAdminPassword(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { username: string; password: string },
): Promise<void> {
  const { actor } = change;
  const username = input.username.trim().toLowerCase();
  if (!(actor.kind === 'domain-admin' && actor.name === username))
    requireOperator(actor, 'change other admins');
  const row = await adminRow(ctx, username);
  checkPasswordPolicy(input.password);
  checkPasswordFor(input.password, {});
  const passwordHash = await hashPassword(input.password);
  await change.commit({ action: 'admin.passwd', target: username, domain: null }, async (tx) => {
    const now = ctx.nowIso();
    // Sessions and API tokens issued before now are over, in every region (actorForAdmin checks).
    await tx
      .update(admins)
      .set({ passwordHash, updatedAt: now, sessionsValidAfter: now })
      .where(eq(admins.id, row.id));
    return { result: undefined };
  });
}

/** The admin's TOTP secret (base32), opened with the federation key; null when they have none. */
export async function adminTotpSecret(ctx: DirectoryContext, usernameInput: string): Promise<string | null> {
  const username = usernameInput.trim().toLowerCase();
  const [row] = await ctx.db
    .select({ totpSecret: admins.totpSecret })
    .from(admins)
    .where(eq(admins.username, username));
  return row?.totpSecret ? ctx.options.key.decrypt(row.totpSecret) : null;
}

/**
 * `admin.totp`: sets (or with null, removes) an admin's TOTP secret, sealed with the federation key so
 * it works in every region. An admin may change their own; operators anyone's (a reset after a lost phone).
 */
export async function setAdminTotpSecret(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { username: string; secret: string | null },
): Promise<void> {
  const { actor } = change;
  const { secret } = input;
  const username = input.username.trim().toLowerCase();
  const self = actor.kind !== 'system' && actor.name === username;
  if (!self) requireOperator(actor, "change other admins' two-step sign-in");
  const row = await adminRow(ctx, username);
  if (secret !== null && !/^[A-Z2-7]{16,128}=*$/.test(secret)) throw invalid('not a base32 TOTP secret');
  const sealed = secret === null ? null : ctx.options.key.encrypt(secret);
  const action = secret === null ? 'admin.totp-off' : 'admin.totp-on';
  await change.commit({ action, target: username, domain: null }, async (tx) => {
    await tx.update(admins).set({ totpSecret: sealed, updatedAt: ctx.nowIso() }).where(eq(admins.id, row.id));
    return { result: undefined };
  });
}
