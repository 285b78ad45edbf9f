/**
 * The reference: a private Dovecot 2.3 instance (config, base_dir, logs and Maildir in the benchmark's
 * temp dir) that only speaks POP3 on a loopback high port, with one passwd-file user whose Maildir the
 * benchmark fills by writing the message files itself. Same layout as bench/smtp-inbound/dovecot.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, freePort, run, sleep, stopChild, waitForPort } from '../smtp-inbound/util.js';

/** Mail is stored as this uid/gid (Dovecot refuses uid 0 for mail; `nobody`/`nogroup` owns nothing else). */
const MAIL_UID = 65534;
const MAIL_GID = 65534;
/** Maildir file names: `<time>.M<n>P<pid>.<host>,S=<size>,W=<size>:2,`, time increasing with the index. */
const BASE_TIME = 1_790_000_000;

export interface RunningDovecot {
  version: string;
  /** The master's pid (dovecot -F runs as our child). */
  pid: number;
  pop3Port: number;
  maildir: string;
  log: string;
  /** Live `pop3` processes (children of the master): the session processes. */
  pop3Pids(): number[];
  stop(): Promise<void>;
}

export async function dovecotVersion(): Promise<string> {
  return (await run('dovecot', ['--version'])).stdout.trim();
}

/**
 * Writes the messages into `<maildir>/cur/` as Maildir files (CRLF line ends kept: Dovecot sends them
 * as they are; `S=` and `W=` in the name are the file size, so no size needs computing), owned by the
 * mail uid. Returns the Maildir.
 */
export function fillMaildir(dir: string, user: string, messages: Buffer[]): string {
  const mailRoot = join(dir, 'mail');
  const maildir = join(mailRoot, user);
  for (const d of [mailRoot, maildir, join(maildir, 'cur'), join(maildir, 'new'), join(maildir, 'tmp')]) {
    mkdirSync(d, { recursive: true, mode: 0o700 });
    chownSync(d, MAIL_UID, MAIL_GID);
  }
  messages.forEach((m, i) => {
    const name = `${BASE_TIME + i}.M${i}P1.bench,S=${m.length},W=${m.length}:2,`;
    const file = join(maildir, 'cur', name);
    writeFileSync(file, m, { mode: 0o600 });
    chownSync(file, MAIL_UID, MAIL_GID);
  });
  return maildir;
}

export async function startDovecot(dir: string, user: string, password: string): Promise<RunningDovecot> {
  const version = await dovecotVersion();
  if (!/^2\.3\./.test(version)) {
    throw new Error(`Dovecot ${version}: this benchmark writes a Dovecot 2.3 configuration`);
  }
  const pop3Port = await freePort();
  const base = join(dir, 'dovecot');
  const mailRoot = join(dir, 'mail');
  for (const d of [base, join(base, 'run'), join(base, 'state')]) mkdirSync(d, { recursive: true });
  const users = join(base, 'users');
  // Hashed like ours (argon2id, 64 MiB, 3 passes; Dovecot's libsodium uses 1 lane, node-argon2 4), so the
  // login compares like with like; auth_cache_size is 0 (the default): every login verifies the hash.
  const hash = (await run('doveadm', ['pw', '-s', 'ARGON2ID', '-p', password])).stdout.trim();
  if (!hash.startsWith('{ARGON2ID}$argon2id$')) throw new Error(`doveadm pw: unexpected output ${hash}`);
  // user:password:uid:gid:gecos:home:shell:extra
  writeFileSync(users, `${user}:${hash}:${MAIL_UID}:${MAIL_GID}::${join(mailRoot, user)}::\n`);
  const log = join(base, 'dovecot.log');
  const conf = join(base, 'dovecot.conf');
  writeFileSync(
    conf,
    `# Written by bench/pop3: a private POP3-only instance.
instance_name = delegato-bench-pop3
base_dir = ${base}/run
state_dir = ${base}/state
log_path = ${log}
info_log_path = ${log}
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
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
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${pop3Port}
  }
  inet_listener pop3s {
    port = 0
  }
}
`,
  );
  const child: ChildProcess = spawn('dovecot', ['-F', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
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
      waitForPort(pop3Port),
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
    pop3Port,
    maildir: join(mailRoot, user),
    log,
    pop3Pids: () => childrenNamed(masterPid, 'pop3'),
    stop: async () => {
      // The master stops its children on SIGTERM.
      await stopChild(child);
      for (let i = 0; i < 50 && alive(masterPid); i++) await sleep(100);
    },
  };
}

/** Pids of the live children of `ppid` whose command name (`/proc/<pid>/comm`) is `name`. */
function childrenNamed(ppid: number, name: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === ppid && comm === name) out.push(Number(entry));
    } catch {}
  }
  return out;
}
