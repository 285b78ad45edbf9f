/**
 * `npm run bench:smtp`: Delegato's MX listener against Postfix + Dovecot (LMTP, Maildir) on this machine,
 * in the same run. See README.md beside this file for what is measured and how the reference is set up.
 *
 *   npx tsx bench/smtp-inbound/run.ts [--only reference|ours] [--runs N] [--keep]
 *     [--mode both|persistent|per-connection] [--client smtp-source|nodemailer]
 */
import { existsSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchRoot, deferCleanup, runBench } from '../common/cleanup.js';
import { machineBusySeconds, treeCpuSeconds } from '../common/cpu.js';
import { installFromDebian } from '../common/debian.js';
import { haveCommand, sleep } from '../common/proc.js';
import { logger, machineLine, mib, printTable } from '../common/report.js';
import { alternate } from '../common/rounds.js';
import { dovecotVersion, startDovecot } from './dovecot.js';
import {
  buildMessage,
  type LoadClient,
  type LoadMode,
  type LoadResult,
  MESSAGE_BYTES,
  MESSAGES,
  SESSIONS,
  SMTP_SOURCE,
  sendLoad,
} from './load.js';
import { countStoredAfterStop, OUR_DOMAIN, OUR_RECIPIENT, prepareOurs, startOurs } from './ours.js';
import { postfixVersion, startPostfix } from './postfix.js';

/** How long after the last 250 the INBOX may take to fill before the run counts as failed. */
const INBOX_GRACE_MS = 120_000;
/**
 * INBOX polling: slow while the load runs (a readdir of a few thousand Maildir entries costs ~3 ms of the
 * two cores the systems share with the load generator), fast once the last 250 is in.
 */
const POLL_WHILE_LOADING_MS = 250;
const POLL_AFTER_LOAD_MS = 10;
/** Pause between runs, so the previous run's stragglers (Postfix's idle workers, GC) settle. */
const SETTLE_MS = 2_000;

/** How a system's INBOX is observed. */
interface Inbox {
  count(): Promise<number | undefined> | number | undefined;
  /** Wall-clock time (epoch ms) the newest message arrived, when the store tells (Maildir file ctime). */
  lastArrival?(): number | undefined;
}

/** A system under test, started and ready for runs. */
interface System {
  name: string;
  port: number;
  inbox: Inbox;
  /** Each component's root pids (their process trees are the system under test). */
  trees(): Record<string, number[]>;
  /** Stops the system and checks what it stored (notes go to `figures`). */
  finish(runs: number): Promise<void>;
  figures: SystemFigures;
}

interface RunFigures {
  run: number;
  mode: LoadMode;
  acceptedSeconds: number;
  acceptedRate: number;
  /** undefined when the INBOX never reached the target. */
  inboxSeconds?: number;
  inboxRate?: number;
  failures: string[];
  note?: string;
  /** CPU seconds of the system under test (its process trees) during the run. */
  serverCpuSeconds: number;
  /** The same, per component (Postfix, Dovecot; the appliance). */
  serverCpuParts: Record<string, number>;
  /** CPU seconds of this process (the load generator and the INBOX poller) during the run. */
  loadgenCpuSeconds: number;
  /** CPU seconds the rest of the machine (other work, not this benchmark) used during the run. */
  otherCpuSeconds: number;
  /** Core-seconds the machine had during the run (cores x wall time). */
  coreSeconds: number;
}

interface SystemFigures {
  name: string;
  runs: RunFigures[];
  best: Partial<Record<LoadMode, RunFigures>>;
  peakRssBytes?: number;
  startRssBytes?: number;
  notes: string[];
}

const log = logger('smtp');

async function ensureReferenceInstalled(): Promise<void> {
  const missing: string[] = [];
  if (!(await haveCommand('postfix'))) missing.push('postfix');
  if (!(await haveCommand('dovecot'))) missing.push('dovecot-core');
  if (!(await haveCommand('/usr/lib/dovecot/lmtp'))) missing.push('dovecot-lmtpd');
  await installFromDebian(missing, log, {
    note: ' (postfix preseeded to "No configuration")',
    preseed: 'postfix postfix/main_mailer_type select No configuration\n',
  });
}

/** The load generator's command line of the last smtp-source run, for the report. */
const commands = new Map<LoadMode, string>();

