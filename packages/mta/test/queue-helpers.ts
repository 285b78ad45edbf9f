/** Shared set-up for the outbound queue tests: a queue in a temp dir, a settable clock, message builders. */
import { type AddressInfo, createServer } from 'node:net';
import { Readable } from 'node:stream';
import type { OutboundQueue, QueuedRecipient } from '../src/queue/outbound-queue.js';
import type { DeliveryOutcome } from '../src/queue/worker.js';

/** A clock the test moves by hand. */
export class Clock {
  constructor(public ms = Date.parse('2030-01-07T08:00:00.000Z')) {}
  readonly now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function rawMessage(opts: { messageId?: string; subject?: string; body?: string } = {}): string {
  return [
    'Return-Path: <alice@origin.example>',
    'Received: from client (unknown [127.0.0.9])',
    '\tby mx.delegato.test (Delegato) with ESMTP id TEST;',
    '\tMon, 7 Jan 2030 08:00:00 +0000',
    'From: Alice <alice@origin.example>',
    'To: someone@remote.example',
    `Subject: ${opts.subject ?? 'queue test'}`,
    `Message-ID: ${opts.messageId ?? '<queue-test@origin.example>'}`,
    '',
    opts.body ?? 'Hello.\r\n.A line that starts with a dot.',
    '',
  ].join('\r\n');
}

export async function enqueue(
  queue: OutboundQueue,
  m: {
    sender?: string;
    recipients: QueuedRecipient[];
    messageId?: string;
    subject?: string;
    body?: string;
    requireTls?: boolean;
    envid?: string;
    ret?: 'FULL' | 'HDRS';
  },
): Promise<string> {
  const spooled = await queue.spool(
    Readable.from([Buffer.from(rawMessage({ messageId: m.messageId, subject: m.subject, body: m.body }))]),
  );
  return queue.enqueue({
    ...spooled,
    sender: m.sender ?? 'alice@origin.example',
    recipients: m.recipients,
    ...(m.requireTls ? { requireTls: true } : {}),
    ...(m.envid ? { envid: m.envid } : {}),
    ...(m.ret ? { ret: m.ret } : {}),
  });
}

export function remote(address: string, extra: Partial<QueuedRecipient> = {}): QueuedRecipient {
  return { address, route: 'remote', ...extra };
}

/** Collects onOutcome events, in a compact form for assertions. */
export function outcomeRecorder() {
  const events: DeliveryOutcome[] = [];
  return {
    events,
    onOutcome: async (e: DeliveryOutcome) => {
      events.push(e);
    },
    summary: () =>
      events.map((e) => ({
        kind: e.kind,
        rcpts: e.recipients.map((r) => r.address),
        code: e.reply.code,
        passedOn: e.passedOn,
        expired: e.expired,
      })),
  };
}

/** A TCP port free on `host` now (the sinks standing in for remote MX hosts share one port). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const p = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
}
