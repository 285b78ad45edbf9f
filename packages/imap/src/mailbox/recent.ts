/**
 * \Recent (RFC 3501 §2.3.2): a message is recent in the one session that first learns of it (SELECT, or an
 * EXISTS it announces), and only while that session keeps the mailbox selected; EXAMINE and STATUS see
 * messages nobody has claimed yet as recent without claiming them. IMAP4rev2 dropped the flag (RFC 9051
 * §2.3.2); sessions that ENABLE it neither see nor claim it.
 *
 * The server keeps, per folder, the first UID no session has claimed (every UID below it was claimed),
 * in memory: a folder this process has not seen yet starts at UID 1 (after a restart every message is
 * recent once, as with Dovecot's in-memory indexes). Folders are keyed by user and UIDVALIDITY (unique in
 * the store and kept on RENAME), at most `MAX_RECENT_FOLDERS` of them (least recently used forgotten).
 */

/** Folders whose claimed-up-to UID is kept. */
export const MAX_RECENT_FOLDERS = 100_000;

export class RecentTracker {
  readonly #next = new Map<string, number>();

  constructor(private readonly maxFolders = MAX_RECENT_FOLDERS) {}

  /** The first UID of the folder not claimed by any session (messages from it on are recent to no one yet). */
  unclaimedFrom(userId: string, uidValidity: number): number {
    return this.#next.get(key(userId, uidValidity)) ?? 1;
  }

  /**
   * Claims every unclaimed UID below `uidNext` for the calling session; returns the first one claimed
   * (the session's recent messages are [returned, uidNext)).
   */
  claim(userId: string, uidValidity: number, uidNext: number): number {
    const k = key(userId, uidValidity);
    const from = this.#next.get(k) ?? 1;
    this.#next.delete(k);
    this.#next.set(k, Math.max(from, uidNext));
    if (this.#next.size > this.maxFolders) {
      const oldest = this.#next.keys().next().value;
      if (oldest !== undefined) this.#next.delete(oldest);
    }
    return from;
  }
}

function key(userId: string, uidValidity: number): string {
  return `${userId}\0${uidValidity}`;
}
