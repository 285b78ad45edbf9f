/**
 * Where the control socket lives. Unix socket paths are limited to 107 bytes and Node cuts longer ones
 * silently (measured; docs/federation.md, "Measured facts"), so the socket is `<data dir>/control.sock`
 * only when that path is short enough; otherwise it is a name derived from a hash of the data dir in the
 * system's temp dir. Either way the socket is mode 0600 and every request must carry the token from
 * `<data dir>/control.token` (0600), so only who can read the data dir can use it.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const MAX_SOCKET_PATH_BYTES = 100;

export function controlSocketPath(dataDir: string): string {
  const inDataDir = join(resolve(dataDir), 'control.sock');
  if (Buffer.byteLength(inDataDir) <= MAX_SOCKET_PATH_BYTES) return inDataDir;
  const hash = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 24);
  return join(tmpdir(), `delegato-${hash}.sock`);
}
