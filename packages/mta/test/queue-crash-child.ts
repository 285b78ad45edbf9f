/**
 * Child process of queue-crash.test.ts: opens the queue in QUEUE_DIR and delivers it (one pass) through the
 * loopback DNS server DNS_SERVER to MX hosts on port SMTP_PORT. The test SIGKILLs it mid-delivery.
 */
import { createResolver } from '../src/dns.js';
import { OutboundQueue } from '../src/queue/outbound-queue.js';
import { QueueWorker } from '../src/queue/worker.js';

const queue = await OutboundQueue.open({ dir: process.env.QUEUE_DIR ?? '' });
const worker = new QueueWorker({
  queue,
  resolver: createResolver([process.env.DNS_SERVER ?? ''], { timeoutMs: 1_000, tries: 1 }),
  hostname: 'child.delegato.test',
  port: Number(process.env.SMTP_PORT),
  concurrencyPerDestination: 1,
});
await worker.runOnce();
await queue.close();
process.stdout.write('done\n');
