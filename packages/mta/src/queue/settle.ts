/**
 * Outcomes of delivery attempts: every recipient ends up delivered / relayed / bounced (a final state,
 * committed before anything else), or deferred by the retry schedule until it gives up; final outcomes and
 * delay notices are handed to `onOutcome` (the DSN generator), again at the next pass when that failed.
 *
 * Crash safety: a recipient is marked final only after the remote server's 250 (a crash between the 250 and
 * the commit can deliver it twice, which SMTP allows, RFC 5321 §6.1); nothing is removed before the commit.
 */

import { logEvent, logEventAt } from '@delegato/observability';
import { type DeliveryReply, LOCAL, parseReply } from './delivery-replies.js';
import type { FinalState, StoredMessage, StoredRecipient } from './outbound-queue.js';
import type { SmtpClientError, TransactionResult } from './smtp-client.js';
import type { Job, WorkerContext } from './worker-context.js';

export type OutcomeKind = 'delivered' | 'relayed' | 'bounced' | 'delayed';

export interface DeliveryOutcome {
  kind: OutcomeKind;
  /** The message (its `recipients` are the ones this delivery attempt handled). */
  message: StoredMessage;
  /** The recipients this outcome is about; they share `reply` and `remoteHost`. */
  recipients: StoredRecipient[];
  reply: DeliveryReply;
  /** The MX (or federation) host name that gave the reply; null when we concluded it ourselves. */
  remoteHost: string | null;
  /**
   * `delivered` only: the next hop advertised DSN and was given NOTIFY/ORCPT/ENVID/RET, so any success notice
   * is its job now (RFC 3461 §4.2); no DSN is due from us for this recipient.
   */
  passedOn: boolean;
  /** `bounced` only: given up after `giveUpAfterMs` (the reply is the last transient one). */
  expired: boolean;
}

export class Settler {
  readonly #c: WorkerContext;
  #flushingOutcomes = false;

  constructor(ctx: WorkerContext) {
    this.#c = ctx;
  }

  /** A transaction that went through for some recipients: every recipient gets its reply. */
  async settle(job: Job, group: StoredRecipient[], result: TransactionResult, host: string): Promise<void> {
    const byAddress = new Map(result.recipients.map((r) => [r.address.toLowerCase(), r]));
    const outcomes = new Map<
      string,
      { kind: FinalState | 'deferred'; reply: DeliveryReply; rcpts: StoredRecipient[] }
    >();
    for (const r of group) {
      const res = byAddress.get(r.address.toLowerCase());
      const parsed = parseReply(res?.response ?? '451 4.4.0 no reply for this recipient');
      let kind: FinalState | 'deferred';
      if (res?.ok) {
        const wantsSuccess = (r.notify ?? []).some((n) => n.toUpperCase() === 'SUCCESS');
        kind = !result.dsn && wantsSuccess ? 'relayed' : 'delivered';
      } else kind = parsed.code >= 500 ? 'bounced' : 'deferred';
      const key = `${kind}\n${parsed.text}`;
      const entry = outcomes.get(key) ?? { kind, reply: parsed, rcpts: [] };
      entry.rcpts.push(r);
      outcomes.set(key, entry);
    }
    for (const o of outcomes.values()) {
      if (o.kind === 'deferred') await this.defer(job, o.rcpts, o.reply, host);
      else
        await this.final(job, o.rcpts, o.kind, o.reply, host, {
          passedOn: o.kind === 'delivered' && result.dsn,
        });
    }
  }

  /** A transaction refused as a whole (MAIL FROM, every RCPT, or DATA): 5xx bounce, 4xx defer. */
  async settleRefusal(job: Job, group: StoredRecipient[], err: SmtpClientError, host: string): Promise<void> {
    if (err.rejected.length > 0) {
      const byAddress = new Map(err.rejected.map((r) => [r.address.toLowerCase(), r]));
      const failed = new Map<string, { reply: DeliveryReply; rcpts: StoredRecipient[] }>();
      for (const r of group) {
        const rej = byAddress.get(r.address.toLowerCase());
        const parsed = parseReply(rej?.response ?? err.response ?? '451 4.4.0 refused');
        const entry = failed.get(parsed.text) ?? { reply: parsed, rcpts: [] };
        entry.rcpts.push(r);
        failed.set(parsed.text, entry);
      }
      for (const f of failed.values()) {
        if (f.reply.code >= 500) await this.final(job, f.rcpts, 'bounced', f.reply, host);
        else await this.defer(job, f.rcpts, f.reply, host);
      }
      return;
    }
    let parsed: DeliveryReply;
    if (err.response) parsed = parseReply(err.response);
    else if (err.code === 'EMESSAGE') parsed = LOCAL.tooBig(host);
    else if (err.code === 'EENVELOPE') parsed = LOCAL.badAddress(group.map((r) => r.address).join(', '));
    else parsed = LOCAL.connection(host, err.message);
    if (parsed.code >= 500) await this.final(job, group, 'bounced', parsed, host);
    else await this.defer(job, group, parsed, host);
  }

