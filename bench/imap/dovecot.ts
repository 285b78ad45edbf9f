/**
 * The reference: a private Dovecot 2.3 instance that only speaks IMAP on a loopback high port (no TLS,
 * plaintext LOGIN allowed), over the same passwd-file user and Maildir layout as bench/pop3/dovecot.ts
 * (whose fillMaildir() the benchmark uses to write the messages).
 */
import { readFileSync } from 'node:fs';
import { argon2idHash, dovecot23Version, spawnDovecot, writeDovecotInstance } from '../common/dovecot.js';
import { childrenOf, freePort } from '../common/proc.js';

export { dovecotVersion } from '../common/dovecot.js';

export interface RunningDovecot {
  version: string;
  pid: number;
  imapPort: number;
  log: string;
  /** Live `imap` processes (children of the master): one per logged-in session. */
  imapPids(): number[];
  /** Every process below the master (auth, login, config, log, anvil, imap...). */
  allPids(): number[];
  stop(): Promise<void>;
}

/** `maxConnections`: the IDLE phase's connection count (process and per-user/IP limits are raised to it). */
export async function startDovecot(
  dir: string,
  user: string,
  password: string,
  maxConnections: number,
): Promise<RunningDovecot> {
  const version = await dovecot23Version();
  const imapPort = await freePort();
  const limit = maxConnections + 50;
  // Hashed like ours (argon2id, 64 MiB, 3 passes); no auth cache: every LOGIN verifies the hash.
  const paths = writeDovecotInstance(dir, user, await argon2idHash(password), {
    by: 'imap',
    what: 'IMAP-only',
    instanceName: 'delegato-bench-imap',
    protocols: 'imap',
    plaintextAuth: true,
    defaults: [`default_process_limit = ${limit}`, `default_client_limit = ${4 * limit}`],
    sections: `protocol imap {
  mail_max_userip_connections = ${limit}
}
service imap {
  process_limit = ${limit}
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
`,
  });
  const dovecot = await spawnDovecot(paths.conf, imapPort, Math.max(4 * limit, 8192));
  const masterPid = dovecot.pid;
  return {
    version,
    pid: masterPid,
    imapPort,
    log: paths.log,
    imapPids: () =>
      childrenOf(masterPid)
        .filter((c) => c.comm === 'imap')
        .map((c) => c.pid),
    allPids: () => childrenOf(masterPid).map((c) => c.pid),
    stop: () => dovecot.stop(),
  };
}

/** Proportional set size (shared pages split between the processes sharing them), bytes. */
export function pssBytes(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m?.[1] ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
