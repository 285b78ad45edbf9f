/** Change events (`subscribe`): published after the commit, per user; a throwing listener is a warning. */
import type { StoreEvent, UserId } from './backend.js';

export class StoreEvents {
  readonly #listeners = new Map<UserId, Set<(event: StoreEvent) => void>>();

  subscribe(userId: UserId, listener: (event: StoreEvent) => void): () => void {
    let set = this.#listeners.get(userId);
    if (!set) {
      set = new Set();
      this.#listeners.set(userId, set);
    }
    // A wrapper, so subscribing the same function twice gives two independent subscriptions.
    const entry = (event: StoreEvent) => listener(event);
    set.add(entry);
    return () => {
      const current = this.#listeners.get(userId);
      if (!current) return;
      current.delete(entry);
      if (current.size === 0) this.#listeners.delete(userId);
    };
  }

  emit(events: StoreEvent[]): void {
    for (const event of events) {
      const set = this.#listeners.get(event.userId);
      if (!set) continue;
      for (const listener of [...set]) {
        try {
          listener(event);
        } catch (err) {
          // A faulty session must not fail a committed change.
          process.emitWarning(err instanceof Error ? err : String(err), 'MailStoreListenerWarning');
        }
      }
    }
  }
}
