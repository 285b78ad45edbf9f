/**
 * The audit log: the row every change writes (in the change's own transaction, see writer.ts), sign-in
 * events, and reading the log (operators: all of it; domain admins: their domains').
 */
import { desc, eq } from 'drizzle-orm';
import { auditLog } from '../schema.js';
import { type Actor, requireDomain, requireOperator } from '../scope.js';
import { type DirectoryContext, domainName, newId } from './context.js';

export type AuditRow = typeof auditLog.$inferSelect;

/** Sign-in events in the audit log. */
export type AuthEventAction =
  | 'auth.signin'
  | 'auth.signin-failed'
  | 'auth.signout'
  | 'auth.lockout'
  | 'auth.token';

/** A sign-in event (see `Directory.recordAuthEvent`). */
export interface AuthEvent {
  action: AuthEventAction;
  actor: string;
  from: string;
  target: string;
  domain?: string | null;
  details?: Record<string, unknown>;
}

/** What the audit row of a change says: the action, what it was about, the domain it belongs to. */
export interface AuditEntry {
  /** e.g. `mailbox.add`, `alias.remove`, `admin.totp-on`. */
  action: string;
  /** The address, domain, admin username or region the change is about. */
  target: string;
  /** The domain whose admins may read the row; null for changes outside any domain. */
  domain: string | null;
}

/** The audit row of a change made by `actor`. */
export function changeRow(
  at: string,
  actor: Actor,
  entry: AuditEntry,
  details: Record<string, unknown> | undefined,
): AuditRow {
  return {
    id: newId(),
    at,
    actor: `${actor.kind}:${actor.name}`,
    actorFrom: actor.from,
    action: entry.action,
    target: entry.target,
    domain: entry.domain,
    details: details ? JSON.stringify(details) : null,
  };
}

/** The audit row of a sign-in event; the free-form fields are cut to their column's size. */
export function authEventRow(at: string, event: AuthEvent): AuditRow {
  return {
    id: newId(),
    at,
    actor: event.actor.slice(0, 400),
    actorFrom: event.from.slice(0, 100),
    action: event.action,
    target: event.target.slice(0, 320),
    domain: event.domain ?? null,
    details: event.details ? JSON.stringify(event.details) : null,
  };
}

/** The newest entries first: one domain's (its admins or operators), or all of them (operators only). */
export async function listAudit(
  ctx: DirectoryContext,
  actor: Actor,
  opts: { domain?: string; limit?: number } = {},
): Promise<AuditRow[]> {
  let domain: string | undefined;
  if (opts.domain !== undefined) {
    domain = domainName(opts.domain);
    requireDomain(actor, domain);
  } else requireOperator(actor, 'read the whole audit log');
  return ctx.db
    .select()
    .from(auditLog)
    .where(domain ? eq(auditLog.domain, domain) : undefined)
    .orderBy(desc(auditLog.id))
    .limit(Math.min(opts.limit ?? 100, 10_000));
}
