/**
 * Counts the listeners' traffic per day and domain in memory (`TrafficObserver` of @delegato/mta) and
 * flushes the sums into the operations database (stats.db) every minute, at every roll-up and at stop.
 *
 * What counts, per message and domain (one count per message for each domain concerned):
 * - `messages_in` / `bytes_in`: received into mailboxes of a domain from anyone but that domain's own
 *   authenticated users;
 * - `messages_internal` / `bytes_internal`: sent by a domain's authenticated user to mailboxes of the
 *   same domain;
 * - `messages_out` / `bytes_out`: sent by a domain's authenticated user to any address outside the domain
 *   (elsewhere, another hosted domain, another region);
 * - `rejected`: RCPTs refused for an address of a hosted domain (unknown, disabled, expired, over quota);
 * - `gateway`: messages whose attachments the attachment gateway took (its `gateway.replaced` events).
 * `deferred` and `bounced` come from the queue's delivery log at roll-up time (rollup.ts).
 */
import { todayIn } from '@delegato/directory';
import type { Counter, OperationsDb } from '@delegato/mailstore';
import type { AcceptedTraffic, TrafficObserver } from '@delegato/mta';
import { observeEvents } from '@delegato/observability';

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** Most distinct (day, domain, counter) keys held between flushes (refused RCPTs for random domains). */
const MAX_KEYS = 50_000;

export class TrafficCounter implements TrafficObserver {
  #pending = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #unobserve: () => void;

  constructor(
    private readonly db: OperationsDb,
    private readonly opts: { timezone: string; now?: () => Date; flushMs?: number },
  ) {
    this.#timer = setInterval(() => void this.flush().catch(() => undefined), opts.flushMs ?? 60_000);
    this.#timer.unref();
    // The attachment gateway logs each message whose parts it took (`gateway.replaced`, with the domain).
    this.#unobserve = observeEvents((event, fields) => {
      const domain = (fields as { domain?: unknown } | undefined)?.domain;
      if (event === 'gateway.replaced' && typeof domain === 'string') this.count(domain, 'gateway');
    });
  }

  #day(): string {
    return todayIn(this.opts.timezone, this.opts.now?.() ?? new Date());
  }

  /** Adds `delta` to a counter of `domain` today. */
  count(domain: string, counter: Counter, delta = 1): void {
    const key = `${this.#day()}\u0000${domain.toLowerCase()}\u0000${counter}`;
    if (!this.#pending.has(key) && this.#pending.size >= MAX_KEYS) return;
    this.#pending.set(key, (this.#pending.get(key) ?? 0) + delta);
  }

  accepted(m: AcceptedTraffic): void {
    const from = m.authenticated && m.sender.includes('@') ? domainOf(m.sender) : null;
    const local = new Set(m.recipients.filter((r) => r.local).map((r) => domainOf(r.address)));
    for (const d of local) {
      const own = d === from;
      this.count(d, own ? 'messages_internal' : 'messages_in');
      this.count(d, own ? 'bytes_internal' : 'bytes_in', m.bytes);
    }
    if (from !== null && m.recipients.some((r) => domainOf(r.address) !== from)) {
      this.count(from, 'messages_out');
      this.count(from, 'bytes_out', m.bytes);
    }
  }

  refused(recipient: string): void {
    if (recipient.includes('@')) this.count(domainOf(recipient), 'rejected');
  }

  /** Writes the sums counted so far; hosted-domain filtering happens at roll-up. */
  async flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    const entries = [...batch].map(([key, delta]) => {
      const [day, domain, counter] = key.split('\u0000') as [string, string, Counter];
      return { day, domain, counter, delta };
    });
    try {
      await this.db.addCounts(entries);
    } catch (err) {
      // Counted again at the next flush.
      for (const [key, delta] of batch) this.#pending.set(key, (this.#pending.get(key) ?? 0) + delta);
      throw err;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#unobserve();
    await this.flush();
  }
}
