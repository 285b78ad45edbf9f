/**
 * The MX's delivery-log writer for local deliveries: events are collected and written in one batch every
 * `intervalMs` (or at `maxBatch`), off the SMTP path, so the log costs no fsync per message. The log is a
 * trace for operators, not a durability promise: a crash may lose the last fraction of a second of it,
 * never a message.
 */
import type { LogEventInput, OutboundQueue } from './queue/outbound-queue.js';

export class DeliveryLogBuffer {
  #pending: LogEventInput[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly queue: Pick<OutboundQueue, 'logEvents'>,
    private readonly onError: (err: Error) => void,
    private readonly intervalMs = 200,
    private readonly maxBatch = 500,
  ) {}

  push(...events: LogEventInput[]): void {
    this.#pending.push(...events);
    if (this.#pending.length >= this.maxBatch) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    this.#flushing = this.#flushing
      .then(() => this.queue.logEvents(batch))
      .catch((err: Error) => this.onError(err));
    return this.#flushing;
  }
}
