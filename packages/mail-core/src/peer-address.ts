/** Who is on the other end: addresses compared the same way whatever the socket's family. */
import type { Socket } from 'node:net';

/** IPv4-mapped IPv6 addresses as IPv4, so 127.0.0.1 on a dual-stack socket still matches itself. */
export function normalizeAddress(address: string): string {
  const a = address.toLowerCase();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/**
 * The client connects from the server's own address (remote address = local address of the socket,
 * e.g. 127.0.0.1 → 127.0.0.1): what `trustLocalConnections` treats as secure, as Dovecot does.
 */
export function isLocalConnection(socket: Socket): boolean {
  const remote = normalizeAddress(socket.remoteAddress ?? '');
  return remote !== '' && remote === normalizeAddress(socket.localAddress ?? '');
}
