/**
 * The appliance side of the control socket: the CLI's directory commands run here, on the directory
 * this process owns (a Turso database file is locked by the process that opens it: a second one gets "File
 * is locked by another process"; docs/federation.md, "Measured facts").
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Directory } from '@delegato/directory';
import type { ListModeration, OutboundQueue } from '@delegato/mta';
import { type Logger, logEvent } from '@delegato/observability';
import type { CommandContext } from '../cli/commands.js';
import { type CommandResult, EXIT_USAGE, executeCommand } from '../cli/commands.js';
import { type ControlRequest, type ControlResponse, MAX_REQUEST_BYTES } from './protocol.js';

export interface ControlServer {
  path: string;
  close(): Promise<void>;
}

function respond(socket: Socket, res: ControlResponse): void {
  socket.end(`${JSON.stringify(res)}\n`);
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function startControlServer(opts: {
  socketPath: string;
  tokenFile: string;
  directory: Directory;
  logger: Logger;
  purgeMail?: (mailboxIds: string[]) => Promise<void>;
  queue?: () => Promise<OutboundQueue>;
  /** Built-in lists' held posts (services/lists.ts). */
  lists?: ListModeration;
  /** `trace` across regions (services/federation-api.ts `traceAtPeers`). */
  peerTrace?: CommandContext['peerTrace'];
  /** Commands answered outside the directory command table (`federation hub ...`); undefined: not one. */
  handle?: (argv: string[], user: string) => Promise<CommandResult> | undefined;
}): Promise<ControlServer> {
  const token = randomBytes(32).toString('base64url');
  writeFileSync(opts.tokenFile, `${token}\n`, { mode: 0o600 });
  chmodSync(opts.tokenFile, 0o600);
  // A socket file left by a killed appliance: nobody listens on it any more (we own the directory lock).
  if (existsSync(opts.socketPath)) unlinkSync(opts.socketPath);

  const inflight = new Set<Promise<unknown>>();
  const server: Server = createServer((socket) => {
    let buf = '';
    socket.setEncoding('utf8');
    socket.setTimeout(30_000, () => socket.destroy());
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST_BYTES) {
        respond(socket, { code: EXIT_USAGE, stdout: '', stderr: 'delegato: request too large\n' });
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      socket.removeAllListeners('data');
      // The request is in: its command may take long (a backup), the idle timeout no longer applies.
      socket.setTimeout(0);
      let req: ControlRequest;
      try {
        req = JSON.parse(buf.slice(0, nl)) as ControlRequest;
      } catch {
        respond(socket, { code: EXIT_USAGE, stdout: '', stderr: 'delegato: malformed control request\n' });
        return;
      }
      if (typeof req.token !== 'string' || !sameToken(req.token, token) || !Array.isArray(req.argv)) {
        logEvent(opts.logger, 'control.error', { reason: 'bad token' });
        respond(socket, {
          code: 1,
          stdout: '',
          stderr: 'delegato: control socket refused the request (bad token)\n',
        });
        return;
      }
      const user = typeof req.user === 'string' ? req.user.slice(0, 64) : 'unknown';
      // Only the command words are logged: arguments may contain secrets' neighbours, stdin a password.
      logEvent(opts.logger, 'control.request', {
        command: req.argv.filter((a) => !a.startsWith('-')).slice(0, 2),
        user,
      });
      const argv = req.argv.map(String);
      const work = (
        opts.handle?.(argv, user) ??
        executeCommand(argv, {
          directory: opts.directory,
          actor: { kind: 'operator', name: `cli:${user}`, from: 'local' },
          stdin: typeof req.stdin === 'string' ? req.stdin : undefined,
          ...(opts.purgeMail ? { purgeMail: opts.purgeMail } : {}),
          ...(opts.queue ? { queue: opts.queue } : {}),
          ...(opts.lists ? { lists: async () => opts.lists as ListModeration } : {}),
          ...(opts.peerTrace ? { peerTrace: opts.peerTrace } : {}),
        })
      ).then((res) => respond(socket, res));
      inflight.add(work);
      void work.finally(() => inflight.delete(work));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(opts.socketPath, 0o600);
  return {
    path: opts.socketPath,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...inflight]);
      try {
        unlinkSync(opts.socketPath);
      } catch {
        // already gone
      }
    },
  };
}
