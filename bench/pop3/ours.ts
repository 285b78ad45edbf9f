/**
 * Delegato's side: a fresh data dir with one domain and one mailbox with a password (the CLI, which opens
 * the data dir directly while no appliance runs), the maildrop delivered straight into the mail store
 * (fill.ts, a child process), then `delegato start` as a child process whose POP3 listener
 * (DELEGATO_PORT_POP3=0) is read from the `pop3 <host>:<port>` line it prints.
 */
import { join } from 'node:path';
import { delegatoCli, REPO, type RunningAppliance, startAppliance } from '../common/appliance.js';
import { run } from '../common/proc.js';

export const OUR_DOMAIN = 'bench.example';

const FILL = join(import.meta.dirname, 'fill.ts');

export interface FillResult {
  id: string;
  delivered: number;
  bytes: number;
  ms: number;
}

/** Creates the domain and the mailbox (bench.user@bench.example) with the CLI. */
export async function prepareOurs(dataDir: string, login: string, password: string): Promise<void> {
  await delegatoCli(dataDir, ['domain', 'add', OUR_DOMAIN]);
  const r = await delegatoCli(
    dataDir,
    ['mailbox', 'add', OUR_DOMAIN, '--first', 'Bench', '--last', 'User', '--password-stdin'],
    `${password}\n`,
  );
  if (!r.stdout.includes(login)) throw new Error(`mailbox add did not create ${login}:\n${r.stdout}`);
}

/** Delivers the maildrop into the mail store directly (no appliance running). */
export async function fillOurs(dataDir: string, login: string, count: number): Promise<FillResult> {
  const r = await run(process.execPath, ['--import', 'tsx', FILL, dataDir, login, String(count)], {
    cwd: REPO,
    env: { ...process.env, DELEGATO_LOG_LEVEL: 'warn' },
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as FillResult;
}

export interface RunningOurs extends RunningAppliance {
  pop3Port: number;
}

export async function startOurs(dataDir: string, timeoutMs = 60_000): Promise<RunningOurs> {
  const ours = await startAppliance(dataDir, { listener: 'pop3', timeoutMs });
  return { ...ours, pop3Port: ours.port };
}
