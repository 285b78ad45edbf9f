/**
 * A private Dovecot 2.3 instance for a benchmark: its config, base_dir, state, log and passwd-file user in
 * the benchmark's temp dir, `dovecot -F` as our child, one loopback listener. Each benchmark's dovecot.ts
 * adds its protocol's settings and what it observes (LMTP deliveries, POP3/IMAP session processes).
 * Dovecot 2.4 renamed most settings and is refused with a clear message.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, run, sleep, stopChild, waitForPort } from './proc.js';

/** Mail is stored as this uid/gid (Dovecot refuses uid 0 for mail; `nobody`/`nogroup` owns nothing else). */
export const MAIL_UID = 65534;
export const MAIL_GID = 65534;

/** Hands a file or directory to the mail uid/gid (Dovecot's mail processes run as them). */
export function ownByMail(path: string): void {
  chownSync(path, MAIL_UID, MAIL_GID);
}

export async function dovecotVersion(): Promise<string> {
  return (await run('dovecot', ['--version'])).stdout.trim();
}

/** The installed version, refused unless 2.3 (the configs below are 2.3 syntax). */
export async function dovecot23Version(): Promise<string> {
  const version = await dovecotVersion();
  if (!/^2\.3\./.test(version)) {
    throw new Error(`Dovecot ${version}: this benchmark writes a Dovecot 2.3 configuration`);
  }
  return version;
}

export interface DovecotPaths {
  /** `<dir>/dovecot`: config, users, log; run/ and state/ below it (created). */
  base: string;
  /** `<dir>/mail`: the users' Maildirs are `<mailRoot>/<user>`. */
  mailRoot: string;
  users: string;
  log: string;
  conf: string;
}

function dovecotPaths(dir: string): DovecotPaths {
  const base = join(dir, 'dovecot');
  for (const d of [base, join(base, 'run'), join(base, 'state')]) mkdirSync(d, { recursive: true });
  return {
    base,
    mailRoot: join(dir, 'mail'),
    users: join(base, 'users'),
    log: join(base, 'dovecot.log'),
    conf: join(base, 'dovecot.conf'),
  };
}

/**
 * The password as Dovecot stores it, hashed like ours (argon2id, 64 MiB, 3 passes; Dovecot's libsodium
 * uses 1 lane, node-argon2 4), so a login compares like with like; auth_cache_size is 0 (the default):
 * every login verifies the hash.
 */
export async function argon2idHash(password: string): Promise<string> {
  const hash = (await run('doveadm', ['pw', '-s', 'ARGON2ID', '-p', password])).stdout.trim();
  if (!hash.startsWith('{ARGON2ID}$argon2id$')) throw new Error(`doveadm pw: unexpected output ${hash}`);
  return hash;
}

/** The passwd-file with one user (`password` as stored: `{SCHEME}...`) whose home is its Maildir. */
function writeUsers(paths: DovecotPaths, user: string, password: string): void {
  // user:password:uid:gid:gecos:home:shell:extra
  writeFileSync(
    paths.users,
    `${user}:${password}:${MAIL_UID}:${MAIL_GID}::${join(paths.mailRoot, user)}::\n`,
  );
}

export interface DovecotConfig {
  /** The benchmark (bench/<by>) and what the instance is, for the first comment line. */
  by: string;
  what: string;
  instanceName: string;
  protocols: string;
  /** `disable_plaintext_auth = no` (POP3 USER/PASS, IMAP LOGIN without TLS). */
  plaintextAuth: boolean;
  /** Lines after default_login_user (process limits...). */
  defaults?: string[];
  /** The protocol and service sections, after passdb/userdb. */
  sections: string;
}

/**
 * Lays out an instance below `dir` (see DovecotPaths): the passwd-file with `user` (`password` as stored,
 * `{SCHEME}...`) and the config (the settings every benchmark's instance shares, then `config`'s own).
 */
export function writeDovecotInstance(
  dir: string,
  user: string,
  password: string,
  config: DovecotConfig,
): DovecotPaths {
  const paths = dovecotPaths(dir);
  writeUsers(paths, user, password);
  writeDovecotConfig(paths, config);
  return paths;
}

function writeDovecotConfig(paths: DovecotPaths, config: DovecotConfig): void {
  const { base, log, mailRoot, users } = paths;
  const lines = [
    `# Written by bench/${config.by}: a private ${config.what} instance.`,
    `instance_name = ${config.instanceName}`,
    `base_dir = ${base}/run`,
    `state_dir = ${base}/state`,
    `log_path = ${log}`,
    `info_log_path = ${log}`,
    `protocols = ${config.protocols}`,
    'listen = 127.0.0.1',
    'ssl = no',
    ...(config.plaintextAuth ? ['disable_plaintext_auth = no'] : []),
    'default_internal_user = dovecot',
    'default_internal_group = dovecot',
    'default_login_user = dovenull',
    ...(config.defaults ?? []),
    `first_valid_uid = ${MAIL_UID}`,
    `mail_location = maildir:${mailRoot}/%u`,
    'auth_mechanisms = plain',
    'passdb {',
    '  driver = passwd-file',
    `  args = scheme=PLAIN username_format=%u ${users}`,
    '}',
    'userdb {',
    '  driver = passwd-file',
    `  args = username_format=%u ${users}`,
    '}',
  ];
  writeFileSync(paths.conf, `${lines.join('\n')}\n${config.sections}`);
}

export interface DovecotProcess {
  child: ChildProcess;
  /** The master's pid (dovecot -F runs as our child). */
  pid: number;
  /** SIGTERM to the master (it stops its children), then waits up to 5 s for it to be gone. */
  stop(): Promise<void>;
}

/**
 * Starts `dovecot -F -c <conf>` and resolves once `port` accepts connections; rejects with Dovecot's
 * output if it exits first. With `nofile`, the master runs under `ulimit -n <nofile>`.
 */
export async function spawnDovecot(conf: string, port: number, nofile?: number): Promise<DovecotProcess> {
  const child: ChildProcess =
    nofile === undefined
      ? spawn('dovecot', ['-F', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('sh', ['-c', `ulimit -n ${nofile}; exec dovecot -F -c "$0"`, conf], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
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
      waitForPort(port),
      exited.then(() => {
        throw new Error(`dovecot exited at start-up: ${output.trim()}`);
      }),
    ]);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  const pid = child.pid as number;
  return {
    child,
    pid,
    stop: async () => {
      await stopChild(child);
      for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
    },
  };
}
