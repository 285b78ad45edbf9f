/**
 * Delivers the outbound queue: due recipients are grouped by message and destination (a remote domain or a
 * peer region), the destination's MX hosts are tried in preference order (RFC 5321 §5.1) with nodemailer's
 * SMTP client (opportunistic STARTTLS; mandatory and verified for REQUIRETLS messages, RFC 8689), and every
 * recipient ends up delivered / relayed / bounced, or deferred by the retry schedule until it gives up.
 *
 * Crash safety: a recipient is marked final only after the remote server's 250 (a crash between the 250 and
 * the commit can deliver it twice, which SMTP allows, RFC 5321 §6.1); nothing is removed before the commit;
 * a delivery in flight when the process dies is simply due again at the next start.
 *
 * `QueueWorker` composes the parts:
 *   scheduler.ts         the loop: due work, jobs per destination, concurrency limits, cool-down
 *   mx-route.ts          a remote domain: MX lookup, hosts and addresses in order, TLS policy
 *   region-route.ts      a peer region: the federation route (routeRegion), TLS required
 *   deliver.ts           one connection: transactions (DSN parameters, SRS, 100 recipients), envelope, spool
 *   settle.ts            outcomes: final states, deferrals by the retry schedule, give-up, delay notices, DSN hand-off
 *   delivery-replies.ts  reply parsing and the replies we choose (RFC 3463 codes)
 *   worker-context.ts    options, their defaults, jobs, recipients in flight
 */
import { Deliverer } from './deliver.js';
import { deliverRemote } from './mx-route.js';
import { deliverRegion } from './region-route.js';
import { Scheduler } from './scheduler.js';
import { Settler } from './settle.js';
import { type QueueWorkerOptions, WorkerContext } from './worker-context.js';

export { type DeliveryReply, parseReply } from './delivery-replies.js';
export type { DeliveryOutcome, OutcomeKind } from './settle.js';
export { DEFAULT_RETRY_SCHEDULE, type QueueWorkerOptions, type RegionRoute } from './worker-context.js';

export class QueueWorker {
  readonly #scheduler: Scheduler;

  constructor(opts: QueueWorkerOptions) {
    const ctx = new WorkerContext(opts);
    const settler = new Settler(ctx);
    const deliverer = new Deliverer(ctx, settler);
    this.#scheduler = new Scheduler(
      ctx,
      (job) =>
        job.region !== undefined ? deliverRegion(deliverer, job, job.region) : deliverRemote(deliverer, job),
      () => settler.flushPendingOutcomes(),
    );
  }

  /** Starts the delivery loop: a pass now, then on every enqueue, every freed slot and every poll interval. */
  start(): void {
    this.#scheduler.start();
  }

  /** Looks for due work now (when started). */
  kick(): void {
    this.#scheduler.kick();
  }

  /** Stops taking new work and waits for the deliveries in flight. */
  stop(): Promise<void> {
    return this.#scheduler.stop();
  }

  /**
   * One pass: delivers every recipient due now (each at most once), within the concurrency limits, and
   * waits for the deliveries to finish.
   */
  runOnce(): Promise<void> {
    return this.#scheduler.runOnce();
  }
}
