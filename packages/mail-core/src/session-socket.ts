/**
 * A session's listeners on its socket: attached when the connection starts and again on the TLS socket
 * after STARTTLS / STLS; detached from the plain socket before the handshake.
 */
import type { Socket } from 'node:net';

export interface SessionSocketListeners {
  onData: (chunk: Buffer) => void;
  onError: (error: Error) => void;
  onClose: () => void;
  onTimeout: () => void;
}

/**
 * Attaches the session's listeners and its idle timeout, with TCP_NODELAY: a session writes each answer
 * whole (corked), so it should go out at once rather than wait for the client's delayed ACK of the
 * previous one (Nagle). The error listener is added once per socket (the TLS upgrade may have added it).
 */
export function attachSessionSocket(socket: Socket, l: SessionSocketListeners, timeoutMs: number): void {
  socket.setNoDelay(true);
  socket.on('data', l.onData);
  if (!socket.listeners('error').includes(l.onError)) socket.on('error', l.onError);
  socket.on('close', l.onClose);
  socket.setTimeout(timeoutMs);
  socket.on('timeout', l.onTimeout);
}

/**
 * Nothing received before the handshake may run after it (CVE-2011-0411): removes the session's 'data'
 * and 'timeout' listeners from the plain socket, so whatever it still emits falls away. The session must
 * also drop what it has buffered, and resume the socket if it paused it.
 */
export function detachPlainSocket(
  raw: Socket,
  listeners: Pick<SessionSocketListeners, 'onData' | 'onTimeout'>,
): void {
  raw.removeListener('data', listeners.onData);
  raw.removeListener('timeout', listeners.onTimeout);
  raw.setTimeout(0);
}
