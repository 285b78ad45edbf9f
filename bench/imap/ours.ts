/**
 * Delegato's side: the data dir and the filled mail store come from bench/pop3 (prepareOurs, fillOurs);
 * here `delegato start` runs as a child process whose IMAP listener (DELEGATO_PORT_IMAP=0) is read from
 * the `imap <host>:<port>` line it prints. IMAP without TLS: LOGIN is allowed from loopback.
 */
import { type RunningAppliance, startAppliance } from '../common/appliance.js';

export interface RunningOurs extends RunningAppliance {
  imapPort: number;
}

export async function startOurs(dataDir: string, timeoutMs = 60_000): Promise<RunningOurs> {
  // The IDLE phase holds 1,000+ sockets: give the appliance room (ulimit -n in its environment).
  const ours = await startAppliance(dataDir, { listener: 'imap', nofile: 20_000, timeoutMs });
  return { ...ours, imapPort: ours.port };
}
