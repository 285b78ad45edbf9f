/**
 * Sends DSNs (RFC 3461 §6): decides per recipient with `shouldSendDsn`, builds the report and delivers it
 * to the original sender with the null reverse-path — into the sender's INBOX when the sender is hosted
 * here, otherwise through the outbound queue. A DSN has the null sender, so it never causes another DSN.
 */
import type { Readable } from 'node:stream';
import type { DeliveryStore, RecipientDirectory } from '../ports.js';
import type { OutboundQueue } from '../queue/outbound-queue.js';
import { buildDsn, type DsnRecipient } from './build.js';
import { deliverWithNullSender } from './null-sender.js';
import { type DsnAction, shouldSendDsn, statusForReply } from './policy.js';

export interface DsnSubject {
  sender: string;
  envid?: string | null;
  ret?: 'FULL' | 'HDRS' | null;
  arrivalDate: Date;
  /** Opens the original message. */
  original: () => Readable;
  recipients: Array<{
    address: string;
    orcpt?: string | null;
    notify?: string[] | null;
    action: DsnAction;
    reply?: { code: number; enhanced?: string | null; text: string } | null;
    remoteHost?: string | null;
    willRetryUntil?: Date;
    candidates?: string[];
  }>;
}

export interface DsnSenderOptions {
  hostname: string;
  region: string;
  directory: RecipientDirectory;
  store: DeliveryStore;
  queue: OutboundQueue;
  now?: () => Date;
}

export type DsnSender = (subject: DsnSubject) => Promise<boolean>;

export function createDsnSender(opts: DsnSenderOptions): DsnSender {
  const now = opts.now ?? (() => new Date());
  return async (subject) => {
    const due = subject.recipients.filter((r) =>
      shouldSendDsn({ sender: subject.sender, notify: r.notify ?? undefined, action: r.action }),
    );
    if (due.length === 0) return false;
    const at = now();
    const recipients: DsnRecipient[] = due.map((r) => ({
      finalRecipient: r.address,
      ...(r.orcpt ? { originalRecipient: r.orcpt } : {}),
      action: r.action,
      status: r.reply
        ? statusForReply(r.reply.code, r.reply.enhanced ?? undefined)
        : r.action === 'failed'
          ? '5.0.0'
          : r.action === 'delayed'
            ? '4.0.0'
            : '2.0.0',
      ...(r.remoteHost ? { remoteMta: r.remoteHost } : {}),
      ...(r.reply ? { diagnostic: r.reply.text } : {}),
      lastAttempt: at,
      ...(r.willRetryUntil ? { willRetryUntil: r.willRetryUntil } : {}),
      ...(r.candidates ? { candidates: r.candidates } : {}),
    }));
    const report = () =>
      buildDsn({
        reportingHost: opts.hostname,
        sender: subject.sender,
        envid: subject.envid ?? null,
        ret: subject.ret ?? null,
        arrivalDate: subject.arrivalDate,
        now: at,
        recipients,
        original: subject.original,
      });
    // Where the report goes is decided like any other mail; we are the reporting MTA.
    await deliverWithNullSender(opts, subject.sender, report, at);
    return true;
  };
}
