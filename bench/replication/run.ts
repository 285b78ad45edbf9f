/**
 * `npm run bench:replication`: the federation lab (`delegato lab up`: north runs the hub and is the
 * writer, central and south are replicas) measured end to end. See README.md beside this file.
 *
 *   npx tsx bench/replication/run.ts [--changes N] [--messages M] [--kind alias|mailbox] [--poll-ms N] [--keep]
 *
 * 1. Directory changes: N changes made alternately at the writer (north) and in central (forwarded to the
 *    writer), through each region's admin JSON API; for each, the time from its confirmation until every
 *    other region's own API lists it.
 * 2. Mail between regions: M messages submitted in south to a north mailbox, and M the other way; for each,
 *    the time from the submission's 250 until the recipient's INBOX (IMAP STATUS in the home region) has it.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ImapFlow } from 'imapflow';
import { benchRoot, deferCleanup, runBench } from '../common/cleanup.js';
import { sleep } from '../common/proc.js';
import { logger, machineLine, printTable } from '../common/report.js';
import { RegionApi } from './api.js';
import {
  alive,
  delegato,
  type LabFile,
  oursByCmdline,
  REGIONS,
  type Region,
  readLabFile,
  recordedPids,
} from './lab.js';
import { SubmissionClient } from './smtp.js';

const log = logger('replication');
/** The regions' pull period (docs/federation.md): changes are made at a random point of it. */
const PULL_MS = 500;
/** IMAP STATUS poll interval while waiting for a message. */
const IMAP_POLL_MS = 10;
/** A change not visible, or a message not delivered, after this long counts as lost. */
const GIVE_UP_MS = 30_000;
const TARGET_MS = 2_000;
const PASSWORD = 'bench replication password';
const ADA = 'ada@north.example';
const BOB = 'bob@south.example';

const { values: opts } = parseArgs({
  options: {
    changes: { type: 'string', default: '200' },
    messages: { type: 'string', default: '50' },
    kind: { type: 'string', default: 'alias' },
    'poll-ms': { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
  },
});
const CHANGES = Number(opts.changes);
const MESSAGES = Number(opts.messages);
const POLL_MS = Number(opts['poll-ms']);
const KIND = opts.kind as 'alias' | 'mailbox';

interface Change {
  origin: Region;
  /** Request sent → the origin's confirmation (201). */
  confirmMs: number;
  /** Confirmation → listed by that region's API (Infinity: never within GIVE_UP_MS). */
  visible: Partial<Record<Region, number>>;
  /** Request sent → listed there. */
  fromRequest: Partial<Record<Region, number>>;
}

/** Nearest-rank percentile of the finite values (NaN when none). */
function pct(values: number[], p: number): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))] as number;
}