/** One measured run: the load, and the INBOX count polled until it reaches `before + MESSAGES`. */
async function measure(
  runNo: number,
  system: System,
  messages: Buffer[],
  mode: LoadMode,
  client: LoadClient,
): Promise<RunFigures> {
  const { inbox } = system;
  const before = (await inbox.count()) ?? 0;
  const target = before + MESSAGES;
  let countable = true;
  let inboxAt: number | undefined;
  let loadDoneAt: number | undefined;
  let wake: () => void = () => {};
  const loadDone = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const treeCpu = () =>
    Object.fromEntries(Object.entries(system.trees()).map(([name, pids]) => [name, treeCpuSeconds(pids)]));
  const serverCpu0 = treeCpu();
  const machine0 = machineBusySeconds();
  const machineAt0 = performance.now();
  const loadgenCpu0 = process.cpuUsage();
  const poller = (async () => {
    for (;;) {
      const n = await inbox.count();
      if (n === undefined) {
        countable = false;
        return;
      }
      if (n >= target) {
        inboxAt = performance.now();
        const arrival = inbox.lastArrival?.();
        // The exact arrival time from the store beats the polling resolution when it is known.
        if (arrival !== undefined) inboxAt = Math.min(inboxAt, arrival - (Date.now() - performance.now()));
        return;
      }
      if (loadDoneAt !== undefined && performance.now() - loadDoneAt > INBOX_GRACE_MS) return;
      // The slow interval is cut short by the last reply, so the count is taken right after it.
      if (loadDoneAt === undefined) await Promise.race([sleep(POLL_WHILE_LOADING_MS), loadDone]);
      else await sleep(POLL_AFTER_LOAD_MS);
    }
  })();
  let load: LoadResult;
  try {
    load = await sendLoad(system.port, OUR_RECIPIENT, messages, { mode, client });
    if (load.command) commands.set(mode, load.command.replace(`:${system.port}`, ':<port>'));
  } finally {
    loadDoneAt = performance.now();
    wake();
  }
  await poller;
  const loadgenCpu = process.cpuUsage(loadgenCpu0);
  const serverCpuParts = Object.fromEntries(
    Object.entries(treeCpu()).map(([name, cpu]) => [name, cpu - (serverCpu0[name] ?? 0)]),
  );
  const serverCpuSeconds = Object.values(serverCpuParts).reduce((a, b) => a + b, 0);
  const loadgenCpuSeconds = (loadgenCpu.user + loadgenCpu.system) / 1e6 + (load.externalCpuSeconds ?? 0);
  const machineCpuSeconds = machineBusySeconds() - machine0;
  const coreSeconds = (cpus().length * (performance.now() - machineAt0)) / 1000;
  const otherCpuSeconds = Math.max(0, machineCpuSeconds - serverCpuSeconds - loadgenCpuSeconds);
  const acceptedSeconds = (load.lastAcceptedAt - load.startedAt) / 1000;
  const figures: RunFigures = {
    run: runNo,
    mode,
    acceptedSeconds,
    acceptedRate: load.accepted / acceptedSeconds,
    failures: load.failures,
    serverCpuSeconds,
    serverCpuParts,
    loadgenCpuSeconds,
    otherCpuSeconds,
    coreSeconds,
  };
  if (!countable) {
    figures.note = 'INBOX count unreadable during the run; into-INBOX time is the last 250';
    figures.inboxSeconds = acceptedSeconds;
    figures.inboxRate = figures.acceptedRate;
  } else if (inboxAt !== undefined) {
    figures.inboxSeconds = (Math.max(inboxAt, load.lastAcceptedAt) - load.startedAt) / 1000;
    figures.inboxRate = MESSAGES / figures.inboxSeconds;
  }
  const inboxText =
    figures.inboxRate === undefined ? 'never complete' : `${figures.inboxRate.toFixed(1)} msgs/s`;
  log(
    `${system.name} ${mode} run ${runNo}: ${load.accepted}/${MESSAGES} accepted in ${acceptedSeconds.toFixed(2)} s ` +
      `(${figures.acceptedRate.toFixed(1)} msgs/s); into INBOX: ${inboxText}` +
      (load.failures.length > 0 ? `; ${load.failures.length} failed, first: ${load.failures[0]}` : ''),
  );
  const parts = Object.entries(serverCpuParts).map(([name, cpu]) => `${name} ${cpu.toFixed(2)} s`);
  log(
    `    CPU: server ${serverCpuSeconds.toFixed(2)} s (${((serverCpuSeconds * 1000) / MESSAGES).toFixed(2)} ms/msg` +
      `${parts.length > 1 ? `; ${parts.join(', ')}` : ''}), load generator ${loadgenCpuSeconds.toFixed(2)} s, ` +
      `other work on the machine ${otherCpuSeconds.toFixed(2)} s (of ${coreSeconds.toFixed(1)} core-s)`,
  );
  if (figures.note) log(`    ${figures.note}`);
  return figures;
}

