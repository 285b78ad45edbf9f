/**
 * The reference's delivery agent: a private Dovecot instance (config, base_dir, logs and Maildir in the
 * benchmark's temp dir) that only speaks LMTP on a loopback high port and delivers to one Maildir user.
 * Dovecot 2.3 syntax (Debian 12); 2.4 renamed most settings and is refused with a clear message.
 */
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dovecot23Version, ownByMail, spawnDovecot, writeDovecotInstance } from '../common/dovecot.js';
import { freePort } from '../common/proc.js';

export { dovecotVersion } from '../common/dovecot.js';

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

export async function startDovecot(dir: string, user: string): Promise<RunningDovecot> {
  const version = await dovecot23Version();
  const lmtpPort = await freePort();
  const paths = writeDovecotInstance(dir, user, '{PLAIN}unused', {
    by: 'smtp-inbound',
    what: 'LMTP-only',
    instanceName: 'delegato-bench',
    protocols: 'lmtp',
    plaintextAuth: false,
    sections: `service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtpPort}
  }
}
`,
  });
  const { mailRoot } = paths;
  mkdirSync(mailRoot, { recursive: true });
  ownByMail(mailRoot);
  chmodSync(mailRoot, 0o755);
  const dovecot = await spawnDovecot(paths.conf, lmtpPort);
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
    pid: dovecot.pid,
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
    // The master stops its children on SIGTERM; doveadm stop would do the same through base_dir.
    stop: () => dovecot.stop(),
  };
}