const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)}` : '-');
const row = (a: string, b: string, values: number[]) => {
  const lost = values.filter((x) => !Number.isFinite(x)).length;
  return [
    a,
    b,
    `${values.length - lost}${lost ? ` (${lost} lost)` : ''}`,
    ms(pct(values, 50)),
    ms(pct(values, 95)),
    ms(Math.max(...values.filter(Number.isFinite))),
  ];
};

/** Polls `check` every `every` ms; resolves with performance.now() at the first true answer (Infinity: gave up). */
async function until(check: () => Promise<boolean>, every: number): Promise<number> {
  const began = performance.now();
  for (;;) {
    if (await check().catch(() => false)) return performance.now();
    if (performance.now() - began > GIVE_UP_MS) return Number.POSITIVE_INFINITY;
    await sleep(every);
  }
}

/** Messages in INBOX (IMAP STATUS). */
async function inboxCount(imap: ImapFlow): Promise<number> {
  const status = await imap.status('INBOX', { messages: true });
  return status === false ? 0 : (status.messages ?? 0);
}

/** Retries `fn` (a change that needs the regions' own rows, a sign-in before the operator is pulled). */
async function retry<T>(what: string, fn: () => Promise<T>, ms = 60_000): Promise<T> {
  const began = Date.now();
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() - began > ms) throw new Error(`${what}: ${(err as Error).message}`);
      await sleep(500);
    }
  }
}

async function main(): Promise<number> {
  if (!(CHANGES > 0 && MESSAGES >= 0 && POLL_MS > 0 && (KIND === 'alias' || KIND === 'mailbox'))) {
    console.error('usage: run.ts [--changes N] [--messages M] [--kind alias|mailbox] [--poll-ms N] [--keep]');
    return 2;
  }
  const startLine = machineLine();
  log(startLine);
  const root = benchRoot('delegato-bench-replication-', opts.keep, log);
  const dir = join(root, 'lab');
  const seen = new Set<number>();
  const note = () => {
    try {
      for (const pid of recordedPids(readLabFile(dir))) seen.add(pid);
    } catch {}
  };
  const apis: RegionApi[] = [];
  deferCleanup('lab down', async () => {
    for (const api of apis) api.close();
    note();
    const down = await delegato(['lab', 'down', '--dir', dir], root);
    if (down.code !== 0) log(`lab down exited ${down.code}: ${down.stderr.trim()}`);
    for (const pid of seen) {
      if (alive(pid) && oursByCmdline(pid, dir)) {
        log(`pid ${pid} outlived lab down: SIGKILL`);
        process.kill(pid, 'SIGKILL');
      }
    }
    const left = [...seen].filter(alive);
    log(
      `lab down: ${left.length === 0 ? `none of the ${seen.size} recorded PIDs is left` : `left: ${left.join(', ')}`}`,
    );
  });

  // ---------------------------------------------------------------------------------------------- the lab
  let t = performance.now();
  const up = await delegato(['lab', 'up', '--dir', dir], root);
  note();
  if (up.code !== 0) throw new Error(`lab up exited ${up.code}:\n${up.stderr}`);
  log(`lab up: ${((performance.now() - t) / 1000).toFixed(1)} s (${dir})`);
  const lab: LabFile = readLabFile(dir);
  const api = {} as Record<Region, RegionApi>;
  for (const r of REGIONS) {
    const entry = lab.regions[r];
    api[r] = new RegionApi(r, entry.host, entry.ports.admin);
    apis.push(api[r]);
  }
  for (const r of REGIONS) {
    const { username, password } = lab.regions[r].operator;
    await retry(`${r}: sign-in`, () => api[r].signIn(username, password));
  }

  // Domains homed in north and south, one mailbox in each (set up at the writer; not measured).
  await api.north.must('POST', '/api/v1/domains', { name: 'north.example', region: 'north' });
  await retry('south.example', () =>
    api.north.must('POST', '/api/v1/domains', { name: 'south.example', region: 'south' }),
  );
  for (const [domain, local] of [
    ['north.example', 'ada'],
    ['south.example', 'bob'],
  ] as const) {
    await api.north.must('POST', `/api/v1/domains/${domain}/mailboxes`, {
      kind: 'role',
      localPart: local,
      password: PASSWORD,
    });
  }
  for (const r of REGIONS) {
    for (const [domain, address] of [
      ['north.example', ADA],
      ['south.example', BOB],
    ] as const) {
      const at = await until(async () => {
        const res = await api[r].call(
          'GET',
          `/api/v1/domains/${domain}/mailboxes?q=${address.split('@')[0]}`,
        );
        return (
          (res.body as { mailboxes?: Array<{ address: string }> }).mailboxes?.some(
            (m) => m.address === address,
          ) === true
        );
      }, 100);
      if (!Number.isFinite(at)) throw new Error(`${address} never appeared in ${r}`);
    }
  }
  log('set-up done: north.example (north) with ada, south.example (south) with bob, known in every region');

  // ------------------------------------------------------------------------------------ directory changes
  const listed = async (r: Region, i: number): Promise<boolean> => {
    if (KIND === 'alias') {
      const res = await api[r].call('GET', '/api/v1/domains/north.example/aliases');
      return (
        Array.isArray(res.body) &&
        (res.body as Array<{ address: string }>).some((a) => a.address === `r${i}@north.example`)
      );
    }
    const res = await api[r].call('GET', `/api/v1/domains/north.example/mailboxes?q=m${i}x`);
    return (
      (res.body as { mailboxes?: Array<{ address: string }> }).mailboxes?.some(
        (m) => m.address === `m${i}x@north.example`,
      ) === true
    );
  };
  const changes: Change[] = [];
  t = performance.now();
  for (let i = 0; i < CHANGES; i++) {
    const origin: Region = i % 2 === 0 ? 'north' : 'central';
    await sleep(Math.random() * PULL_MS);
    const t0 = performance.now();
    if (KIND === 'alias') {
      await api[origin].must('POST', '/api/v1/domains/north.example/aliases', {
        alias: `r${i}@north.example`,
        targets: [ADA],
      });
    } else {
      await api[origin].must('POST', '/api/v1/domains/north.example/mailboxes', {
        kind: 'role',
        localPart: `m${i}x`,
        password: PASSWORD,
      });
    }
    const t1 = performance.now();
    const others = REGIONS.filter((r) => r !== origin);
    const at = await Promise.all(others.map((r) => until(() => listed(r, i), POLL_MS)));
    const change: Change = { origin, confirmMs: t1 - t0, visible: {}, fromRequest: {} };
    others.forEach((r, k) => {
      change.visible[r] = (at[k] as number) - t1;
      change.fromRequest[r] = (at[k] as number) - t0;
    });
    changes.push(change);
    if ((i + 1) % 50 === 0) log(`${i + 1} changes`);
  }
  log(`${CHANGES} changes in ${((performance.now() - t) / 1000).toFixed(0)} s`);

  // -------------------------------------------------------------------------------- mail between regions
  const deliveries: Array<{ from: Region; to: Region; ms: number[] }> = [];
  const directions = [
    { from: 'south', to: 'north', sender: BOB, rcpt: ADA },
    { from: 'north', to: 'south', sender: ADA, rcpt: BOB },
  ] as const;
  for (const d of directions) {
    if (MESSAGES === 0) break;
    const home = lab.regions[d.to];
    const imap = new ImapFlow({
      host: home.host,
      port: home.ports.imaps,
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: d.rcpt, pass: PASSWORD },
      logger: false,
    });
    await imap.connect();
    const smtp = await SubmissionClient.open(
      lab.regions[d.from].host,
      lab.regions[d.from].ports.submissions,
      d.sender,
      PASSWORD,
    );
    const result = { from: d.from as Region, to: d.to as Region, ms: [] as number[] };
    try {
      let count = await inboxCount(imap);
      // Message 0 is a warm-up (the first federation connection, the first delivery): not counted.
      for (let j = 0; j <= MESSAGES; j++) {
        const message = [
          `From: <${d.sender}>`,
          `To: <${d.rcpt}>`,
          `Subject: bench ${d.from} to ${d.to} ${j}`,
          `Message-ID: <bench-${d.from}-${j}-${Date.now()}@bench.invalid>`,
          `Date: ${new Date().toUTCString()}`,
          '',
          `Message ${j} from ${d.from} to ${d.to}.`,
          '',
        ].join('\r\n');
        const accepted = await smtp.send(d.sender, d.rcpt, message);
        const want = count + 1;
        const arrived = await until(async () => (await inboxCount(imap)) >= want, IMAP_POLL_MS);
        count = want;
        if (j > 0) result.ms.push(arrived - accepted);
        if (!Number.isFinite(arrived)) break;
        await sleep(50);
      }
    } finally {
      await smtp.close();
      await imap.logout().catch(() => undefined);
    }
    deliveries.push(result);
    log(`${d.from} -> ${d.to}: ${result.ms.length} messages`);
  }

  // ------------------------------------------------------------------------------------------- the report
  const endLine = machineLine();
  console.log('');
  console.log(
    `Replication and inter-region mail: the lab on loopback (north: hub + writer; central, south: replicas)`,
  );
  console.log(`before: ${startLine}`);
  console.log(`after:  ${endLine}`);
  console.log(
    `changes: ${CHANGES} ${KIND === 'alias' ? 'aliases' : 'role mailboxes'} added through the admin JSON API, alternately at north and in central, at a random point of the ${PULL_MS} ms pull period; polled every ${POLL_MS} ms`,
  );
  console.log('');
  const rows: string[][] = [['change made in', 'visible in', 'changes', 'p50 ms', 'p95 ms', 'max ms']];
  const all = (list: Change[], pick: (c: Change) => number) => list.map(pick);
  const latest = (c: Change, m: 'visible' | 'fromRequest') => Math.max(...Object.values(c[m]));
  for (const origin of ['north', 'central'] as const) {
    const list = changes.filter((c) => c.origin === origin);
    const label = origin === 'north' ? 'north (writer)' : 'central (forwarded)';
    rows.push([
      `${label}: request → confirmed`,
      origin,
      ...row(
        '',
        '',
        all(list, (c) => c.confirmMs),
      ).slice(2),
    ]);
    for (const r of REGIONS.filter((x) => x !== origin))
      rows.push(
        row(
          label,
          r,
          all(list, (c) => c.visible[r] as number),
        ),
      );
    rows.push(
      row(
        label,
        'both others',
        all(list, (c) => latest(c, 'visible')),
      ),
    );
  }
  const everyConfirm = all(changes, (c) => latest(c, 'visible'));
  const everyRequest = all(changes, (c) => latest(c, 'fromRequest'));
  rows.push(row('any', 'every other region', everyConfirm));
  rows.push(row('any, from the request', 'every other region', everyRequest));
  printTable(rows);
  console.log('(from the origin\'s confirmation unless said; "both others": the later of the two regions)');
  console.log('');
  if (deliveries.length > 0) {
    printTable([
      ['submitted in', 'recipient in', 'messages', 'p50 ms', 'p95 ms', 'max ms'],
      ...deliveries.map((d) => row(d.from, d.to, d.ms)),
    ]);
    console.log(
      `(from the submission's 250 after DATA to the message counted by IMAP STATUS in the recipient's region, polled every ${IMAP_POLL_MS} ms; one warm-up message per direction not counted)`,
    );
    console.log('');
  }
  const judged: Array<[string, number[]]> = [
    ['replication, from the request', everyRequest],
    ...deliveries.map((d): [string, number[]] => [`mail ${d.from} → ${d.to}`, d.ms]),
  ];
  const lost = judged.some(([, v]) => v.some((x) => !Number.isFinite(x)));
  const met = !lost && judged.every(([, v]) => pct(v, 95) < TARGET_MS);
  console.log(
    `p95 under 2 s: ${met ? 'met' : 'not met'} (${judged.map(([w, v]) => `${w} ${ms(pct(v, 95))} ms`).join('; ')})`,
  );
  if (lost) console.log(`PROBLEM: a change or a message was not seen within ${GIVE_UP_MS / 1000} s`);
  return lost ? 1 : 0;
}

await runBench('replication', main, log);
