/**
 * Dovecot's imaptest against a freshly started appliance: the compliance scripts (`test=<dir>`) and the
 * stress mode (`clients=N secs=S`, APPENDs from a generated mbox), over IMAPS; prints the summary. It
 * builds nothing: imaptest must be installed (see docs/imaptest.md) and the appliance built
 * (`npm run build`). `--reference` runs the same against a private Dovecot 2.3 (plain IMAP, loopback).
 *
 *   npx tsx bench/imaptest/run.ts [--imaptest PATH] [--tests DIR] [--clients 10,50] [--secs 20]
 *                                 [--messages 500] [--only compliance|stress] [--reference] [--keep]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startAppliance } from '../common/appliance.js';
import { benchRoot, deferCleanup, runBench } from '../common/cleanup.js';
import { haveCommand, run } from '../common/proc.js';
import { logger, printTable } from '../common/report.js';
import { startDovecot } from '../imap/dovecot.js';
import { fillMaildir } from '../pop3/dovecot.js';
import { RECIPIENT } from '../pop3/messages.js';
import { prepareOurs } from '../pop3/ours.js';
import { generateMbox } from './mbox.js';

/** The mailbox bench/pop3's `prepareOurs` creates. */
const LOGIN = RECIPIENT;
const PASSWORD = 'Imaptest-Pass-2024';
/** Where Debian's dovecot-core keeps libdovecot.so, which an imaptest built against dovecot-dev needs. */
const DOVECOT_LIBDIR = '/usr/lib/dovecot';
/** imaptest runs at most this long beyond its own `secs` before it is killed. */
const STRESS_GRACE_S = 120;
const COMPLIANCE_TIMEOUT_S = 600;

const log = logger('imaptest');

export interface ComplianceResult {
  groups: number;
  groupsFailed: number;
  baseFailed: number;
  baseTotal: number;
  extFailed: number;
  extTotal: number;
  failedGroups: string[];
}

export interface StressResult {
  clients: number;
  secs: number;
  errors: number;
  /** Distinct error messages (user names and numbers blanked), with their counts. */
  errorKinds: Array<[string, number]>;
  /** Command name (imaptest's 4-letter column) → commands completed. */
  totals: Map<string, number>;
}

/** The summary lines imaptest prints after the compliance scripts. */
export function parseCompliance(out: string): ComplianceResult {
  const groups = /(\d+) test groups: (\d+) failed/.exec(out);
  const base = /base protocol: (\d+)\/(\d+) individual commands failed/.exec(out);
  const ext = /extensions: (\d+)\/(\d+) individual commands failed/.exec(out);
  if (!groups || !base || !ext) throw new Error(`imaptest printed no summary:\n${out.slice(-2000)}`);
  const failedGroups = [...new Set([...out.matchAll(/^\*\*\* Test (\S+) /gm)].map((m) => m[1] as string))];
  return {
    groups: Number(groups[1]),
    groupsFailed: Number(groups[2]),
    baseFailed: Number(base[1]),
    baseTotal: Number(base[2]),
    extFailed: Number(ext[1]),
    extTotal: Number(ext[2]),
    failedGroups,
  };
}

/** The `Error:` lines and the `Totals:` table of a stress run. */
export function parseStress(out: string, clients: number, secs: number): StressResult {
  const kinds = new Map<string, number>();
  let errors = 0;
  for (const m of out.matchAll(/^Error: (.*)$/gm)) {
    errors++;
    const kind = (m[1] as string)
      .replace(/^\S+\[\d+\]: /, '')
      .replace(/\d+/g, 'N')
      .slice(0, 120);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  const totals = new Map<string, number>();
  const lines = out.slice(out.lastIndexOf('Totals:')).split('\n');
  const names = (lines[1] ?? '').trim().split(/\s+/);
  const counts = lines.slice(2).find((l) => /^[\s\d]+$/.test(l) && l.trim() !== '');
  if (counts) {
    counts
      .trim()
      .split(/\s+/)
      .forEach((n, i) => {
        if (names[i]) totals.set(names[i] as string, Number(n));
      });
  }
  return { clients, secs, errors, errorKinds: [...kinds].sort((a, b) => b[1] - a[1]), totals };
}

function imaptestEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (existsSync(DOVECOT_LIBDIR)) {
    env.LD_LIBRARY_PATH = [DOVECOT_LIBDIR, env.LD_LIBRARY_PATH].filter(Boolean).join(delimiter);
  }
  return env;
}

/** Runs imaptest in `cwd`; its whole output is also written to `<cwd>/<label>.txt` (see `--keep`). */
async function imaptest(
  bin: string,
  args: string[],
  timeoutS: number,
  cwd: string,
  label: string,
): Promise<string> {
  const r = await run('timeout', [String(timeoutS), bin, ...args], {
    env: imaptestEnv(),
    allowFailure: true,
    cwd,
  });
  if (r.code === 124) throw new Error(`imaptest ${args.join(' ')} did not finish within ${timeoutS} s`);
  const out = `${r.stdout}${r.stderr}`;
  writeFileSync(join(cwd, `${label.replace(/\W+/g, '-')}.txt`), out);
  return out;
}

