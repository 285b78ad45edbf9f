/**
 * `npm run bench:pop3`: RETR of a 10,000-message maildrop from Delegato's POP3 server against Dovecot's
 * POP3 on this machine, in the same run. See README.md beside this file for what is measured and how.
 *
 *   npx tsx bench/pop3/run.ts [--runs N] [--messages N] [--batch N] [--only reference|ours] [--keep]
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchRoot, deferCleanup, runBench } from '../common/cleanup.js';
import { machineBusySeconds, treeCpuSeconds } from '../common/cpu.js';
import { installFromDebian } from '../common/debian.js';
import { haveCommand, procStatusBytes, sleep } from '../common/proc.js';
import { logger, machineLine, median, mib, printTable } from '../common/report.js';
import { alternate } from '../common/rounds.js';
import { Pop3Client } from './client.js';
import { dovecotVersion, fillMaildir, startDovecot } from './dovecot.js';
import {
  buildMaildrop,
  MAX_BYTES,
  type Maildrop,
  MIN_BYTES,
  messageIndexOf,
  RECIPIENT,
  unstuff,
} from './messages.js';
import { fillOurs, prepareOurs, startOurs } from './ours.js';

const PASSWORD = 'bench-pop3-password';
/** Pause before each run, so the previous session's process exits and GC settle. */
const SETTLE_MS = 2_000;
/** After QUIT and the close: Dovecot's master reaps the session's processes (their CPU moves to it). */
const REAP_MS = 300;

interface Session {
  /** Connect, greeting, USER, PASS, STAT: ms. */
  loginMs: number;
  uidlMs: number;
  retrMs: number;
  quitMs: number;
  messages: number;
  /** RETR response bodies, stuffing included (what went over the wire between status line and "."). */
  wireBytes: number;
  msgsPerSec: number;
  /** 10^6 octets per second of RETR response bodies. */
  mbPerSec: number;
  /** CPU seconds of the server's process tree during the RETR phase, and during the whole session. */
  serverCpuRetr: number;
  serverCpuSession: number;
  /** CPU seconds of this process (the client) during the RETR phase. */
  clientCpuRetr: number;
  /** Share of the machine's core-seconds used by other work during the RETR phase. */
  otherWork: number;
  /** Dovecot: VmHWM of the session's pop3 process, read before QUIT. */
  sessionRssBytes?: number;
  /** Delegato: VmRSS of the appliance after the session (a leak shows as growth from run to run). */
  rssAfterBytes?: number;
  problems: string[];
}

interface System {
  name: string;
  port: number;
  roots(): number[];
  /** Dovecot: the pop3 session process. */
  sessionPids?(): number[];
  /** Delegato: VmRSS of the appliance now. */
  rss?(): number | undefined;
  runs: Session[];
  warmup?: Session;
  peakRssBytes?: number;
  startRssBytes?: number;
  notes: string[];
}

const log = logger('pop3');

async function ensureDovecotInstalled(): Promise<void> {
  const missing: string[] = [];
  if (!(await haveCommand('dovecot'))) missing.push('dovecot-core');
  if (!existsSync('/usr/lib/dovecot/pop3')) missing.push('dovecot-pop3d');
  await installFromDebian(missing, log, { aptOptions: ['-o', 'DPkg::Lock::Timeout=600'] });
}

/**
 * One POP3 session: login, STAT, UIDL, RETR 1..n pipelined, QUIT; each phase timed. With `verify`, every
 * message is kept, un-stuffed and compared byte for byte with the one built for it (by Message-ID).
 */
