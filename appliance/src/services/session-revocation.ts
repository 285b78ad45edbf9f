/**
 * Ends the IMAP and POP3 sessions of mailboxes that may no longer use them: removed, expired, or whose
 * password was changed or reset after the session began (the directory's replicated
 * `sessions_valid_after` stamp). Checked
 *
 * - at once, on the directory's account-change event: a change made through this appliance (admin UI,
 *   JSON API, CLI, the purge job);
 * - every `intervalMs` (default one minute), for every logged-in user: changes replicated from another
 *   region, and mailboxes whose expiry date has just passed.
 *
 * A session is compared by when its connection was accepted, so one opened after the change (and logged
 * in with the new password) stays.
 */
import type { Directory } from '@delegato/directory';
import { type Logger, logEvent, logEventAt } from '@delegato/observability';

export const SESSION_SWEEP_INTERVAL_MS = 60_000;

/** What the IMAP and POP3 servers offer: their logged-in users, and a way to end their sessions. */
export interface SessionHolder {
  users(): Set<string>;
  endSessionsOf(userId: string, openedBefore?: number): number;
}

export interface SessionRevocation {
  /** Checks every logged-in user now (the periodic check). */
  sweep(): Promise<void>;
  stop(): void;
}

export function startSessionRevocation(opts: {
  directory: Directory;
  servers: Record<string, SessionHolder>;
  logger: Logger;
  intervalMs?: number;
}): SessionRevocation {
  const { directory, servers, logger } = opts;

  const check = async (mailboxId: string): Promise<void> => {
    const mb = await directory.mailboxById(mailboxId);
    let openedBefore: number;
    let reason: 'removed' | 'disabled' | 'password';
    if (!mb) {
      [openedBefore, reason] = [Number.POSITIVE_INFINITY, 'removed'];
    } else if (!directory.mayLogIn(mb)) {
      [openedBefore, reason] = [Number.POSITIVE_INFINITY, mb.state === 'removed' ? 'removed' : 'disabled'];
    } else if (mb.sessionsValidAfter) {
      [openedBefore, reason] = [Date.parse(mb.sessionsValidAfter), 'password'];
    } else {
      return;
    }
    for (const [proto, server] of Object.entries(servers)) {
      const sessions = server.endSessionsOf(mailboxId, openedBefore);
      if (sessions > 0) logEvent(logger, 'session.revoked', { proto, user: mailboxId, sessions, reason });
    }
  };

  const checkAll = async (ids: Iterable<string>): Promise<void> => {
    for (const id of ids) {
      try {
        await check(id);
      } catch (err) {
        logEventAt(
          logger,
          'warn',
          'session.revocation_failed',
          { err, user: id },
          'session revocation check failed',
        );
      }
    }
  };

  const unsubscribe = directory.onAccountChange(({ mailboxIds }) => {
    const open = new Set<string>();
    for (const server of Object.values(servers)) for (const id of server.users()) open.add(id);
    void checkAll(mailboxIds.filter((id) => open.has(id)));
  });

  const sweep = () => {
    const open = new Set<string>();
    for (const server of Object.values(servers)) for (const id of server.users()) open.add(id);
    return checkAll(open);
  };
  const timer = setInterval(() => void sweep(), opts.intervalMs ?? SESSION_SWEEP_INTERVAL_MS);
  timer.unref();

  return {
    sweep,
    stop() {
      clearInterval(timer);
      unsubscribe();
    },
  };
}
