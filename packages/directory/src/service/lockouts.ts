/**
 * Login lockouts that hold in every region. Each region counts failed logins in its own limiter; when an
 * account's budget runs out there, the region records the start of the lockout as a sign-in event
 * (`auth.lockout` with `details.account` and `details.until`), which goes to the writer like every sign-in
 * record. The writer appends a `login_lockouts` row with it; once replicated (the next push and pull, about
 * a second), every region refuses the account's logins until then, whichever region counted the failures.
 *
 * An attacker spreading guesses over N regions gets at most N budgets before the first lockout; after it,
 * none anywhere. With the writer unreachable the lockout holds in the region that counted it only.
 */
import { and, desc, eq, gt, lt, ne } from 'drizzle-orm';
import type { DirectoryDb } from '../engine.js';
import { loginLockouts } from '../schema.js';
import type { AuthEvent } from './audit.js';
import { type DirectoryContext, newId } from './context.js';

/** The account key of an admin in the lockout table (mailboxes use `mailboxAccountKey`). */
export function adminAccountKey(username: string): string {
  return `admin:${username.trim().toLowerCase()}`;
}

const ACCOUNT = /^(mailbox|admin):[^\s]{1,320}$/;
/** Rows this long past their end are deleted by the writer when it records the next lockout. */
const KEEP_EXPIRED_MS = 24 * 3600_000;
/** A lockout longer than this is cut to it (a region cannot lock an account for ever). */
const MAX_LOCKOUT_MS = 24 * 3600_000;

/** The lockout a sign-in event announces (`auth.lockout` with an account key and an end), or null. */
export function lockoutOf(event: AuthEvent): { account: string; until: number } | null {
  if (event.action !== 'auth.lockout') return null;
  const account = event.details?.account;
  const until = event.details?.until;
  if (typeof account !== 'string' || !ACCOUNT.test(account) || typeof until !== 'string') return null;
  const ms = Date.parse(until);
  return Number.isFinite(ms) ? { account: account.toLowerCase(), until: ms } : null;
}

/**
 * At the writer, in the sign-in record's transaction: appends the lockout (cut to a day from now) and
 * deletes rows a day past their end. `event.from` is `<region>/<client>` when another region sent it.
 */
export async function recordLockout(
  tx: DirectoryDb,
  ctx: DirectoryContext,
  event: AuthEvent,
  lockout: { account: string; until: number },
): Promise<void> {
  const now = ctx.now().getTime();
  const slash = event.from.indexOf('/');
  const region = slash > 0 ? event.from.slice(0, slash) : ctx.options.regionId;
  await tx.insert(loginLockouts).values({
    id: newId(),
    account: lockout.account,
    lockedUntil: new Date(Math.min(lockout.until, now + MAX_LOCKOUT_MS)).toISOString(),
    region: region.slice(0, 64),
    lockedAt: new Date(now).toISOString(),
  });
  await tx
    .delete(loginLockouts)
    .where(lt(loginLockouts.lockedUntil, new Date(now - KEEP_EXPIRED_MS).toISOString()));
}

/**
 * When the account's latest lockout recorded by another region ends (ms since the epoch), or null when no
 * other region locked it. This region's own lockouts are its limiter's: it counted them, forgives typos
 * and ends them on its own clock.
 */
export async function lockedUntil(ctx: DirectoryContext, account: string): Promise<number | null> {
  const now = ctx.now().toISOString();
  const [row] = await ctx.db
    .select({ until: loginLockouts.lockedUntil })
    .from(loginLockouts)
    .where(
      and(
        eq(loginLockouts.account, account.toLowerCase()),
        gt(loginLockouts.lockedUntil, now),
        ne(loginLockouts.region, ctx.options.regionId),
      ),
    )
    .orderBy(desc(loginLockouts.lockedUntil))
    .limit(1);
  return row ? Date.parse(row.until) : null;
}
