/**
 * The write seam: every change of the directory goes through here, and nothing else writes it.
 *
 * - `DirectoryWriter.mutate(actor, change)` is the one entry: `change` is plain data, a kind from the
 *   registry in changes.ts and its JSON input (`{ kind: 'mailbox.add', input: { domain, ... } }`). The
 *   writer runs the change's handler, which checks the actor's scope, validates, and reads what it needs.
 * - A handler writes only through `commit(entry, apply)`: one serialised transaction that runs `apply`
 *   and inserts the audit row in that same transaction. A unique-constraint violation (a concurrent
 *   writer took the address) surfaces as `duplicate`.
 * - Once the handler is done, the mailboxes whose sessions its commits may have ended are announced
 *   (notifications.ts), and every commit invalidates the recipient-lookup cache.
 *
 * The federation (docs/federation.md, "One writer") plugs in here and only here: a region that is not the
 * writer replaces `LocalWriter` with one that sends `{ actor, change }` to the writer region and returns its
 * answer; at the writer, `commit` is where the push after the transaction, and the compensating write when
 * that push fails, go. Service files do not change. See docs/decisions/0007-directory-services-and-write-seam.md.
 */
import { type DirectoryDb, type Engine, isUniqueViolation } from '../engine.js';
import { duplicate } from '../errors.js';
import { auditLog } from '../schema.js';
import type { Actor } from '../scope.js';
import { type AuditEntry, type AuthEvent, authEventRow, changeRow } from './audit.js';
import { CHANGES, type ChangeInput, type ChangeKind, type ChangeResult } from './changes.js';
import type { DirectoryContext } from './context.js';
import { lockoutOf, recordLockout } from './lockouts.js';
import type { AccountEvents } from './notifications.js';

/** One change as data: what `mutate` takes, and what a forwarding writer sends to the writer region. */
export interface DirectoryChange<K extends ChangeKind = ChangeKind> {
  kind: K;
  input: ChangeInput<K>;
}

/** What a change's `apply` step returns. */
export interface Applied<T> {
  result: T;
  /** The audit row's details (never a password or a secret). */
  details?: Record<string, unknown>;
  /** Mailboxes whose sessions this write may end (announced once the change is done). */
  accounts?: readonly string[];
}

/** What a change handler gets besides the directory: who acts, and the one way to write. */
export interface ChangeContext {
  readonly actor: Actor;
  /** Runs `apply` in one transaction together with the change's audit row; returns its result. */
  commit<T>(entry: AuditEntry, apply: (tx: DirectoryDb) => Promise<Applied<T>>): Promise<T>;
}

/** A change: scope check and validation first, then its writes through `change.commit`. */
export type ChangeHandler<I, R> = (ctx: DirectoryContext, change: ChangeContext, input: I) => Promise<R>;

export interface DirectoryWriter {
  /** Applies one change for `actor` (scope-checked by the change itself). */
  mutate<K extends ChangeKind>(actor: Actor, change: DirectoryChange<K>): Promise<ChangeResult<K>>;
  /**
   * Appends a sign-in event to the audit log. Not a directory change: no scope, no cache to invalidate,
   * nothing to announce, and the row (a fresh ULID) conflicts with nothing.
   */
  recordAuthEvent(event: AuthEvent): Promise<void>;
}

/** The writer of a standalone appliance, or of the writer region: applies changes to its own database. */
export class LocalWriter implements DirectoryWriter {
  constructor(
    readonly engine: Engine,
    readonly ctx: DirectoryContext,
    readonly hooks: {
      /** Where mailbox-session announcements go. */
      events: AccountEvents;
      /** Called before every commit (also one that fails: it may have half-run). */
      onWrite: () => void;
    },
  ) {}

  async mutate<K extends ChangeKind>(actor: Actor, change: DirectoryChange<K>): Promise<ChangeResult<K>> {
    // A change may come from elsewhere (a forwarding region): only the registry's own kinds.
    if (!Object.hasOwn(CHANGES, change.kind))
      throw new TypeError(`unknown directory change ${String(change.kind)}`);
    const handler = CHANGES[change.kind] as unknown as ChangeHandler<ChangeInput<K>, ChangeResult<K>>;
    const ended: string[] = [];
    const step: ChangeContext = {
      actor,
      commit: async (entry, apply) => {
        const applied = await this.#commit(actor, entry, apply);
        if (applied.accounts) ended.push(...applied.accounts);
        return applied.result;
      },
    };
    try {
      return await handler(this.ctx, step, change.input);
    } finally {
      this.hooks.events.announce(ended);
    }
  }

  async #commit<T>(
    actor: Actor,
    entry: AuditEntry,
    apply: (tx: DirectoryDb) => Promise<Applied<T>>,
  ): Promise<Applied<T>> {
    try {
      this.hooks.onWrite();
      return await this.engine.transaction(async (tx) => {
        const applied = await apply(tx);
        await tx.insert(auditLog).values(changeRow(this.ctx.nowIso(), actor, entry, applied.details));
        return applied;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate(`${entry.target} already exists`);
      throw err;
    }
  }

  async recordAuthEvent(event: AuthEvent): Promise<void> {
    const lockout = lockoutOf(event);
    await this.engine.transaction(async (tx) => {
      await tx.insert(auditLog).values(authEventRow(this.ctx.nowIso(), event));
      if (lockout) await recordLockout(tx, this.ctx, event, lockout);
    });
  }
}
