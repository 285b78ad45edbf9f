/**
 * The IMAP/POP3 proxy to a mailbox's home region (issue 14, item 4; decision 0010), the part both
 * protocols share. After a successful login in a region that is not the mailbox's home, the session
 * becomes a byte pipe to the home region: `LoginProxy.open` (the appliance's, over the federation channel)
 * connects, names the already-authenticated user, and returns the home region's first line (IMAP's
 * `* PREAUTH`, POP3's `+OK`) with the stream; the protocol answers its client from that line, then
 * `pipeSessions` copies bytes both ways until either side closes.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** The account a proxied login names (`AuthenticatedUser` of @delegato/sasl, structurally). */
export interface ProxiedUser {
  id: string;
  address: string;
}

/** An open channel to the home region: its first line (no CRLF) and the stream after it. */
export interface ProxyChannel {
  region: string;
  firstLine: string;
  stream: Duplex;
}

export interface LoginProxy {
  /** The home region of `user` when it is not this region (proxy), or null (serve here). */
  homeOf(user: ProxiedUser): Promise<string | null>;
  /**
   * Opens the channel to `region` for `user`'s `protocol` session; rejects when the home region cannot be
   * reached or does not answer (the client gets IMAP's `NO [UNAVAILABLE]`, POP3's `-ERR [SYS/TEMP]`).
   */
  open(region: string, protocol: 'imap' | 'pop3', user: ProxiedUser, client: string): Promise<ProxyChannel>;
  /** Called once the pipe is running (for the log) and once it is over. */
  started?(info: { region: string; protocol: 'imap' | 'pop3'; user: ProxiedUser; client: string }): void;
  ended?(info: {
    region: string;
    protocol: 'imap' | 'pop3';
    user: ProxiedUser;
    client: string;
    bytesIn: number;
    bytesOut: number;
  }): void;
}

/**
 * Copies bytes both ways with back-pressure (`pipe` pauses the faster side while the other's write
 * buffer is full); when either side ends, errors or closes, both are closed. `done` gets the byte counts
 * (client → home, home → client).
 */
/** How long a side may take to flush and close once the other is gone. */
const END_MS = 5_000;

export function pipeSessions(
  client: Socket,
  home: Duplex,
  done?: (counts: { bytesIn: number; bytesOut: number }) => void,
  /** What the client sent before the hand-over and the session did not read (pipelined commands). */
  pending: Buffer = Buffer.alloc(0),
): void {
  let bytesIn = pending.length;
  let bytesOut = 0;
  let over = false;
  const count = (what: 'in' | 'out') => (chunk: Buffer) => {
    if (what === 'in') bytesIn += chunk.length;
    else bytesOut += chunk.length;
  };
  // What one side still has to write to the other goes out (end flushes), then both are gone; a side
  // that does not close within END_MS is cut.
  const finish = () => {
    if (over) return;
    over = true;
    for (const side of [client, home]) {
      if (!side.destroyed) {
        side.end();
        setTimeout(() => side.destroy(), END_MS).unref();
      }
    }
    done?.({ bytesIn, bytesOut });
  };
  client.on('data', count('in'));
  home.on('data', count('out'));
  client.on('error', finish);
  home.on('error', finish);
  // Half-close is not part of IMAP or POP3: the end of one side ends the session, once what is buffered
  // for the other side is written (pipe ends the destination; close follows).
  client.on('close', finish);
  home.on('close', finish);
  // In the order the client sent them: the pipelined commands first, then whatever follows.
  if (pending.length > 0) home.write(pending);
  client.pipe(home);
  home.pipe(client);
  client.resume();
}
