/**
 * IMAP and POP3 sessions of mailboxes homed in another region (issue 14, item 4; decision 0010), both
 * ends:
 *
 * - the proxy region (`federationLoginProxy`): after a successful login, a mailbox whose domain is homed in
 *   another region (the directory says which) is served there: this region connects to the home region's
 *   `port.proxy` over TLS with its federation certificate (only a certificate naming that region accepted),
 *   sends one request line naming the already-authenticated mailbox, and the IMAP/POP3 session becomes a
 *   byte pipe to the home region's answer;
 * - the home region (`startFederationProxy`): a listener on `port.proxy` that accepts only clients with a
 *   federation certificate naming a region, reads the request line, checks that the mailbox is homed here
 *   and may log in, and starts an IMAP or POP3 session already logged in as that mailbox, with no password:
 *   the proxy region vouches for the login, as Dovecot's proxy does with a master login.
 *
 * The request line (the first bytes the proxy sends after the handshake, CRLF-terminated, at most
 * `MAX_REQUEST_LINE` octets):
 *
 *   DELEGATO-PROXY/1 <imap|pop3> <mailbox address> <client address>
 *
 * The answer is the protocol's: IMAP `* PREAUTH [CAPABILITY …] Logged in as <address>`, POP3 `+OK Logged
 * in, <n> messages (<size> octets)`; a refusal is a `* BYE …` or `-ERR …` line, then the close.
 */
import { isIP, type Socket } from 'node:net';
import { createServer, type PeerCertificate, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { Directory } from '@delegato/directory';
import { type RegionTls, regionOfPeerCertificate } from '@delegato/federation';
import type { ImapServer } from '@delegato/imap';
import type { LoginProxy, ProxiedUser, ProxyChannel } from '@delegato/mail-core';
import { type Logger, logEvent, logEventAt } from '@delegato/observability';
import type { Pop3Server } from '@delegato/pop3';
import type { Config } from '../config/schema.js';
import { revocationsOf } from './federation-revocations.js';

export const PROXY_REQUEST = 'DELEGATO-PROXY/1';
/** The request line and the home region's first line are short: a longer one is refused. */
const MAX_REQUEST_LINE = 1024;
/** Connecting, the handshake and the home region's first line, together. */
const PROXY_CONNECT_TIMEOUT_MS = 10_000;

/** The request line for `user`'s `protocol` session (no spaces or controls in the address: they are checked). */
export function proxyRequestLine(protocol: 'imap' | 'pop3', address: string, client: string): string {
  return `${PROXY_REQUEST} ${protocol} ${address} ${client || '-'}\r\n`;
}

/** Parses a request line (without CRLF), or null when malformed. */
export function parseProxyRequest(
  line: string,
): { protocol: 'imap' | 'pop3'; address: string; client: string } | null {
  const m = /^DELEGATO-PROXY\/1 (imap|pop3) ([^\s@]+@[^\s@]+) (\S+)$/.exec(line);
  if (!m) return null;
  return { protocol: m[1] as 'imap' | 'pop3', address: m[2] as string, client: m[3] as string };
}

/**
 * Reads one CRLF-terminated line (at most `max` octets) from `socket`; what follows it is put back into the
 * stream. Rejects on close, error, timeout or a longer line.
 */
function readFirstLine(socket: Socket, max: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
    };
    const fail = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const nl = buffered.indexOf(0x0a);
      if (nl < 0) {
        if (buffered.length > max) fail(new Error('first line too long'));
        return;
      }
      if (nl > max) return fail(new Error('first line too long'));
      cleanup();
      // Paused: what follows the line waits for the next reader (which resumes the socket).
      socket.pause();
      const rest = buffered.subarray(nl + 1);
      if (rest.length > 0) socket.unshift(rest);
      resolve(buffered.subarray(0, nl).toString('utf8').replace(/\r$/, ''));
    };
    const onClose = () => fail(new Error('closed before the first line'));
    const onError = (err: Error) => fail(err);
    const timer = setTimeout(() => fail(new Error('no first line in time')), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}

/** The peers' proxy endpoints (`federation.peers`: host, and proxyPort or this region's `port.proxy`). */
function proxyPeers(config: Pick<Config, 'federation' | 'region' | 'port'>) {
  return new Map(
    config.federation.peers
      .filter((p) => p.region !== config.region.id)
      .map((p) => [p.region, { host: p.host, port: p.proxyPort ?? config.port.proxy }]),
  );
}

/**
 * The proxy region's side: the `LoginProxy` of the IMAP and POP3 servers, or undefined (every mailbox served
 * here, as before) when this region has no federation certificate.
 */
export function federationLoginProxy(opts: {
  config: Pick<Config, 'federation' | 'region' | 'port'>;
  tls: RegionTls | undefined;
  directory: Directory;
  logger: Logger;
}): LoginProxy | undefined {
  const { config, tls, directory, logger } = opts;
  if (!tls) return undefined;
  const peers = proxyPeers(config);
  return {
    async homeOf(user: ProxiedUser) {
      const found = await directory.lookupRecipient(user.address);
      if (found.kind !== 'mailbox' || found.region === config.region.id) return null;
      return found.region;
    },
    async open(region, protocol, user, client): Promise<ProxyChannel> {
      try {
        const peer = peers.get(region);
        if (!peer) throw new Error(`region ${region} is not in federation.peers`);
        const socket = await connectToPeer(region, peer, tls, directory);
        socket.write(proxyRequestLine(protocol, user.address, client));
        const firstLine = await readFirstLine(socket, MAX_REQUEST_LINE, PROXY_CONNECT_TIMEOUT_MS).catch(
          (err: unknown) => {
            socket.destroy();
            throw err;
          },
        );
        // Paused (readFirstLine) until the session pipes it: pipe resumes it.
        return { region, firstLine, stream: socket };
      } catch (err) {
        logEventAt(logger, 'warn', 'federation.proxy_unavailable', {
          protocol,
          user: user.id,
          region,
          error: err instanceof Error ? err.message : String(err),
        });
        throw err;
      }
    },
    started(info) {
      logEvent(logger, 'federation.proxy_login', {
        protocol: info.protocol,
        user: info.user.id,
        region: info.region,
        client: info.client,
      });
    },
    ended(info) {
      logEvent(logger, 'federation.proxy_end', {
        protocol: info.protocol,
        user: info.user.id,
        region: info.region,
        bytesIn: info.bytesIn,
        bytesOut: info.bytesOut,
      });
    },
  };
}

