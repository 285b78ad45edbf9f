/**
 * `npm run bench:imap`: the 10,000-message maildrop of bench/pop3 served over IMAP by Delegato and by
 * Dovecot on this machine, in the same run. See README.md beside this file.
 *
 *   npx tsx bench/imap/run.ts [--runs N] [--messages N] [--idle N] [--only reference|ours] [--keep]
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchRoot, deferCleanup, runBench } from '../common/cleanup.js';
import { procStatusBytes, sleep } from '../common/proc.js';
import { logger, median, mib, printTable, sum } from '../common/report.js';
import { alternate } from '../common/rounds.js';
import { fillMaildir } from '../pop3/dovecot.js';
import { buildMaildrop, type Maildrop, RECIPIENT } from '../pop3/messages.js';
import { fillOurs, prepareOurs } from '../pop3/ours.js';
import { ImapClient } from './client.js';
import { dovecotVersion, pssBytes, startDovecot } from './dovecot.js';
import { startOurs } from './ours.js';

const PASSWORD = 'bench-imap-password';
/** In the From header of every 97th message (i % 97 === 42): about 1% of the maildrop. */
const SEARCH_WORD = 'sender42@example.org';
const SETTLE_MS = 1_000;
/** LOGINs in flight while opening the IDLE connections (each verifies an argon2id hash). */
const IDLE_OPEN_CONCURRENCY = 16;

interface Run {
  loginSelectMs: number;
  metaMs: number;
  metaBytes: number;
  bodyMs: number;
  bodyBytes: number;
  bodyLiteralBytes: number;
  searchMs: number;
  searchHits: number;
  problems: string[];
}

interface IdleResult {
  opened: number;
  openMs: number;
  /** Delegato: VmRSS of the appliance; Dovecot: sum of VmRSS of the imap processes. */
  rssBefore: number;
  rssIdle: number;
  /** Dovecot only: sum of PSS of the imap processes, and RSS of every Dovecot process. */
  pssIdle?: number;
  allRssIdle?: number;
  error?: string;
}

interface System {
  name: string;
  port: number;
  rss(): number;
  pss?(): number;
  allRss?(): number;
  warmup?: Run;
  runs: Run[];
  idle?: IdleResult;
  notes: string[];
}

const log = logger('imap');

async function session(system: System, drop: Maildrop, expectedHits: number): Promise<Run> {
  const count = drop.messages.length;
  const problems: string[] = [];
  const t0 = performance.now();
  const c = await ImapClient.connect(system.port);
  try {
    await c.must(`LOGIN ${RECIPIENT} ${PASSWORD}`);
    const sel = await c.must('SELECT INBOX', { collect: true });
    const loginSelectMs = performance.now() - t0;
    const exists = sel.untagged.find((l) => / EXISTS$/.test(l));
    if (exists !== `* ${count} EXISTS`) problems.push(`SELECT: ${exists}, expected ${count} EXISTS`);

    let t = performance.now();
    const meta = await c.must('FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE)', { collect: true });
    const metaMs = performance.now() - t;
    const fetches = meta.untagged.filter((l) => /^\* \d+ FETCH /.test(l));
    const sizes = sum(fetches.map((l) => Number(/RFC822\.SIZE (\d+)/.exec(l)?.[1])));
    const envelopes = fetches.filter((l) => l.includes('ENVELOPE (')).length;
    if (fetches.length !== count || envelopes !== count || sizes !== drop.totalBytes) {
      problems.push(
        `FETCH ENVELOPE: ${fetches.length} responses, ${envelopes} envelopes, RFC822.SIZE sum ${sizes}; ` +
          `expected ${count} and ${drop.totalBytes}`,
      );
    }

    t = performance.now();
    const body = await c.must('UID FETCH 1:* BODY.PEEK[]');
    const bodyMs = performance.now() - t;
    if (body.untaggedCount !== count || body.literalBytes !== drop.totalBytes) {
      problems.push(
        `UID FETCH BODY.PEEK[]: ${body.untaggedCount} responses, ${body.literalBytes} literal octets; ` +
          `expected ${count} and ${drop.totalBytes}`,
      );
    }

    t = performance.now();
    const search = await c.must(`SEARCH TEXT "${SEARCH_WORD}"`, { collect: true });
    const searchMs = performance.now() - t;
    const line = search.untagged.find((l) => l.startsWith('* SEARCH')) ?? '';
    const searchHits = line.split(' ').length - 2;
    if (searchHits !== expectedHits)
      problems.push(`SEARCH TEXT: ${searchHits} hits, expected ${expectedHits}`);
    await c.command('LOGOUT');
    return {
      loginSelectMs,
      metaMs,
      metaBytes: meta.bytes,
      bodyMs,
      bodyBytes: body.bytes,
      bodyLiteralBytes: body.literalBytes,
      searchMs,
      searchHits,
      problems,
    };
  } finally {
    c.destroy();
  }
}