async function session(system: System, drop: Maildrop, batch: number, verify: boolean): Promise<Session> {
  const count = drop.messages.length;
  const problems: string[] = [];
  const cpu = () => treeCpuSeconds(system.roots());
  const cpuSession0 = cpu();
  const t0 = performance.now();
  const { client } = await Pop3Client.connect(system.port);
  try {
    if (verify) {
      const capa = (await client.multi('CAPA')).body?.toString('latin1').split('\r\n') ?? [];
      for (const cap of ['PIPELINING', 'USER', 'UIDL']) {
        if (!capa.includes(cap)) problems.push(`CAPA lacks ${cap}: ${capa.join(' ')}`);
      }
    }
    await client.must(`USER ${RECIPIENT}`);
    await client.must(`PASS ${PASSWORD}`);
    const stat = await client.must('STAT');
    const loginMs = performance.now() - t0;
    if (stat !== `+OK ${count} ${drop.totalBytes}`) {
      problems.push(`STAT "${stat}", expected "+OK ${count} ${drop.totalBytes}"`);
    }

    const tu = performance.now();
    const uidl = await client.multi('UIDL');
    const uidlMs = performance.now() - tu;
    const uidlLines = (uidl.body?.toString('latin1') ?? '').split('\r\n').filter((l) => l.length > 0);
    const uids = new Set(uidlLines.map((l) => l.split(' ')[1]));
    if (uidlLines.length !== count || uids.size !== count) {
      problems.push(`UIDL: ${uidlLines.length} lines, ${uids.size} distinct ids, expected ${count}`);
    }

    const seen = new Uint8Array(count);
    let mismatched = 0;
    const onMessage = verify
      ? (n: number, r: { ok: boolean; body?: Buffer }) => {
          if (!r.ok || !r.body) return;
          const message = unstuff(r.body);
          const i = messageIndexOf(message);
          if (i < 0 || i >= count || seen[i] || !message.equals(drop.messages[i] as Buffer)) {
            if (mismatched++ < 5) problems.push(`RETR ${n}: not byte-identical to a message of the maildrop`);
            return;
          }
          seen[i] = 1;
        }
      : undefined;
    const cpuRetr0 = cpu();
    const client0 = process.cpuUsage();
    const machine0 = machineBusySeconds();
    const tr = performance.now();
    const retr = await client.retrAll(count, { batch, window: 2 * batch, collect: verify, onMessage });
    const retrMs = performance.now() - tr;
    const machineCpu = machineBusySeconds() - machine0;
    const clientUsage = process.cpuUsage(client0);
    const serverCpuRetr = cpu() - cpuRetr0;
    const clientCpuRetr = (clientUsage.user + clientUsage.system) / 1e6;
    const coreSeconds = (cpus().length * retrMs) / 1000;
    const otherWork = Math.max(0, machineCpu - serverCpuRetr - clientCpuRetr) / coreSeconds;
    problems.push(...retr.errors);
    if (retr.messages !== count) problems.push(`RETR returned ${retr.messages} messages, expected ${count}`);
    if (retr.bytes !== drop.totalWireBytes) {
      problems.push(`RETR returned ${retr.bytes} octets, expected ${drop.totalWireBytes}`);
    }
    if (verify) {
      const verified = seen.reduce((a, b) => a + b, 0);
      if (verified !== count) problems.push(`${verified} of ${count} messages byte-identical`);
    }
    const sessionPid = system.sessionPids?.()[0];
    const sessionRssBytes = sessionPid === undefined ? undefined : procStatusBytes(sessionPid, 'VmHWM');

    const tq = performance.now();
    await client.quit();
    const quitMs = performance.now() - tq;
    await sleep(REAP_MS);
    const serverCpuSession = cpu() - cpuSession0;
    const s: Session = {
      loginMs,
      uidlMs,
      retrMs,
      quitMs,
      messages: retr.messages,
      wireBytes: retr.bytes,
      msgsPerSec: retr.messages / (retrMs / 1000),
      mbPerSec: retr.bytes / 1e6 / (retrMs / 1000),
      serverCpuRetr,
      serverCpuSession,
      clientCpuRetr,
      otherWork,
      problems,
    };
    if (sessionRssBytes !== undefined) s.sessionRssBytes = sessionRssBytes;
    const rssAfter = system.rss?.();
    if (rssAfter !== undefined) s.rssAfterBytes = rssAfter;
    return s;
  } finally {
    client.destroy();
  }
}

