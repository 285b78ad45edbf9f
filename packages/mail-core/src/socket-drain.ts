/** Waiting out a full socket write buffer (back-pressure from a client that is not reading). */
import type { Socket } from 'node:net';
import { ConnectionClosedError } from './connection-errors.js';

/** Resolves on the socket's 'drain'; rejects with `ConnectionClosedError` when it closes first. */
export function drained(socket: Socket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      socket.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      socket.off('drain', onDrain);
      reject(new ConnectionClosedError());
    };
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}
