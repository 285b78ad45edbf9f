/**
 * Delegato's side: a fresh data dir with one domain and one mailbox (made with the CLI, which opens the
 * data dir directly while no appliance runs), then `delegato start` as a child process whose MX listener
 * (DELEGATO_PORT_SMTP=0) is read from the `smtp <host>:<port>` line it prints.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Client, createClient } from '@libsql/client';
import { delegatoCli, REPO, type RunningAppliance, startAppliance } from '../common/appliance.js';
import { run } from '../common/proc.js';

export const OUR_DOMAIN = 'bench.example';
export const OUR_RECIPIENT = 'bench.user@bench.example';
/** The mail store's message table (packages/mailstore/src/store.ts). */
const MESSAGES_TABLE = 'messages';

export interface RunningOurs extends RunningAppliance {
  smtpPort: number;
  storeDb: string;
  /** Messages in the mail store, read through a second (reader) connection; undefined if unreadable. */
  count(): Promise<number | undefined>;
}

/** Creates the data dir's domain and mailbox with the CLI. */
export async function prepareOurs(dataDir: string): Promise<void> {
  await delegatoCli(dataDir, ['domain', 'add', OUR_DOMAIN]);
  await delegatoCli(dataDir, ['mailbox', 'add', OUR_DOMAIN, '--first', 'Bench', '--last', 'User']);
}

export async function startOurs(dataDir: string, timeoutMs = 60_000): Promise<RunningOurs> {
  const ours = await startAppliance(dataDir, { listener: 'smtp', timeoutMs });
  const storeDb = join(dataDir, 'mailstore', 'mailstore.db');
  let reader: Client | undefined;
  return {
    ...ours,
    smtpPort: ours.port,
    storeDb,
    count: async () => {
      try {
        reader ??= createClient({ url: pathToFileURL(storeDb).href });
        const rs = await reader.execute(`SELECT count(*) FROM ${MESSAGES_TABLE}`);
        return Number(rs.rows[0]?.[0]);
      } catch {
        return undefined;
      }
    },
    stop: async () => {
      reader?.close();
      reader = undefined;
      await ours.stop();
    },
  };
}

/** Counts the stored messages with a separate `node -e` process, after the appliance has stopped. */
export async function countStoredAfterStop(storeDb: string): Promise<number> {
  const script = `
    const { createClient } = await import('@libsql/client');
    const db = createClient({ url: ${JSON.stringify(pathToFileURL(storeDb).href)} });
    const rs = await db.execute('SELECT count(*) FROM ${MESSAGES_TABLE}');
    console.log(String(rs.rows[0][0]));
    db.close();`;
  const r = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO });
  return Number(r.stdout.trim());
}
