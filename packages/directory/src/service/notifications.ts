/**
 * Change notifications: after a committed change that may end mailboxes' sessions (a password set, a
 * mailbox removed, purged or given an expiry, a domain removed), the write seam (writer.ts) announces the
 * mailbox ids here, and the appliance closes the IMAP and POP3 sessions that are no longer valid.
 */

/** A local change that may end mailboxes' sessions (password, removal, expiry): their ids. */
export interface AccountChange {
  mailboxIds: string[];
}

export class AccountEvents {
  readonly #listeners = new Set<(change: AccountChange) => void>();

  /** Adds a listener; returns the unsubscribe function. */
  subscribe(listener: (change: AccountChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Calls every listener once with `mailboxIds` (nothing when empty). */
  announce(mailboxIds: string[]): void {
    if (mailboxIds.length === 0) return;
    for (const listener of this.#listeners) {
      try {
        listener({ mailboxIds });
      } catch {
        // A listener's fault is its own; the change is committed.
      }
    }
  }
}
