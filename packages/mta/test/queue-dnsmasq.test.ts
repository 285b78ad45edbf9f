/**
 * Outbound delivery against a real-world resolver that refuses AAAA: Debian's dnsmasq on loopback,
 * configured with `--address` and `--mx-host` only and no upstream servers. It answers A and MX for the
 * names it was given and refuses everything else, AAAA included (REFUSED): the case of issue 12, where
 * every delivery deferred with `451 4.4.3 DNS failure: … AAAA … EREFUSED`. dnsmasq is installed by
 * `.ci/setup-test-deps.mjs` (Debian package dnsmasq-base); the test fails, not skips, without it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { type RunningSmtpSink, recordingLogger, startSmtpSink, tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, lookupMx } from '../src/dns.js';
import { OutboundQueue } from '../src/queue/outbound-queue.js';
import { QueueWorker } from '../src/queue/worker.js';
import { Clock, enqueue, freePort, outcomeRecorder, remote } from './queue-helpers.js';

const DNSMASQ = '/usr/sbin/dnsmasq';
const MX_ADDRESS = '127.0.1.21';

let dnsmasq: ChildProcess | undefined;
let dnsServer = '';
let sink: RunningSmtpSink;
let smtpPort = 0;
const dir = tempDir('delegato-dnsmasq-');

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts dnsmasq on 127.0.0.1:<free port> and waits until it answers; retries if the port was taken. */
async function startDnsmasq(args: string[]): Promise<{ child: ChildProcess; server: string }> {
  if (!existsSync(DNSMASQ))
    throw new Error(
      `${DNSMASQ} is missing: install the Debian package dnsmasq-base (.ci/setup-test-deps.mjs)`,
    );
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeUdpPort();
    const child = spawn(
      DNSMASQ,
      [
        '--no-daemon',
        `--port=${port}`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        '--no-resolv',
        '--no-hosts',
        '--no-poll',
        '--cache-size=0',
        `--pid-file=`,
        ...args,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const server = `127.0.0.1:${port}`;
    const probe = createResolver([server], { timeoutMs: 200, tries: 1 });
    for (let i = 0; i < 50 && child.exitCode === null; i++) {
      try {
        await lookupMx(probe, 'dm.example');
        return { child, server };
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    lastError = stderr;
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  throw new Error(`dnsmasq did not start: ${lastError}`);
}

beforeAll(async () => {
  smtpPort = await freePort(MX_ADDRESS);
  sink = await startSmtpSink({ host: MX_ADDRESS, port: smtpPort });
  const started = await startDnsmasq([
    // dm.example: an MX host with an A record only; dnsmasq refuses its AAAA.
    '--mx-host=dm.example,mx.dm.example,10',
    `--address=/mx.dm.example/${MX_ADDRESS}`,
    // gone.example: an MX host dnsmasq knows nothing about (A and AAAA both refused).
    '--mx-host=gone.example,mx.gone.example,10',
  ]);
  dnsmasq = started.child;
  dnsServer = started.server;
}, 30_000);

afterAll(async () => {
  if (dnsmasq && dnsmasq.exitCode === null) {
    const exited = new Promise((r) => dnsmasq?.once('exit', r));
    dnsmasq.kill('SIGTERM');
    await exited;
  }
  await sink?.close();
  dir.remove();
});

describe('outbound delivery with dnsmasq refusing AAAA', () => {
  it('dnsmasq answers A and refuses AAAA for the MX host (the premise)', async () => {
    const resolver = createResolver([dnsServer], { timeoutMs: 1_000, tries: 1 });
    const skipped: string[] = [];
    expect(await resolver.resolveAddresses('mx.dm.example', (f) => skipped.push(f.code))).toEqual([
      MX_ADDRESS,
    ]);
    expect(skipped).toEqual(['EREFUSED']);
  });

  it('delivers over IPv4, logs the skipped AAAA; defers only when no address can be found', async () => {
    const clock = new Clock();
    const queue = await OutboundQueue.open({ dir: dir.path, now: clock.now });
    try {
      const { logger, problems } = recordingLogger();
      const rec = outcomeRecorder();
      await enqueue(queue, { recipients: [remote('ann@dm.example')] });
      await enqueue(queue, { recipients: [remote('bob@gone.example')] });
      await new QueueWorker({
        queue,
        resolver: createResolver([dnsServer], { timeoutMs: 1_000, tries: 1 }),
        hostname: 'out.delegato.test',
        port: smtpPort,
        now: clock.now,
        logger,
        onOutcome: rec.onOutcome,
        timeouts: { connectMs: 2_000, greetingMs: 5_000, socketMs: 5_000 },
      }).runOnce();

      expect(sink.messages.map((m) => m.to)).toEqual([['ann@dm.example']]);
      expect(rec.summary()).toEqual([
        expect.objectContaining({ kind: 'delivered', rcpts: ['ann@dm.example'] }),
      ]);
      const lines = problems.map((p) => (p as [string, Record<string, unknown>])[1]);
      expect(lines).toContainEqual(
        expect.objectContaining({ event: 'queue.dns_partial', host: 'mx.dm.example', code: 'EREFUSED' }),
      );

      const [left] = await queue.list();
      expect(left?.recipients.map((r) => [r.address, r.state])).toEqual([['bob@gone.example', 'queued']]);
      expect(left?.recipients[0]?.lastReply).toMatch(
        /^451 4\.4\.3 DNS failure: mx\.gone\.example A: .*EREFUSED/,
      );
    } finally {
      await queue.close();
    }
  });
});
