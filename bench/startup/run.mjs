#!/usr/bin/env node
/**
 * Start-up time and idle memory of `delegato start` (docs/performance.md, "Runtime").
 *
 *   node bench/startup/run.mjs [--runs N] [--idle-seconds S] [--bin appliance/bin/delegato.mjs]
 *
 * Each run starts the appliance on a fresh data dir with every port on 0, measures the wall time from
 * spawn to the last listener line and to the first 200 from /healthz, waits S seconds idle, then reads the
 * process's RSS from /proc. A run on a fresh data dir includes the first-start work (self-signed
 * certificate, directory migrations, operator password hash), so a second start on the same data dir is
 * measured too ("warm"). It runs under the Node that runs it (`process.execPath`): run it with
 * `node_modules/.bin/node` to measure the pinned runtime. A program, not a test: it prints, it never fails
 * a build.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'idle-seconds': { type: 'string', default: '10' },
    bin: { type: 'string', default: 'appliance/bin/delegato.mjs' },
  },
});
const RUNS = Number(values.runs);
const IDLE_MS = Number(values['idle-seconds']) * 1000;
const BIN = resolve(values.bin);
const LISTENERS = 9;

const PORT_KEYS = [
  'SMTP',
  'SUBMISSION',
  'SUBMISSIONS',
  'IMAP',
  'IMAPS',
  'POP3',
  'POP3S',
  'ADMIN',
  'WEB',
  'FEDERATION',
];

function healthz(port) {
  return new Promise((ok) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, timeout: 2000 },
      (res) => {
        res.resume();
        ok(res.statusCode === 200);
      },
    );
    req.on('error', () => ok(false));
    req.end();
  });
}

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

/** One start on `dataDir`; resolves with the timings and memory, after stopping the appliance. */
async function once(dataDir) {
  const env = { ...process.env, DELEGATO_DATA_DIR: dataDir, DELEGATO_LOG_LEVEL: 'warn' };
  for (const key of PORT_KEYS) env[`DELEGATO_PORT_${key}`] = '0';
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const listening = await new Promise((ok, fail) => {
    child.stdout.on('data', (d) => {
      out += d;
      const lines = out.split('\n').filter((l) => /^\S+ 127\.0\.0\.1:\d+/.test(l));
      if (lines.length >= LISTENERS) ok(performance.now() - t0);
    });
    child.on('exit', (code) => fail(new Error(`exited ${code}: ${stderr}`)));
  });
  const adminPort = Number(/^admin 127\.0\.0\.1:(\d+)/m.exec(out)?.[1]);
  while (!(await healthz(adminPort))) await new Promise((r) => setTimeout(r, 10));
  const healthy = performance.now() - t0;
  const firstLine = out.split('\n')[0];
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const rss = rssMiB(child.pid);
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await exited;
  return { listening, healthy, rss, firstLine };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cold = [];
const warm = [];
for (let i = 0; i < RUNS; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'delegato-startup-'));
  try {
    cold.push(await once(dir));
    warm.push(await once(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`node ${process.version}, ${BIN}, ${RUNS} runs, idle ${IDLE_MS / 1000} s`);
console.log(`first line printed: ${cold[0]?.firstLine}`);
for (const [name, rows] of [
  ['fresh data dir', cold],
  ['existing data dir', warm],
]) {
  console.log(
    `${name}: listeners ${median(rows.map((r) => r.listening)).toFixed(0)} ms, /healthz ${median(
      rows.map((r) => r.healthy),
    ).toFixed(0)} ms, idle RSS ${median(rows.map((r) => r.rss)).toFixed(1)} MiB (medians)`,
  );
}
