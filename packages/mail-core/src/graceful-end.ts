/** Closing our side of a connection without waiting forever for the peer to close theirs. */
import type { Socket } from 'node:net';

/** After `endGracefully()`, a peer that does not close its side is cut off after this long. */
export const END_GRACE_MS = 5_000;

/** Ends the socket (FIN after the pending writes) and destroys it if still open after `graceMs`. */
export function endGracefully(socket: Socket, graceMs = END_GRACE_MS): void {
  socket.end();
  setTimeout(() => socket.destroy(), graceMs).unref();
}
