/**
 * RFC 1939 §4 / §8: when the client authenticates, "the POP3 server then acquires an exclusive-access
 * lock on the maildrop ... to ensure that messages are not modified or removed before the session enters
 * the UPDATE state". An in-process lock per user id: a second POP3 session of the same user gets
 * `-ERR [IN-USE]` (RFC 2449 §8.1.2). IMAP sessions do not take it (they work on their own snapshot of the
 * same INBOX; the store's UIDs keep both coherent).
 *
 * One instance per server by default; pass the same instance to several `Pop3Server`s of one process
 * (say, one per listener address) to make them share it.
 */
export type Release = () => void;

export class MaildropLocks {
  readonly #held = new Set<string>();

  /** Takes the lock, or returns null when another session holds it. The release is idempotent. */
  tryAcquire(userId: string): Release | null {
    if (this.#held.has(userId)) return null;
    this.#held.add(userId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held.delete(userId);
    };
  }

  isLocked(userId: string): boolean {
    return this.#held.has(userId);
  }

  get size(): number {
    return this.#held.size;
  }
}