  /** Final state, committed; then the outcome is handed to the DSN generator. */
  async final(
    job: Job,
    rcpts: StoredRecipient[],
    state: FinalState,
    r: DeliveryReply,
    host: string | null,
    extra: { passedOn?: boolean; expired?: boolean } = {},
  ): Promise<void> {
    if (rcpts.length === 0) return;
    const o = this.#c.o;
    const ids = rcpts.map((x) => x.id);
    const hook = o.onOutcome;
    await o.queue.markFinal(ids, {
      state,
      reply: r.text,
      remoteHost: host,
      outcomePending: Boolean(hook),
    });
    // Final states are in the delivery log (trace); the appliance's onOutcome logs `queue.outcome`.
    if (!hook) return;
    try {
      await hook({
        kind: state,
        message: job.message,
        recipients: rcpts,
        reply: r,
        remoteHost: host,
        passedOn: Boolean(extra.passedOn),
        expired: Boolean(extra.expired),
      });
    } catch (err) {
      // Kept pending: handed over again by a later pass.
      logEventAt(
        o.logger,
        'error',
        'queue.error',
        { id: job.message.id, err: (err as Error).message },
        'outcome hook failed; will retry',
      );
      return;
    }
    await o.queue.outcomeDone(ids);
  }

  /** A transient failure: retry by the schedule, bounce once past the give-up time, a delay notice once. */
  async defer(job: Job, rcpts: StoredRecipient[], r: DeliveryReply, host: string | null): Promise<void> {
    if (rcpts.length === 0) return;
    const c = this.#c;
    const now = c.now();
    const created = new Date(job.message.createdAt).getTime();
    const deadline = created + c.giveUpMs;
    if (now.getTime() >= deadline) return this.final(job, rcpts, 'bounced', r, host, { expired: true });
    // Recipients of one job may have different attempt counts (a retry by the operator, a partial failure).
    const byDelay = new Map<number, StoredRecipient[]>();
    for (const x of rcpts) {
      const seconds = c.schedule[Math.min(x.attempts, c.schedule.length - 1)] ?? 60;
      const at = Math.min(now.getTime() + seconds * 1000, deadline);
      byDelay.set(at, [...(byDelay.get(at) ?? []), x]);
    }
    for (const [at, group] of byDelay)
      await c.o.queue.recordDeferral(
        group.map((x) => x.id),
        { reply: r.text, nextAttemptAt: new Date(at), remoteHost: host },
      );
    logEvent(
      c.o.logger,
      'queue.deferred',
      { id: job.message.id, rcpts: rcpts.map((x) => x.address), host, reply: r.text },
      `deferred: ${rcpts.map((x) => x.address).join(', ')}`,
    );
    const hook = c.o.onOutcome;
    if (!hook || now.getTime() - created < c.delayMs) return;
    const late = rcpts.filter((x) => !x.delayNotifiedAt);
    if (late.length === 0) return;
    try {
      await hook({
        kind: 'delayed',
        message: job.message,
        recipients: late,
        reply: r,
        remoteHost: host,
        passedOn: false,
        expired: false,
      });
    } catch (err) {
      // Not marked: the next deferral tries again.
      logEventAt(
        c.o.logger,
        'error',
        'queue.error',
        { id: job.message.id, err: (err as Error).message },
        'delay hook failed; will retry',
      );
      return;
    }
    await c.o.queue.markDelayNotified(late.map((x) => x.id));
  }

  /** Outcomes committed but not handed to the DSN generator (a crash or a failing hook): hand them now. */
  async flushPendingOutcomes(): Promise<void> {
    const c = this.#c;
    const hook = c.o.onOutcome;
    if (!hook || this.#flushingOutcomes) return;
    this.#flushingOutcomes = true;
    try {
      for (const message of await c.o.queue.pendingOutcomes()) {
        const groups = new Map<string, StoredRecipient[]>();
        for (const r of message.recipients) {
          if (c.inFlight.has(r.id)) continue;
          const key = JSON.stringify([r.state, r.lastReply, r.remoteHost]);
          groups.set(key, [...(groups.get(key) ?? []), r]);
        }
        for (const rcpts of groups.values()) {
          const first = rcpts[0];
          if (!first || first.state === 'queued') continue;
          const r = parseReply(first.lastReply ?? '');
          const wantsSuccess = (first.notify ?? []).some((n) => n.toUpperCase() === 'SUCCESS');
          try {
            await hook({
              kind: first.state,
              message,
              recipients: rcpts,
              reply: r,
              remoteHost: first.remoteHost,
              passedOn: first.state === 'delivered' && wantsSuccess,
              expired: first.state === 'bounced' && r.code >= 400 && r.code < 500,
            });
            await c.o.queue.outcomeDone(rcpts.map((x) => x.id));
          } catch (err) {
            logEventAt(
              c.o.logger,
              'error',
              'queue.error',
              { id: message.id, err: (err as Error).message },
              'outcome hook failed; will retry',
            );
          }
        }
      }
    } finally {
      this.#flushingOutcomes = false;
    }
  }
}
