/**
 * The reference's delivery agent: a private Dovecot instance (config, base_dir, logs and Maildir in the
 * benchmark's temp dir) that only speaks LMTP on a loopback high port and delivers to one Maildir user.
 * Dovecot 2.3 syntax (Debian 12); 2.4 renamed most settings and is refused with a clear message.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, freePort, run, sleep, stopChild, waitForPort } from './util.js';

/** Mail is stored as this uid/gid (Dovecot refuses uid 0 for mail; `nobody`/`nogroup` owns nothing else). */
const MAIL_UID = 65534;
const MAIL_GID = 65534;

export interface RunningDovecot {
  version: string;
  /** The master's pid (dovecot -F runs as our child). */
  pid: number;
  lmtpPort: number;
  /** The recipient's Maildir. */
  maildir: string;
  /** Messages in the Maildir's new/ and cur/. */
  count(): number;
  /** When the newest message was renamed into new/ (its ctime, epoch ms); Dovecot delivers by rename. */
  lastArrival(): number | undefined;
  stop(): Promise<void>;
}

export async function dovecotVersion(): Promise<string> {
  return (await run('dovecot', ['--version'])).stdout.trim();
}

export async function startDovecot(dir: string, user: string): Promise<RunningDovecot> {
  const version = await dovecotVersion();
  if (!/^2\.3\./.test(version)) {
    throw new Error(`Dovecot ${version}: this benchmark writes a Dovecot 2.3 configuration`);
  }
  const lmtpPort = await freePort();
  const base = join(dir, 'dovecot');
  const mailRoot = join(dir, 'mail');
  for (const d of [base, join(base, 'run'), join(base, 'state')]) mkdirSync(d, { recursive: true });
  mkdirSync(mailRoot, { recursive: true });
  chownSync(mailRoot, MAIL_UID, MAIL_GID);
  chmodSync(mailRoot, 0o755);
  const users = join(base, 'users');
  // user:password:uid:gid:gecos:home:shell:extra
  writeFileSync(users, `${user}:{PLAIN}unused:${MAIL_UID}:${MAIL_GID}::${join(mailRoot, user)}::\n`);
  const conf = join(base, 'dovecot.conf');
  writeFileSync(
    conf,
    `# Written by bench/smtp-inbound: a private LMTP-only instance.
instance_name = delegato-bench
base_dir = ${base}/run
state_dir = ${base}/state
log_path = ${base}/dovecot.log
info_log_path = ${base}/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
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
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtpPort}
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
      waitForPort(lmtpPort),
      exited.then(() => {
        throw new Error(`dovecot exited at start-up: ${output.trim()}`);
      }),
    ]);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  const maildir = join(mailRoot, user);
  const list = (d: string) => {
    try {
      return readdirSync(join(maildir, d)).map((f) => join(maildir, d, f));
    } catch {
      return [];
    }
  };
  return {
    version,
    pid: child.pid as number,
    lmtpPort,
    maildir,
    count: () => list('new').length + list('cur').length,
    lastArrival: () => {
      let newest: number | undefined;
      for (const f of [...list('new'), ...list('cur')]) {
        try {
          const ctime = statSync(f).ctimeMs;
          if (newest === undefined || ctime > newest) newest = ctime;
        } catch {}
      }
      return newest;
    },
    stop: async () => {
      // The master stops its children on SIGTERM; doveadm stop would do the same through base_dir.
      await stopChild(child);
      for (let i = 0; i < 50 && child.pid !== undefined && alive(child.pid); i++) await sleep(100);
    },
  };
}