function describe(s: Session): string {
  return (
    `login+STAT ${s.loginMs.toFixed(1)} ms, UIDL ${s.uidlMs.toFixed(1)} ms, ` +
    `RETR ${s.messages} msgs / ${(s.wireBytes / 1e6).toFixed(1)} MB in ${(s.retrMs / 1000).toFixed(2)} s ` +
    `(${s.msgsPerSec.toFixed(0)} msgs/s, ${s.mbPerSec.toFixed(1)} MB/s), QUIT ${s.quitMs.toFixed(0)} ms; ` +
    `CPU: server ${s.serverCpuRetr.toFixed(2)} s in RETR (${s.serverCpuSession.toFixed(2)} s session), ` +
    `client ${s.clientCpuRetr.toFixed(2)} s, other work ${(100 * s.otherWork).toFixed(0)}%` +
    (s.sessionRssBytes !== undefined ? `; pop3 process peak RSS ${mib(s.sessionRssBytes)}` : '') +
    (s.rssAfterBytes !== undefined ? `; appliance RSS after ${mib(s.rssAfterBytes)}` : '')
  );
}

interface Medians {
  loginMs: number;
  uidlMs: number;
  retrMs: number;
  msgsPerSec: number;
  mbPerSec: number;
  quitMs: number;
  serverCpuRetr: number;
  serverCpuSession: number;
  clientCpuRetr: number;
  otherWork: number;
}

function mediansOf(runs: Session[]): Medians {
  const m = (k: keyof Medians) => median(runs.map((r) => r[k] as number));
  return {
    loginMs: m('loginMs'),
    uidlMs: m('uidlMs'),
    retrMs: m('retrMs'),
    msgsPerSec: m('msgsPerSec'),
    mbPerSec: m('mbPerSec'),
    quitMs: m('quitMs'),
    serverCpuRetr: m('serverCpuRetr'),
    serverCpuSession: m('serverCpuSession'),
    clientCpuRetr: m('clientCpuRetr'),
    otherWork: m('otherWork'),
  };
}

