/**
 * Restart safety of the outbound queue: a worker process is SIGKILLed while it is in the middle of a
 * delivery (the remote host has the message's DATA but has not answered). A new queue and worker on the same
 * directory then deliver what was pending, and nothing that was already delivered goes out again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDnsServer, startSmtpSink, tempDir } from '@delegato/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createResolver } from '../src/dns.js';
import { OutboundQueue } from '../src/queue/outbound-queue.js';
import { QueueWorker } from '../src/queue/worker.js';
import { enqueue, remote } from './queue-helpers.js';

const CHILD = new URL('./queue-crash-child.ts', import.meta.url).pathname;
const dir = tempDir('delegato-queue-crash-');

afterAll(() => dir.remove());

describe('SIGKILL during delivery', () => {
  it('delivers what was pending after a restart, and nothing twice', async () => {
    const dns = await startDnsServer({
      'crash.example': { MX: [{ priority: 10, exchange: 'mx.crash.example' }] },
      'mx.crash.example': { A: ['127.0.2.1'] },
    });
    let release: (() => void) | undefined;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let sawB: (() => void) | undefined;
    const bArrived = new Promise<void>((r) => {
      sawB = r;
    });
    let hold = true;
    const sink = await startSmtpSink({
      host: '127.0.2.1',
      onData: async (tx) => {
        if (hold && tx.data.toString().includes('Subject: B')) {
          sawB?.();
          await released; // the worker dies waiting for this reply
        }
        return undefined;
      },
    });

    let queue = await OutboundQueue.open({ dir: dir.path });
    const idA = await enqueue(queue, { recipients: [remote('a@crash.example')], subject: 'A' });
    const idB = await enqueue(queue, { recipients: [remote('b@crash.example')], subject: 'B' });
    await queue.close();

    const child: ChildProcess = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CHILD], {
      env: { ...process.env, QUEUE_DIR: dir.path, DNS_SERVER: dns.server, SMTP_PORT: String(sink.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    await Promise.race([
      bArrived,
      exited.then(() => {
        throw new Error(`child exited early: ${stderr}`);
      }),
    ]);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // The child's 'exit' can be seen before the sink sees its connection drop: wait for that, so the held
    // reply meets a dead connection (as a real remote MTA would), not a race.
    for (const until = Date.now() + 10_000; sink.open > 0; ) {
      if (Date.now() > until) throw new Error('the killed worker’s connection stayed open');
      await new Promise((r) => setTimeout(r, 10));
    }
    hold = false;
    release?.();
    await new Promise((r) => setTimeout(r, 100));

    // A was delivered and committed before B started; B's transaction died with the worker.
    expect(sink.messages.map((m) => m.to)).toEqual([['a@crash.example']]);

    queue = await OutboundQueue.open({ dir: dir.path });
    const pending = await queue.list();
    expect(pending.map((m) => m.id)).toEqual([idB]);
    expect(pending[0]?.recipients[0]).toMatchObject({ state: 'queued', attempts: 0 });

    await new QueueWorker({
      queue,
      resolver: createResolver([dns.server], { timeoutMs: 1_000, tries: 1 }),
      hostname: 'parent.delegato.test',
      port: sink.port,
    }).runOnce();

    expect(sink.messages.map((m) => m.to).sort()).toEqual([['a@crash.example'], ['b@crash.example']]);
    expect(await queue.list()).toEqual([]);
    expect((await queue.trace(idA)).map((e) => e.event)).toEqual(['received', 'delivered']);
    expect((await queue.trace(idB)).map((e) => e.event)).toEqual(['received', 'delivered']);
    expect(readdirSync(join(dir.path, 'spool'))).toEqual([]);
    expect(existsSync(join(dir.path, 'queue.db'))).toBe(true);

    await queue.close();
    await sink.close();
    await dns.close();
  });
});