/** A TLS connection to `region`'s proxy listener, with this region's certificate; only `region`'s accepted. */
function connectToPeer(
  region: string,
  peer: { host: string; port: number },
  tls: RegionTls,
  directory: Directory,
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: peer.host,
      port: peer.port,
      ...(isIP(peer.host) === 0 ? { servername: peer.host } : {}),
      cert: tls.certPem,
      key: tls.keyPem,
      ca: [tls.caCertPem],
      minVersion: 'TLSv1.2',
      // The peer is identified by its region name (`<region>.federation.invalid`), not by its host name.
      checkServerIdentity: (_host: string, cert: PeerCertificate) => {
        const named = regionOfPeerCertificate(cert);
        if (named === region && revocationsOf(directory)?.revoked(region, cert))
          return new Error(`the proxy peer ${region} presented a revoked certificate`);
        if (named === region) return undefined;
        return new Error(
          `the proxy peer at ${peer.host}:${peer.port} presented ${named ? `region ${named}'s certificate` : 'a certificate of no region'}, not region ${region}'s`,
        );
      },
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${peer.host}:${peer.port}: no TLS handshake in time`));
    }, PROXY_CONNECT_TIMEOUT_MS);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once('error', onError);
  });
}

export interface RunningProxyListener {
  address: { port: number };
  close(): Promise<void>;
}

/**
 * The home region's side: the listener on `port.proxy`, or undefined (logged) when this region has no
 * federation certificate.
 */
export async function startFederationProxy(opts: {
  config: Config;
  tls: RegionTls | undefined;
  directory: Directory;
  imap: ImapServer;
  pop3: Pop3Server;
  logger: Logger;
}): Promise<RunningProxyListener | undefined> {
  const { config, tls, directory, logger } = opts;
  if (!tls) {
    logEvent(logger, 'federation.proxy_disabled', {
      port: config.port.proxy,
      reason: `no federation certificate in ${config.data.dir}/federation (delegato federation init or join)`,
    });
    return undefined;
  }
  const refuse = (socket: Socket, peer: string, reason: string, answer?: string) => {
    logEventAt(logger, 'warn', 'federation.proxy_refused', { peer, reason });
    if (answer) socket.end(answer);
    else socket.destroy();
  };
  const server = createServer({
    cert: tls.certPem,
    key: tls.keyPem,
    ca: [tls.caCertPem],
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    handshakeTimeout: PROXY_CONNECT_TIMEOUT_MS,
  });
  const open = new Set<Socket>();
  server.on('tlsClientError', (err, socket) => {
    logEventAt(logger, 'warn', 'federation.proxy_refused', {
      peer: socket.remoteAddress,
      reason: err.message,
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
    void (async () => {
      const address = socket.remoteAddress ?? '';
      const cert = socket.getPeerCertificate();
      const region = regionOfPeerCertificate(cert);
      if (!region) return refuse(socket, address, 'certificate names no region');
      if (revocationsOf(directory)?.revoked(region, cert))
        return refuse(socket, `${region} [${address}]`, 'certificate revoked');
      const peer = `${region} [${address}]`;
      let line: string;
      try {
        line = await readFirstLine(socket, MAX_REQUEST_LINE, PROXY_CONNECT_TIMEOUT_MS);
      } catch (err) {
        return refuse(socket, peer, err instanceof Error ? err.message : String(err));
      }
      const request = parseProxyRequest(line);
      if (!request) return refuse(socket, peer, 'malformed request line', '-ERR Malformed request\r\n');
      const { protocol, address: mailbox, client } = request;
      const bye =
        protocol === 'imap'
          ? '* BYE [UNAVAILABLE] Mailbox not available in this region.\r\n'
          : '-ERR [SYS/PERM] Mailbox not available in this region\r\n';
      const found = await directory.lookupRecipient(mailbox).catch(() => null);
      if (found?.kind !== 'mailbox')
        return refuse(socket, peer, `${mailbox}: ${found ? found.kind : 'lookup failed'}`, bye);
      if (found.region !== config.region.id)
        return refuse(socket, peer, `${mailbox}: homed in region ${found.region}`, bye);
      const mb = await directory.resolveLogin(found.address);
      if (!mb || mb.id !== found.mailboxId || !directory.mayLogIn(mb))
        return refuse(socket, peer, `${mailbox}: may not log in`, bye);
      logEvent(logger, 'federation.proxy_accepted', { peer: region, protocol, user: mb.id, client });
      const user = { id: mb.id, address: mb.address };
      if (protocol === 'imap') opts.imap.serveAuthenticated(socket, user);
      else opts.pop3.serveAuthenticated(socket, user);
      socket.resume();
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port.proxy, config.listen, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return {
    address: { port: typeof addr === 'object' && addr ? addr.port : config.port.proxy },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