interface Target {
  name: string;
  args: string[];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      imaptest: { type: 'string', default: 'imaptest' },
      tests: { type: 'string' },
      clients: { type: 'string', default: '10,50' },
      secs: { type: 'string', default: '20' },
      messages: { type: 'string', default: '500' },
      only: { type: 'string' },
      reference: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  });
  const bin = values.imaptest as string;
  if (bin.includes('/') ? !existsSync(bin) : !(await haveCommand(bin))) {
    throw new Error(`imaptest not found (${bin}): build it (docs/imaptest.md) and pass --imaptest <path>`);
  }
  const tests = values.tests ?? join(dirname(bin), 'tests');
  const doCompliance = values.only !== 'stress';
  const doStress = values.only !== 'compliance';
  if (doCompliance && !existsSync(tests))
    throw new Error(`no imaptest scripts at ${tests}: pass --tests <src/tests>`);
  const clientCounts = (values.clients as string).split(',').map(Number);
  const secs = Number(values.secs);

  const root = benchRoot('delegato-imaptest-', values.keep, log);
  const mbox = join(root, 'stress.mbox');
  if (doStress) log(`generated ${generateMbox(mbox, Number(values.messages))} octets of mail in ${mbox}`);

  const targets: Target[] = [];
  const dataDir = join(root, 'var');
  await prepareOurs(dataDir, LOGIN, PASSWORD);
  const ours = await startAppliance(dataDir, { listener: 'imaps', nofile: 20_000 });
  deferCleanup('appliance', () => ours.stop());
  log(`appliance imaps 127.0.0.1:${ours.port}`);
  targets.push({
    name: 'Delegato (IMAPS)',
    args: ['host=127.0.0.1', `port=${ours.port}`, 'ssl=any-cert', `user=${LOGIN}`, `pass=${PASSWORD}`],
  });
  if (values.reference) {
    const refDir = join(root, 'ref');
    mkdirSync(refDir, { recursive: true });
    fillMaildir(refDir, 'imap.test', []);
    const dovecot = await startDovecot(refDir, 'imap.test', PASSWORD, Math.max(...clientCounts) + 10);
    deferCleanup('dovecot', () => dovecot.stop());
    log(`Dovecot ${dovecot.version} imap 127.0.0.1:${dovecot.imapPort}`);
    targets.push({
      name: `Dovecot ${dovecot.version} (IMAP)`,
      args: ['host=127.0.0.1', `port=${dovecot.imapPort}`, 'user=imap.test', `pass=${PASSWORD}`],
    });
  }

  let failed = false;
  if (doCompliance) {
    const rows = [['system', 'groups failed', 'base protocol failed', 'extensions failed', 'failing groups']];
    for (const t of targets) {
      log(`compliance: ${t.name}`);
      const c = parseCompliance(
        await imaptest(bin, [...t.args, `test=${tests}`], COMPLIANCE_TIMEOUT_S, root, `${t.name} compliance`),
      );
      rows.push([
        t.name,
        `${c.groupsFailed}/${c.groups}`,
        `${c.baseFailed}/${c.baseTotal}`,
        `${c.extFailed}/${c.extTotal}`,
        c.failedGroups.join(' ') || '-',
      ]);
      if (t === targets[0] && c.groupsFailed > 0) failed = true;
    }
    console.log('\nimaptest compliance\n');
    printTable(rows);
  }
  if (doStress) {
    const results: Array<{ name: string; r: StressResult }> = [];
    for (const clients of clientCounts) {
      for (const t of targets) {
        log(`stress: ${t.name}, ${clients} clients, ${secs} s`);
        const args = [...t.args, `mbox=${mbox}`, `clients=${clients}`, `secs=${secs}`];
        const r = parseStress(
          await imaptest(bin, args, secs + STRESS_GRACE_S, root, `${t.name} stress ${clients}`),
          clients,
          secs,
        );
        results.push({ name: t.name, r });
        if (t === targets[0] && r.errors > 0) failed = true;
      }
    }
    const names = [...(results[0]?.r.totals.keys() ?? [])];
    console.log(`\nimaptest stress (${secs} s per run; commands completed per type)\n`);
    printTable([
      ['system', 'clients', 'errors', ...names],
      ...results.map(({ name, r }) => [
        name,
        String(r.clients),
        String(r.errors),
        ...names.map((n) => String(r.totals.get(n) ?? '')),
      ]),
    ]);
    for (const { name, r } of results) {
      for (const [kind, n] of r.errorKinds.slice(0, 10))
        console.log(`  ${name}, ${r.clients} clients: ${n} × ${kind}`);
    }
  }
  return failed ? 1 : 0;
}

await runBench('imaptest', main, log);
