/** The CLI side of the control socket. */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { ControlRequest, ControlResponse } from './protocol.js';

/** Thrown when no appliance listens: the CLI then opens the data dir itself. */
export class NoApplianceError extends Error {}

export function sendControlRequest(
  socketPath: string,
  tokenFile: string,
  req: Omit<ControlRequest, 'token'>,
): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let buf = '';
    let connected = false;
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      let token: string;
      try {
        token = readFileSync(tokenFile, 'utf8').trim();
      } catch (err) {
        socket.destroy();
        reject(new Error(`cannot read the control token ${tokenFile}: ${(err as Error).message}`));
        return;
      }
      socket.write(`${JSON.stringify({ ...req, token })}\n`);
    });
    socket.on('data', (chunk: string) => {
      buf += chunk;
    });
    socket.on('end', () => {
      try {
        resolve(JSON.parse(buf) as ControlResponse);
      } catch {
        reject(new Error('the appliance closed the control connection without an answer'));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) {
        reject(new NoApplianceError('no appliance is running on this data dir'));
      } else {
        reject(err);
      }
    });
  });
}
