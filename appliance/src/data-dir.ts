/**
 * The layout of a data dir (`data.dir`, DELEGATO_DATA_DIR, default ./var). One appliance owns it.
 *
 *   directory.db          the replicated directory (Turso engine; locked by its owner)
 *   federation.key        federation-wide secret key (0600); provisioning copies it to every region
 *   operator-password     the first operator's generated password (0600), written once
 *   control.token         secret the CLI presents on the control socket (0600), new at every start
 *   control.sock          the control socket (0600), when its path fits (see control/paths.ts)
 *   tls/                  self-signed certificate and key when none is configured
 *   mailstore/            the mail store: mailstore.db (metadata) and blobs/ (message files)
 *   queue/                the outbound queue: queue.db and spool/
 *   lists/                posts to built-in lists until they are sent (held ones until decided)
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export function dataPaths(dataDir: string) {
  return {
    root: dataDir,
    directoryDb: join(dataDir, 'directory.db'),
    federationKey: join(dataDir, 'federation.key'),
    operatorPassword: join(dataDir, 'operator-password'),
    controlToken: join(dataDir, 'control.token'),
    mailStore: join(dataDir, 'mailstore'),
    queue: join(dataDir, 'queue'),
    lists: join(dataDir, 'lists'),
  };
}

/** Creates the data dir (mode 0700) when missing. */
export function ensureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
}
