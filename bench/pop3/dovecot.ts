/**
 * The reference: a private Dovecot 2.3 instance (config, base_dir, logs and Maildir in the benchmark's
 * temp dir) that only speaks POP3 on a loopback high port, with one passwd-file user whose Maildir the
 * benchmark fills by writing the message files itself. Same layout as bench/smtp-inbound/dovecot.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  argon2idHash,
  dovecot23Version,
  ownByMail,
  spawnDovecot,
  writeDovecotInstance,
} from '../common/dovecot.js';
import { childrenOf, freePort } from '../common/proc.js';

export { dovecotVersion } from '../common/dovecot.js';

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
    ownByMail(d);
  }
  messages.forEach((m, i) => {
    const name = `${BASE_TIME + i}.M${i}P1.bench,S=${m.length},W=${m.length}:2,`;
    const file = join(maildir, 'cur', name);
    writeFileSync(file, m, { mode: 0o600 });
    ownByMail(file);
  });
  return maildir;
}

export async function startDovecot(dir: string, user: string, password: string): Promise<RunningDovecot> {
  const version = await dovecot23Version();
  const pop3Port = await freePort();
  // Hashed like ours (argon2idHash): the login compares like with like, every login verifies the hash.
  const paths = writeDovecotInstance(dir, user, await argon2idHash(password), {
    by: 'pop3',
    what: 'POP3-only',
    instanceName: 'delegato-bench-pop3',
    protocols: 'pop3',
    plaintextAuth: true,
    sections: `service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${pop3Port}
  }
  inet_listener pop3s {
    port = 0
  }
}
`,
  });
  const dovecot = await spawnDovecot(paths.conf, pop3Port);
  const masterPid = dovecot.pid;
  return {
    version,
    pid: masterPid,
    pop3Port,
    maildir: join(paths.mailRoot, user),
    log: paths.log,
    pop3Pids: () =>
      childrenOf(masterPid)
        .filter((c) => c.comm === 'pop3')
        .map((c) => c.pid),
    // The master stops its children on SIGTERM.
    stop: () => dovecot.stop(),
  };
}