function pickBest(runs: RunFigures[], mode: LoadMode): RunFigures | undefined {
  const complete = runs.filter(
    (r) => r.mode === mode && r.failures.length === 0 && r.inboxRate !== undefined,
  );
  return complete.sort((a, b) => (b.inboxRate ?? 0) - (a.inboxRate ?? 0))[0];
}

async function startReference(root: string): Promise<System> {
  const figures: SystemFigures = { name: 'Postfix + Dovecot', runs: [], best: {}, notes: [] };
  const dir = join(root, 'reference');
  mkdirSync(dir, { recursive: true });
  const dovecot = await startDovecot(dir, OUR_RECIPIENT);
  const stopDovecot = deferCleanup('dovecot', () => dovecot.stop());
  const postfix = await startPostfix(dir, {
    domain: OUR_DOMAIN,
    recipient: OUR_RECIPIENT,
    lmtpPort: dovecot.lmtpPort,
  });
  const stopPostfix = deferCleanup('postfix', () => postfix.stop());
  log(
    `reference: Postfix ${postfix.version} on 127.0.0.1:${postfix.smtpPort} -> LMTP -> ` +
      `Dovecot ${dovecot.version} on 127.0.0.1:${dovecot.lmtpPort} -> Maildir`,
  );
  return {
    name: figures.name,
    port: postfix.smtpPort,
    inbox: dovecot,
    figures,
    trees: () => ({
      Postfix: [postfix.masterPid()].filter((p) => p !== undefined),
      Dovecot: [dovecot.pid],
    }),
    finish: async (runs) => {
      const total = await dovecot.count();
      log(`${figures.name}: Maildir holds ${total} messages (expected ${runs * MESSAGES})`);
      if (total !== runs * MESSAGES) {
        figures.notes.push(`Maildir holds ${total} messages, expected ${runs * MESSAGES}`);
      }
      await stopPostfix();
      await stopDovecot();
    },
  };
}

async function startOursSystem(root: string): Promise<System> {
  const figures: SystemFigures = { name: 'Delegato', runs: [], best: {}, notes: [] };
  const dataDir = join(root, 'ours', 'var');
  mkdirSync(dataDir, { recursive: true });
  await prepareOurs(dataDir);
  const ours = await startOurs(dataDir);
  const stopOurs = deferCleanup('appliance', () => ours.stop());
  figures.startRssBytes = ours.rss();
  log(
    `ours: delegato start (pid ${ours.pid}), MX on 127.0.0.1:${ours.smtpPort} -> mail store; ` +
      `up in ${(ours.startupMs / 1000).toFixed(1)} s, RSS at start ${mib(figures.startRssBytes)}`,
  );
  return {
    name: figures.name,
    port: ours.smtpPort,
    inbox: ours,
    figures,
    trees: () => ({ appliance: [ours.pid] }),
    finish: async (runs) => {
      figures.peakRssBytes = ours.peakRss();
      await stopOurs();
      const stderr = ours.stderr().trim();
      if (stderr) figures.notes.push(`appliance stderr:\n${stderr.split('\n').slice(0, 20).join('\n')}`);
      const stored = await countStoredAfterStop(ours.storeDb);
      log(`${figures.name}: mail store holds ${stored} messages after stop (expected ${runs * MESSAGES})`);
      if (stored !== runs * MESSAGES) {
        figures.notes.push(`mail store holds ${stored} messages, expected ${runs * MESSAGES}`);
      }
    },
  };
}

function fmtRate(r: number | undefined): string {
  return r === undefined ? 'n/a' : r.toFixed(1);
}

