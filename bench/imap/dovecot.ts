/**
 * The reference: a private Dovecot 2.3 instance that only speaks IMAP on a loopback high port (no TLS,
 * plaintext LOGIN allowed), over the same passwd-file user and Maildir layout as bench/pop3/dovecot.ts
 * (whose fillMaildir() the benchmark uses to write the messages).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, freePort, run, sleep, stopChild, waitForPort } from '../smtp-inbound/util.js';

const MAIL_UID = 65534;
const MAIL_GID = 65534;

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

export async function dovecotVersion(): Promise<string> {
  return (await run('dovecot', ['--version'])).stdout.trim();
}

/** `maxConnections`: the IDLE phase's connection count (process and per-user/IP limits are raised to it). */
export async function startDovecot(
  dir: string,
  user: string,
  password: string,
  maxConnections: number,
): Promise<RunningDovecot> {
  const version = await dovecotVersion();
  if (!/^2\.3\./.test(version)) throw new Error(`Dovecot ${version}: this benchmark writes a 2.3 config`);
  const imapPort = await freePort();
  const base = join(dir, 'dovecot');
  const mailRoot = join(dir, 'mail');
  for (const d of [base, join(base, 'run'), join(base, 'state')]) mkdirSync(d, { recursive: true });
  const users = join(base, 'users');
  // Hashed like ours (argon2id, 64 MiB, 3 passes); no auth cache: every LOGIN verifies the hash.
  const hash = (await run('doveadm', ['pw', '-s', 'ARGON2ID', '-p', password])).stdout.trim();
  if (!hash.startsWith('{ARGON2ID}$argon2id$')) throw new Error(`doveadm pw: unexpected output ${hash}`);
  writeFileSync(users, `${user}:${hash}:${MAIL_UID}:${MAIL_GID}::${join(mailRoot, user)}::\n`);
  const log = join(base, 'dovecot.log');
  const conf = join(base, 'dovecot.conf');
  const limit = maxConnections + 50;
  writeFileSync(
    conf,
    `# Written by bench/imap: a private IMAP-only instance.
instance_name = delegato-bench-imap
base_dir = ${base}/run
state_dir = ${base}/state
log_path = ${log}
info_log_path = ${log}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
default_process_limit = ${limit}
default_client_limit = ${4 * limit}
first_valid_uid = ${MAIL_UID}
mail_location = maildir:${mailRoot}/%u
auth_mechanisms = plain
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${users}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${users}
}
protocol imap {
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
  );
  const child: ChildProcess = spawn(
    'sh',
    ['-c', `ulimit -n ${Math.max(4 * limit, 8192)}; exec dovecot -F -c "$0"`, conf],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitForPort(imapPort),
      exited.then(() => {
        throw new Error(`dovecot exited at start-up: ${output.trim()}`);
      }),
    ]);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  const masterPid = child.pid as number;
  return {
    version,
    pid: masterPid,
    imapPort,
    log,
    imapPids: () =>
      children(masterPid)
        .filter((c) => c.comm === 'imap')
        .map((c) => c.pid),
    allPids: () => children(masterPid).map((c) => c.pid),
    stop: async () => {
      await stopChild(child);
      for (let i = 0; i < 50 && alive(masterPid); i++) await sleep(100);
    },
  };
}

function children(ppid: number): Array<{ pid: number; comm: string }> {
  const out: Array<{ pid: number; comm: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === ppid) out.push({ pid: Number(entry), comm });
    } catch {}
  }
  return out;
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
