/**
 * The server side of an in-protocol TLS upgrade (IMAP STARTTLS, RFC 9051 §6.2.1; POP3 STLS, RFC 2595
 * §4): the TLS handshake over the plain socket, bounded in time (first detach the session from it:
 * `detachPlainSocket`, session-socket.ts).
 */
import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket, type TlsOptions } from 'node:tls';
import { logEventAt } from '@delegato/observability';
import type { Logger } from 'pino';
import { ConnectionClosedError } from './connection-errors.js';

export interface TlsUpgradeOptions {
  secureContext: SecureContext;
  /** A certificate per SNI server name (RFC 6066 §3); absent: `secureContext` for every name. */
  SNICallback?: TlsOptions['SNICallback'] | undefined;
  handshakeTimeoutMs: number;
  /** Attached to the TLS socket before the handshake, and left attached. */
  onError: (error: Error) => void;
  log: Logger | undefined;
  /** The upgrade's name in the log: `imap STARTTLS`, `pop3 STLS`. */
  name: string;
}

/**
 * Resolves with the TLS socket once the handshake is done. On a failure, a timeout or a close during the
 * handshake (the client's failure, not ours: nothing to answer, nothing to report above debug), destroys
 * both sockets and rejects with `ConnectionClosedError`.
 */
export async function upgradeToTls(raw: Socket, o: TlsUpgradeOptions): Promise<TLSSocket> {
  const secure = new TLSSocket(raw, {
    isServer: true,
    secureContext: o.secureContext,
    ...(o.SNICallback ? { SNICallback: o.SNICallback } : {}),
  });
  secure.on('error', o.onError);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('TLS handshake timed out')), o.handshakeTimeoutMs);
      secure.once('secure', () => {
        clearTimeout(timer);
        resolve();
      });
      secure.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      secure.once('close', () => {
        clearTimeout(timer);
        reject(new Error('connection closed during the TLS handshake'));
      });
    });
  } catch (error) {
    logEventAt(
      o.log,
      'debug',
      'tls.handshake_failed',
      { err: error, upgrade: o.name },
      `${o.name} handshake failed`,
    );
    secure.destroy();
    raw.destroy();
    throw new ConnectionClosedError();
  }
  return secure;
}
