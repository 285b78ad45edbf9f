/**
 * The open sessions of a protocol server and when each connection was accepted, so that the sessions of
 * one account can be ended from outside (its password was changed or reset, it was removed or
 * disabled): `users()` lists the logged-in accounts, `endSessionsOf` ends theirs.
 */
export class OpenSessions<S> {
  readonly #open = new Map<S, number>();

  /**
   * @param userOf the logged-in user id of a session, or null (not logged in yet, or leaving)
   * @param endOne how the protocol ends a session it did not choose to end (IMAP: BYE, then close)
   */
  constructor(
    private readonly userOf: (session: S) => string | null,
    private readonly endOne: (session: S) => void,
  ) {}

  /**
   * Creates a session with `create`, handing it the close callback to call once its connection is gone
   * (`onClose`, the transport's own, is called after the session left the table).
   */
  add(create: (onClose: () => void) => S, onClose?: () => void): S {
    const session: S = create(() => {
      this.#open.delete(session);
      onClose?.();
    });
    this.#open.set(session, Date.now());
    return session;
  }

  /** The user ids of the logged-in sessions. */
  users(): Set<string> {
    const out = new Set<string>();
    for (const s of this.#open.keys()) {
      const id = this.userOf(s);
      if (id !== null) out.add(id);
    }
    return out;
  }

  /** Ends the sessions of `userId` whose connection was accepted before `openedBefore` (ms; default all). */
  endSessionsOf(userId: string, openedBefore = Number.POSITIVE_INFINITY): number {
    let n = 0;
    for (const [s, openedAt] of this.#open) {
      if (openedAt >= openedBefore || this.userOf(s) !== userId) continue;
      n++;
      this.endOne(s);
    }
    return n;
  }
}
