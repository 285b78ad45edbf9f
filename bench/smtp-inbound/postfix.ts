/**
 * The reference MTA: a private Postfix instance (main.cf/master.cf, queue and data directories in the
 * benchmark's temp dir) with smtpd on a loopback high port, the benchmark domain as its only
 * mydestination, and local delivery handed to Dovecot over LMTP. Everything else is Postfix's default
 * (queue file fsync, concurrency, process limits).
 */
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { alive, freePort, run, sleep, waitForPort } from '../common/proc.js';

export interface RunningPostfix {
  version: string;
  smtpPort: number;
  configDir: string;
  /** The master's pid (its workers are its children). */
  masterPid(): number | undefined;
  stop(): Promise<void>;
}

export async function postfixVersion(): Promise<string> {
  return (await run('postconf', ['-d', '-h', 'mail_version'])).stdout.trim();
}

export async function startPostfix(
  dir: string,
  opts: { domain: string; recipient: string; lmtpPort: number },
): Promise<RunningPostfix> {
  if (userInfo().uid !== 0) throw new Error('the Postfix reference runs as root (it is its own instance)');
  const version = await postfixVersion();
  const smtpPort = await freePort();
  const configDir = join(dir, 'postfix-etc');
  const queueDir = join(dir, 'postfix-spool');
  const dataDir = join(dir, 'postfix-data');
  for (const d of [configDir, queueDir, dataDir]) mkdirSync(d, { recursive: true });
  // Postfix wants its data_directory owned by mail_owner (the queue's subdirectories it makes itself).
  const owner = await run('id', ['-u', 'postfix']);
  const group = await run('id', ['-g', 'postfix']);
  chownSync(dataDir, Number(owner.stdout), Number(group.stdout));
  const recipients = join(configDir, 'recipients');
  writeFileSync(recipients, `${opts.recipient} OK\n`);
  const mainCf = `# Written by bench/smtp-inbound: a private instance on loopback.
compatibility_level = 3.6
config_directory = ${configDir}
queue_directory = ${queueDir}
data_directory = ${dataDir}
mail_owner = postfix
setgid_group = postdrop
maillog_file = ${dir}/postfix.log
maillog_file_prefixes = ${dir}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = bench.local
mydomain = bench.local
myorigin = $myhostname
mydestination = ${opts.domain}
mynetworks = 127.0.0.0/8
local_recipient_maps = texthash:${recipients}
alias_maps =
alias_database =
local_transport = lmtp:inet:127.0.0.1:${opts.lmtpPort}
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
disable_dns_lookups = yes
smtp_host_lookup = native
lmtp_host_lookup = native
biff = no
`;
  writeFileSync(join(configDir, 'main.cf'), mainCf);
  writeFileSync(
    join(configDir, 'master.cf'),
    `# service type private unpriv chroot wakeup maxproc command
127.0.0.1:${smtpPort} inet n - n - - smtpd
pickup     unix  n - n 60   1 pickup
cleanup    unix  n - n -    0 cleanup
qmgr       unix  n - n 300  1 qmgr
rewrite    unix  - - n -    - trivial-rewrite
bounce     unix  - - n -    0 bounce
defer      unix  - - n -    0 bounce
trace      unix  - - n -    0 bounce
verify     unix  - - n -    1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -    - proxymap
proxywrite unix  - - n -    1 proxymap
smtp       unix  - - n -    - smtp
relay      unix  - - n -    - smtp
showq      unix  n - n -    - showq
error      unix  - - n -    - error
retry      unix  - - n -    - error
discard    unix  - - n -    - discard
local      unix  - n n -    - local
lmtp       unix  - - n -    - lmtp
anvil      unix  - - n -    1 anvil
scache     unix  - - n -    1 scache
postlog    unix-dgram n - n - 1 postlogd
`,
  );
  const masterPid = () => {
    const file = join(queueDir, 'pid', 'master.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  };
  const stop = async () => {
    const pid = masterPid();
    await run('postfix', ['-c', configDir, 'stop'], { allowFailure: true });
    for (let i = 0; i < 100 && pid !== undefined && alive(pid); i++) await sleep(100);
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
  };
  try {
    await run('postfix', ['-c', configDir, 'check']);
    await run('postfix', ['-c', configDir, 'start']);
    await waitForPort(smtpPort);
  } catch (err) {
    await stop();
    throw err;
  }
  return { version, smtpPort, configDir, masterPid, stop };
}
