/**
 * The audit log: the row every change writes (in the change's own transaction, see writer.ts), sign-in
 * events, and reading the log (operators: all of it; domain admins: their domains').
 */
import { and, count, desc, eq, like, or } from 'drizzle-orm';
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

/** What the audit page filters on: an action prefix (`mailbox.`, `auth.`), who, and any text. */
export interface AuditQuery {
  domain?: string;
  limit?: number;
  offset?: number;
  /** Actions starting with this (`mailbox.add`, `mailbox.`, `auth.`). */
  action?: string;
  /** Rows whose actor contains this. */
  actor?: string;
  /** Rows whose target or details contain this. */
  text?: string;
}

const likeText = (v: string) => `%${v.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;

/** The audit log, newest first (operators: all of it; domain admins: `domain`, one of theirs). */
export async function listAudit(
  ctx: DirectoryContext,
  actor: Actor,
  opts: AuditQuery = {},
): Promise<AuditRow[]> {
  return (await queryAudit(ctx, actor, opts)).rows;
}

/** `listAudit` with the number of matching rows (for paging). */
export async function queryAudit(
  ctx: DirectoryContext,
  actor: Actor,
  opts: AuditQuery = {},
): Promise<{ total: number; rows: AuditRow[] }> {
  let domain: string | undefined;
  if (opts.domain !== undefined) {
    domain = domainName(opts.domain);
    requireDomain(actor, domain);
  } else requireOperator(actor, 'read the whole audit log');
  const where = and(
    domain ? eq(auditLog.domain, domain) : undefined,
    opts.action ? like(auditLog.action, `${opts.action.replace(/[%_\\]/g, (c) => `\\${c}`)}%`) : undefined,
    opts.actor ? like(auditLog.actor, likeText(opts.actor)) : undefined,
    opts.text
      ? or(like(auditLog.target, likeText(opts.text)), like(auditLog.details, likeText(opts.text)))
      : undefined,
  );
  const [{ n } = { n: 0 }] = await ctx.db.select({ n: count() }).from(auditLog).where(where);
  const rows = await ctx.db
    .select()
    .from(auditLog)
    .where(where)
    .orderBy(desc(auditLog.id))
    .limit(Math.min(Math.max(opts.limit ?? 100, 1), 10_000))
    .offset(Math.max(opts.offset ?? 0, 0));
  return { total: n, rows };
}
