/**
 * `npm run bench:gateway`: a 100 MiB message (a short text and a ~75 MiB PDF in base64) delivered into a
 * real mail store through the attachment gateway, against plain delivery of the same message into the same
 * store, in the same process and the same run (issue 15). Reports the throughput of each (MB/s of message
 * bytes, 10^6 octets per second) and the process's RSS growth during the gateway's deliveries (sampled
 * every 10 ms against the RSS before the run), and fails (exit 1) when the growth reaches 64 MiB.
 *
 *   npx tsx --expose-gc bench/gateway/run.ts [--runs N] [--size MiB] [--keep]
 *
 * What is measured is the gateway's own path: spooling, the MIME scan with the part's decoding and
 * hashing into the gateway store, and the splice into the mail store (fsynced like every delivery). The MX
 * in front of it streams the same way (its DATA stream is piped into `deliver`).
 */

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_RULES, GatewayStore, gatewayDelivery } from '@delegato/gateway';
import { MailStore } from '@delegato/mailstore';
import { benchRoot, runBench } from '../common/cleanup.js';
import { logger, machineLine, median, mib, printTable } from '../common/report.js';

const log = logger('gateway');
const MiB = 1024 * 1024;
const RSS_LIMIT = 64 * MiB;

/** Writes the message to `path` in 57,000-byte slices of random data (1,000 base64 lines each). */
async function writeMessage(path: string, totalBytes: number): Promise<number> {
  const out = createWriteStream(path);
  const head =
    'From: Librarian <librarian@lib.example>\r\nTo: reader@univ.example\r\nSubject: Large scan\r\n' +
    'Message-ID: <bench@lib.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
    '--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe scan, as asked.\r\n--b\r\n' +
    'Content-Type: application/pdf; name="scan.pdf"\r\nContent-Disposition: attachment; filename="scan.pdf"\r\n' +
    'Content-Transfer-Encoding: base64\r\n\r\n';
  const tail = '\r\n--b--\r\n';
  let written = 0;
  const write = async (s: string | Buffer) => {
    written += Buffer.byteLength(s);
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(head);
  let first = true;
  while (written + 78_000 + tail.length < totalBytes) {
    const b64 = randomBytes(57_000).toString('base64');
    const lines = b64.match(/.{1,76}/g) ?? [];
    await write(`${first ? '' : '\r\n'}${lines.join('\r\n')}`);
    first = false;
  }
  await write(tail);
  out.end();
  await once(out, 'finish');
  return written;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

interface Run {
  mode: 'plain' | 'gateway';
  seconds: number;
  mbPerSec: number;
  rssGrowth?: number;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { runs: { type: 'string' }, size: { type: 'string' }, keep: { type: 'boolean' } },
  });
  const runs = Number(values.runs ?? 3);
  const size = Number(values.size ?? 100) * MiB;
  const root = benchRoot('delegato-bench-gateway-', values.keep, log);
  log(machineLine());
  if (!(globalThis as { gc?: unknown }).gc)
    log('no --expose-gc: RSS baselines are taken without a collection first');

  const message = join(root, 'message.eml');
  const bytes = await writeMessage(message, size);
  log(`message: ${bytes} bytes (${mib(bytes)})`);
  const store = await MailStore.open({ dir: join(root, 'mailstore') });
  const gateway = await GatewayStore.open({ dir: join(root, 'gateway') });
  const users = ['plain', 'reader'];
  for (const u of users) await store.ensureUser(u);
  const deliver = gatewayDelivery((req) => store.deliver(req), {
    store: gateway,
    policies: {
      policiesFor: async (ids) =>
        new Map(
          ids.map((id) => [
            id,
            id === 'reader'
              ? { domain: 'univ.example', always: true, senders: [], rules: DEFAULT_RULES }
              : null,
          ]),
        ),
    },
    baseUrl: 'https://mail.univ.example',
    host: 'mail.univ.example',
  });

  const results: Run[] = [];
  const once_ = async (mode: Run['mode']): Promise<Run> => {
    gc();
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 10);
    const started = process.hrtime.bigint();
    const source = createReadStream(message);
    const r =
      mode === 'plain'
        ? await store.deliver({ users: ['plain'], source })
        : await deliver({ users: ['reader'], source });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    if (r.uids.size !== 1) throw new Error(`${mode}: not delivered`);
    return {
      mode,
      seconds,
      mbPerSec: bytes / 1e6 / seconds,
      ...(mode === 'gateway' ? { rssGrowth: peak - baseline } : {}),
    };
  };
  // A warm-up of each, then the timed runs, alternating.
  await once_('plain');
  await once_('gateway');
  const [usage] = await gateway.usage();
  if (usage?.files !== 1) throw new Error('the gateway did not replace the PDF');
  log(`gateway store: ${usage.files} file of ${mib(usage.bytes)} (stored once however many runs)`);
  for (let i = 0; i < runs; i++) {
    for (const mode of ['plain', 'gateway'] as const) {
      const r = await once_(mode);
      results.push(r);
      log(
        `run ${i + 1} ${mode}: ${r.seconds.toFixed(2)} s, ${r.mbPerSec.toFixed(1)} MB/s${r.rssGrowth !== undefined ? `, RSS +${mib(r.rssGrowth)}` : ''}`,
      );
    }
  }
  await store.close();
  gateway.close();

  const of = (mode: Run['mode']) => results.filter((r) => r.mode === mode);
  const plain = median(of('plain').map((r) => r.mbPerSec));
  const through = median(of('gateway').map((r) => r.mbPerSec));
  const growth = Math.max(...of('gateway').map((r) => r.rssGrowth ?? 0));
  printTable([
    ['delivery', 'MB/s (median)', 'RSS growth (max)'],
    ['plain, into the mail store', plain.toFixed(1), '-'],
    ['through the gateway', through.toFixed(1), `${(growth / MiB).toFixed(1)} MiB`],
  ]);
  log(`gateway/plain throughput: ${(through / plain).toFixed(2)}x; RSS growth limit ${mib(RSS_LIMIT)}`);
  if (growth >= RSS_LIMIT) {
    log(`FAILED: RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    return 1;
  }
  return 0;
}

await runBench('gateway', main, log);