function describe(r: Run): string {
  return (
    `LOGIN+SELECT ${r.loginSelectMs.toFixed(0)} ms, FETCH ENVELOPE ${r.metaMs.toFixed(0)} ms ` +
    `(${(r.metaBytes / 1e6).toFixed(1)} MB), FETCH BODY[] ${(r.bodyMs / 1000).toFixed(2)} s ` +
    `(${(r.bodyLiteralBytes / 1e6).toFixed(1)} MB in literals, ${(r.bodyBytes / 1e6).toFixed(1)} MB total), ` +
    `SEARCH TEXT ${r.searchMs.toFixed(0)} ms (${r.searchHits} hits)`
  );
}

/** Opens `n` connections (LOGIN, SELECT INBOX, IDLE each), reads RSS, closes them. */
async function idlePhase(system: System, n: number): Promise<IdleResult> {
  const rssBefore = system.rss();
  const clients: ImapClient[] = [];
  let next = 0;
  let error: string | undefined;
  const t0 = performance.now();
  const worker = async () => {
    while (error === undefined && next < n) {
      next++;
      try {
        const c = await ImapClient.connect(system.port);
        clients.push(c);
        await c.must(`LOGIN ${RECIPIENT} ${PASSWORD}`);
        await c.must('SELECT INBOX');
        await c.idle();
      } catch (err) {
        error ??= `connection ${clients.length}: ${(err as Error).message}`;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: IDLE_OPEN_CONCURRENCY }, worker));
    const openMs = performance.now() - t0;
    await sleep(2_000);
    const r: IdleResult = {
      opened: error === undefined ? clients.length : clients.length - 1,
      openMs,
      rssBefore,
      rssIdle: system.rss(),
    };
    if (system.pss) r.pssIdle = system.pss();
    if (system.allRss) r.allRssIdle = system.allRss();
    if (error !== undefined) r.error = error;
    return r;
  } finally {
    for (const c of clients) c.destroy();
    await sleep(2_000);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      runs: { type: 'string', default: '3' },
      messages: { type: 'string', default: '10000' },
      idle: { type: 'string', default: '1000' },
      keep: { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const count = Number(values.messages);
  const idleN = Number(values.idle);
  const doRef = values.only === undefined || values.only === 'reference';
  const doOurs = values.only === undefined || values.only === 'ours';
  const version = doRef ? await dovecotVersion() : '';
  log(
    `Node ${process.version}, ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}${doRef ? `, Dovecot ${version}` : ''}`,
  );
  const drop = buildMaildrop(count);
  const needle = Buffer.from(SEARCH_WORD, 'latin1');
  const expectedHits = drop.messages.filter((m) => m.includes(needle)).length;
  log(
    `maildrop: ${count} messages, ${drop.totalBytes} octets; "${SEARCH_WORD}" is in ${expectedHits} of them`,
  );

  const root = benchRoot('delegato-bench-imap-', values.keep, log);

  const systems: System[] = [];
  if (doRef) {
    const dir = join(root, 'reference');
    mkdirSync(dir, { recursive: true });
    fillMaildir(dir, RECIPIENT, drop.messages);
    const dovecot = await startDovecot(dir, RECIPIENT, PASSWORD, idleN);
    deferCleanup('dovecot', () => dovecot.stop());
    log(`reference: Dovecot ${dovecot.version} (pid ${dovecot.pid}), IMAP on 127.0.0.1:${dovecot.imapPort}`);
    systems.push({
      name: 'Dovecot',
      port: dovecot.imapPort,
      rss: () => sum(dovecot.imapPids().map((p) => procStatusBytes(p, 'VmRSS'))),
      pss: () => sum(dovecot.imapPids().map(pssBytes)),
      allRss: () => sum([dovecot.pid, ...dovecot.allPids()].map((p) => procStatusBytes(p, 'VmRSS'))),
      runs: [],
      notes: [dovecot.log],
    });
  }
  if (doOurs) {
    const dataDir = join(root, 'ours', 'var');
    mkdirSync(dataDir, { recursive: true });
    await prepareOurs(dataDir, RECIPIENT, PASSWORD);
    const fill = await fillOurs(dataDir, RECIPIENT, count);
    if (fill.delivered !== count || fill.bytes !== drop.totalBytes) {
      throw new Error(`fill delivered ${fill.delivered} messages / ${fill.bytes} octets`);
    }
    log(`ours: mail store filled in ${(fill.ms / 1000).toFixed(1)} s`);
    const ours = await startOurs(dataDir);
    deferCleanup('appliance', async () => {
      await ours.stop();
      const err = ours.stderr().trim();
      if (err) log(`appliance stderr:\n${err.split('\n').slice(0, 20).join('\n')}`);
    });
    log(`ours: delegato start (pid ${ours.pid}), IMAP on 127.0.0.1:${ours.imapPort}, RSS ${mib(ours.rss())}`);
    systems.push({ name: 'Delegato', port: ours.imapPort, rss: () => ours.rss() ?? 0, runs: [], notes: [] });
  }

  await alternate(systems, 1, SETTLE_MS, async (s) => {
    s.warmup = await session(s, drop, expectedHits);
    log(`${s.name} warm-up (not counted): ${describe(s.warmup)}`);
    for (const p of s.warmup.problems) log(`    PROBLEM: ${p}`);
  });
  await alternate(systems, runs, SETTLE_MS, async (s, i) => {
    const r = await session(s, drop, expectedHits);
    s.runs.push(r);
    log(`${s.name} run ${i}: ${describe(r)}`);
    for (const p of r.problems) log(`    PROBLEM: ${p}`);
  });
  if (idleN > 0) {
    for (const s of systems) {
      await sleep(SETTLE_MS);
      s.idle = await idlePhase(s, idleN);
      const r = s.idle;
      log(
        `${s.name} IDLE: ${r.opened} connections open (LOGIN+SELECT+IDLE) in ${(r.openMs / 1000).toFixed(1)} s; ` +
          `RSS ${mib(r.rssBefore)} before, ${mib(r.rssIdle)} with them` +
          (r.pssIdle !== undefined
            ? ` (PSS ${mib(r.pssIdle)}; all Dovecot processes RSS ${mib(r.allRssIdle)})`
            : '') +
          (r.error ? `; stopped: ${r.error}` : ''),
      );
    }
  }

  // Report.
  const rows: string[][] = [
    [
      'system',
      'LOGIN+SELECT ms',
      'FETCH ENVELOPE ms',
      'FETCH BODY[] s',
      'BODY[] MB/s',
      'SEARCH TEXT ms',
      `RSS, ${idleN} IDLE`,
    ],
  ];
  const med = new Map<System, number[]>();
  for (const s of systems) {
    const good = s.runs.filter((r) => r.problems.length === 0);
    if (good.length === 0) continue;
    const m = [
      median(good.map((r) => r.loginSelectMs)),
      median(good.map((r) => r.metaMs)),
      median(good.map((r) => r.bodyMs)),
      median(good.map((r) => r.bodyLiteralBytes / 1e6 / (r.bodyMs / 1000))),
      median(good.map((r) => r.searchMs)),
      s.idle?.rssIdle ?? Number.NaN,
    ];
    med.set(s, m);
    rows.push([
      `${s.name} (median of ${good.length})`,
      m[0]?.toFixed(0) ?? '',
      m[1]?.toFixed(0) ?? '',
      ((m[2] ?? 0) / 1000).toFixed(2),
      m[3]?.toFixed(1) ?? '',
      m[4]?.toFixed(0) ?? '',
      s.idle ? `${mib(s.idle.rssIdle)} (${s.idle.opened} conns)` : '-',
    ]);
  }
  const d = systems.find((s) => s.name === 'Dovecot');
  const o = systems.find((s) => s.name === 'Delegato');
  const dm = d && med.get(d);
  const om = o && med.get(o);
  if (dm && om)
    rows.push(['ratio ours / Dovecot', ...om.map((v, i) => `${(v / (dm[i] as number)).toFixed(2)}x`)]);
  console.log('');
  printTable(rows);
  console.log('');

  for (const s of systems) {
    const logFile = s.notes[0];
    if (logFile) {
      const problems = readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => /(Error|Warning|Fatal|Panic):/.test(l));
      const inotify = problems.filter((l) => l.includes('Inotify instance limit')).length;
      const other = problems.filter((l) => !l.includes('Inotify instance limit'));
      if (inotify > 0) log(`dovecot.log: ${inotify} "Inotify instance limit exceeded" warnings (IDLE polls)`);
      if (other.length > 0) log(`dovecot.log:\n${other.slice(0, 10).join('\n')}`);
    }
  }
  const ok = systems.every(
    (s) => s.warmup?.problems.length === 0 && s.runs.every((r) => r.problems.length === 0),
  );
  if (!ok) log('some runs had problems (PROBLEM lines): they are left out of the medians');
  return ok ? 0 : 1;
}

await runBench('imap', main);