function report(systems: System[], count: number): void {
  const header = [
    'system',
    'login+STAT ms',
    'UIDL ms',
    'RETR s',
    'RETR msgs/s',
    'RETR MB/s',
    'QUIT ms',
    'server CPU s (RETR)',
    'server CPU s (session)',
    'client CPU s (RETR)',
    'peak RSS',
  ];
  const rows: string[][] = [header];
  const med = new Map<System, Medians>();
  for (const s of systems) {
    const good = s.runs.filter((r) => r.problems.length === 0);
    if (good.length === 0) continue;
    const m = mediansOf(good);
    med.set(s, m);
    const rss =
      s.peakRssBytes !== undefined
        ? `${mib(s.peakRssBytes)} (appliance)`
        : s.runs.some((r) => r.sessionRssBytes !== undefined)
          ? `${mib(Math.max(...s.runs.map((r) => r.sessionRssBytes ?? 0)))} (pop3 process)`
          : '-';
    rows.push([
      `${s.name} (median of ${good.length})`,
      m.loginMs.toFixed(1),
      m.uidlMs.toFixed(1),
      (m.retrMs / 1000).toFixed(2),
      m.msgsPerSec.toFixed(0),
      m.mbPerSec.toFixed(1),
      m.quitMs.toFixed(0),
      m.serverCpuRetr.toFixed(2),
      m.serverCpuSession.toFixed(2),
      m.clientCpuRetr.toFixed(2),
      rss,
    ]);
  }
  const ref = systems.find((s) => s.name !== 'Delegato');
  const ours = systems.find((s) => s.name === 'Delegato');
  const r = ref && med.get(ref);
  const o = ours && med.get(ours);
  if (r && o) {
    const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
    rows.push([
      'ratio ours / Dovecot',
      ratio(o.loginMs, r.loginMs),
      ratio(o.uidlMs, r.uidlMs),
      ratio(o.retrMs, r.retrMs),
      ratio(o.msgsPerSec, r.msgsPerSec),
      ratio(o.mbPerSec, r.mbPerSec),
      ratio(o.quitMs, r.quitMs),
      ratio(o.serverCpuRetr, r.serverCpuRetr),
      ratio(o.serverCpuSession, r.serverCpuSession),
      ratio(o.clientCpuRetr, r.clientCpuRetr),
      '',
    ]);
  }
  console.log('');
  console.log(
    `Medians of the timed runs (${count} messages; times: lower is better, rates: higher is better):`,
  );
  console.log('');
  printTable(rows);
  console.log('');
  console.log('All runs:');
  console.log('');
  const all: string[][] = [
    [
      'run',
      'login+STAT ms',
      'UIDL ms',
      'RETR s',
      'RETR msgs/s',
      'RETR MB/s',
      'QUIT ms',
      'server CPU s (RETR / session)',
      'client CPU s',
      'other work',
      'ok',
    ],
  ];
  const addRun = (label: string, s: Session) =>
    all.push([
      label,
      s.loginMs.toFixed(1),
      s.uidlMs.toFixed(1),
      (s.retrMs / 1000).toFixed(2),
      s.msgsPerSec.toFixed(0),
      s.mbPerSec.toFixed(1),
      s.quitMs.toFixed(0),
      `${s.serverCpuRetr.toFixed(2)} / ${s.serverCpuSession.toFixed(2)}`,
      s.clientCpuRetr.toFixed(2),
      `${(100 * s.otherWork).toFixed(0)}%`,
      s.problems.length === 0 ? 'yes' : 'NO',
    ]);
  for (const s of systems) {
    if (s.warmup) addRun(`${s.name} warm-up (verified, not counted)`, s.warmup);
    s.runs.forEach((run, i) => {
      addRun(`${s.name} ${i + 1}`, run);
    });
  }
  printTable(all);
  console.log('');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      runs: { type: 'string', default: '3' },
      messages: { type: 'string', default: '10000' },
      batch: { type: 'string', default: '50' },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const runs = Number(values.runs);
  const count = Number(values.messages);
  const batch = Number(values.batch);
  for (const [name, v] of [
    ['--runs', runs],
    ['--messages', count],
    ['--batch', batch],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  }
  const doRef = values.only === undefined || values.only === 'reference';
  const doOurs = values.only === undefined || values.only === 'ours';
  if (!doRef && !doOurs) throw new Error('--only must be "reference" or "ours"');
  if (doRef) await ensureDovecotInstalled();

  log(machineLine() + (doRef ? `, Dovecot ${await dovecotVersion()}` : ''));
  let t = performance.now();
  const drop = buildMaildrop(count);
  log(
    `maildrop: ${count} messages of ${MIN_BYTES}-${MAX_BYTES} bytes, ${drop.totalBytes} octets ` +
      `(${drop.totalWireBytes} on the wire, stuffed), built in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  log(
    `each session: USER/PASS, STAT, UIDL, RETR 1..${count} pipelined (${batch} per write, at most ` +
      `${2 * batch} unanswered), QUIT; one verified warm-up session, then ${runs} timed runs per system, alternating`,
  );

  const root = benchRoot('delegato-bench-pop3-', values.keep, log);

  const systems: System[] = [];
  if (doRef) {
    const dir = join(root, 'reference');
    mkdirSync(dir, { recursive: true });
    t = performance.now();
    fillMaildir(dir, RECIPIENT, drop.messages);
    log(
      `reference: Maildir filled in ${((performance.now() - t) / 1000).toFixed(1)} s (files written directly)`,
    );
    const dovecot = await startDovecot(dir, RECIPIENT, PASSWORD);
    const stop = deferCleanup('dovecot', () => dovecot.stop());
    log(`reference: Dovecot ${dovecot.version}, POP3 on 127.0.0.1:${dovecot.pop3Port}`);
    const system: System = {
      name: 'Dovecot',
      port: dovecot.pop3Port,
      roots: () => [dovecot.pid],
      sessionPids: () => dovecot.pop3Pids(),
      runs: [],
      notes: [],
    };
    systems.push(system);
    finishers.push(async () => {
      await stop();
      const problems = readFileSync(dovecot.log, 'utf8')
        .split('\n')
        .filter((l) => /(Error|Warning|Fatal|Panic):/.test(l) && !/Killed with signal 15/.test(l));
      if (problems.length > 0) system.notes.push(`dovecot.log:\n${problems.slice(0, 10).join('\n')}`);
    });
  }
  if (doOurs) {
    const dataDir = join(root, 'ours', 'var');
    mkdirSync(dataDir, { recursive: true });
    await prepareOurs(dataDir, RECIPIENT, PASSWORD);
    const fill = await fillOurs(dataDir, RECIPIENT, count);
    log(
      `ours: mail store filled in ${(fill.ms / 1000).toFixed(1)} s (MailStore.deliver, 50 at a time): ` +
        `${fill.delivered} messages, ${fill.bytes} octets`,
    );
    if (fill.delivered !== count || fill.bytes !== drop.totalBytes) {
      throw new Error(`fill delivered ${fill.delivered} messages / ${fill.bytes} octets`);
    }
    const ours = await startOurs(dataDir);
    const stop = deferCleanup('appliance', () => ours.stop());
    const system: System = {
      name: 'Delegato',
      port: ours.pop3Port,
      roots: () => [ours.pid],
      rss: () => ours.rss(),
      runs: [],
      notes: [],
    };
    system.startRssBytes = ours.rss();
    log(
      `ours: delegato start (pid ${ours.pid}), POP3 on 127.0.0.1:${ours.pop3Port}; up in ` +
        `${(ours.startupMs / 1000).toFixed(1)} s, RSS at start ${mib(system.startRssBytes)}`,
    );
    systems.push(system);
    finishers.push(async () => {
      system.peakRssBytes = ours.peakRss();
      await stop();
      const stderr = ours.stderr().trim();
      if (stderr) system.notes.push(`appliance stderr:\n${stderr.split('\n').slice(0, 20).join('\n')}`);
    });
  }

  // Warm-up: one verified session each (Dovecot builds its index and uidlist on this first login; both
  // get the page cache, the JIT, and the first QUIT's \Seen on every message). Not counted.
  await alternate(systems, 1, SETTLE_MS, async (system) => {
    const s = await session(system, drop, batch, true);
    system.warmup = s;
    log(`${system.name} warm-up (verified byte for byte, not counted): ${describe(s)}`);
    for (const p of s.problems) log(`    PROBLEM: ${p}`);
  });
  await alternate(systems, runs, SETTLE_MS, async (system, i) => {
    const s = await session(system, drop, batch, false);
    system.runs.push(s);
    log(`${system.name} run ${i}: ${describe(s)}`);
    for (const p of s.problems) log(`    PROBLEM: ${p}`);
  });
  for (const f of finishers.splice(0)) await f();

  report(systems, count);
  const ours = systems.find((s) => s.name === 'Delegato');
  if (ours) {
    log(
      `Delegato: RSS at start ${mib(ours.startRssBytes)}, peak (VmHWM, all sessions) ${mib(ours.peakRssBytes)}`,
    );
  }
  for (const s of systems) for (const n of s.notes) log(`${s.name}: ${n}`);
  const allOk = systems.every(
    (s) => s.warmup?.problems.length === 0 && s.runs.every((r) => r.problems.length === 0),
  );
  if (!allOk)
    log('some sessions had problems (see PROBLEM lines): their figures are left out of the medians');
  return allOk ? 0 : 1;
}

/** Stops each system once its runs are done (also registered as cleanups, for errors and Ctrl-C). */
const finishers: Array<() => Promise<void>> = [];

await runBench('pop3', main, log);