function printFigures(systems: SystemFigures[], runs: number, mode: LoadMode): void {
  const rows: string[][] = [
    [
      `${mode}: system`,
      'accepted msgs/s',
      'into INBOX msgs/s',
      'server CPU ms/msg',
      'load generator CPU ms/msg',
      'peak RSS',
      'other work',
    ],
  ];
  for (const s of systems) {
    const best = s.best[mode];
    rows.push([
      `${s.name} (best of ${runs}: run ${best?.run ?? '-'})`,
      fmtRate(best?.acceptedRate),
      fmtRate(best?.inboxRate),
      best ? ((best.serverCpuSeconds * 1000) / MESSAGES).toFixed(2) : 'n/a',
      best ? ((best.loadgenCpuSeconds * 1000) / MESSAGES).toFixed(2) : 'n/a',
      mib(s.peakRssBytes),
      best ? `${((100 * best.otherCpuSeconds) / best.coreSeconds).toFixed(0)}%` : 'n/a',
    ]);
  }
  const ref = systems.find((s) => s.name !== 'Delegato')?.best[mode];
  const ours = systems.find((s) => s.name === 'Delegato')?.best[mode];
  if (ref && ours) {
    const ratio = (a?: number, b?: number) => (a && b ? `${(a / b).toFixed(2)}x` : 'n/a');
    rows.push([
      'ratio ours / Postfix',
      ratio(ours.acceptedRate, ref.acceptedRate),
      ratio(ours.inboxRate, ref.inboxRate),
      ratio(ours.serverCpuSeconds, ref.serverCpuSeconds),
      '',
      '',
      '',
    ]);
  }
  console.log('');
  printTable(rows);
  console.log('');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      runs: { type: 'string', default: '2' },
      keep: { type: 'boolean', default: false },
      mode: { type: 'string', default: 'both' },
      client: { type: 'string' },
    },
    strict: true,
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  const doRef = values.only === undefined || values.only === 'reference';
  const doOurs = values.only === undefined || values.only === 'ours';
  if (!doRef && !doOurs) throw new Error('--only must be "reference" or "ours"');
  const modes: LoadMode[] =
    values.mode === 'both' ? ['per-connection', 'persistent'] : [values.mode as LoadMode];
  if (!modes.every((m) => m === 'persistent' || m === 'per-connection'))
    throw new Error('--mode must be "both", "persistent" or "per-connection"');

  if (doRef) await ensureReferenceInstalled();
  // smtp-source comes with Postfix (the reference); without it, the benchmark's own client.
  const client = (values.client ?? (existsSync(SMTP_SOURCE) ? 'smtp-source' : 'nodemailer')) as LoadClient;
  if (client !== 'smtp-source' && client !== 'nodemailer')
    throw new Error('--client must be "smtp-source" or "nodemailer"');
  if (client === 'smtp-source' && !existsSync(SMTP_SOURCE))
    throw new Error(`${SMTP_SOURCE} is missing (Debian package postfix)`);
  log(
    `${MESSAGES} messages of ${MESSAGE_BYTES} bytes, ${SESSIONS} sessions at a time, to ${OUR_RECIPIENT}, ` +
      `from ${client}; modes: ${modes.join(', ')}; ${runs} runs per system and mode, interleaved ` +
      '(the first warms up; the better one is reported)',
  );
  const versions = doRef ? `, Postfix ${await postfixVersion()}, Dovecot ${await dovecotVersion()}` : '';
  log(machineLine() + versions);
  const root = benchRoot('delegato-bench-smtp-', values.keep, log);
  const messages = Array.from({ length: MESSAGES }, (_, i) => buildMessage(i, OUR_RECIPIENT));
  // Both systems run side by side (idle while the other is measured) and their runs alternate, so a
  // burst of unrelated work on the machine does not land on one system's runs only.
  const systems: System[] = [];
  if (doRef) systems.push(await startReference(root));
  if (doOurs) systems.push(await startOursSystem(root));
  for (const mode of modes) {
    await alternate(systems, runs, SETTLE_MS, async (system, i) => {
      system.figures.runs.push(await measure(i, system, messages, mode, client));
    });
  }
  for (const system of systems) {
    await system.finish(runs * modes.length);
    for (const mode of modes) {
      const best = pickBest(system.figures.runs, mode);
      if (best) system.figures.best[mode] = best;
    }
  }
  const figures = systems.map((s) => s.figures);
  for (const mode of modes) {
    printFigures(figures, runs, mode);
    const command = commands.get(mode);
    if (command) log(`${mode}: ${command}`);
  }
  log(
    'other work: CPU the rest of the machine (not the system, not the load generator) used during that run,',
  );
  log('as a share of cores x wall time; above ~10% the rates are disturbed and worth a rerun.');
  for (const s of figures) for (const n of s.notes) log(`${s.name}: ${n}`);
  for (const s of figures) {
    for (const mode of modes)
      if (!s.best[mode]) log(`${s.name}: no complete ${mode} run (failures or INBOX never filled)`);
  }
  return figures.every((s) => modes.every((m) => s.best[m])) ? 0 : 1;
}

await runBench('smtp', main, log);
