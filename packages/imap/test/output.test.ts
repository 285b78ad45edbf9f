/**
 * How responses go out: a command's responses are written together when it completes (the socket is
 * corked meanwhile, TCP_NODELAY set), not one segment per line, so a client does not wait on its own
 * delayed ACK (Nagle) between the lines of one answer; IDLE and literals still get theirs at once.
 */
import { connect, Socket } from 'node:net';
import { BOB, waitFor } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, ImapClient, message, startHarness } from './helpers.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  for (let i = 0; i < 5; i++) await h.deliver(BOB, message(`m${i}`));
  await h.store.storeFlags(BOB.id, 'INBOX', [1, 2], 'add', ['\\Seen', 'Work']);
});
afterAll(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

/**
 * Counts the server's socket writes (write or writev system calls handed to libuv) for connections to
 * the harness's port while `fn` runs: the server runs in this process.
 */
async function serverWrites(fn: () => Promise<void>): Promise<number> {
  const proto = Socket.prototype as unknown as { _writeGeneric: (...args: unknown[]) => unknown };
  const original = proto._writeGeneric;
  let count = 0;
  proto._writeGeneric = function (this: Socket, ...args: unknown[]) {
    if (this.localPort === h.port) count++;
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto._writeGeneric = original;
  }
  return count;
}

/** A raw connection that records every 'data' chunk as it arrives. */
async function rawSession(): Promise<{ socket: Socket; chunks: string[]; text: () => string }> {
  const socket = connect(h.port, '127.0.0.1');
  const chunks: string[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d.toString('latin1')));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const text = () => chunks.join('');
  await waitFor(() => text().includes('\r\n'));
  return { socket, chunks, text };
}

async function send(
  s: { socket: Socket; chunks: string[]; text: () => string },
  line: string,
  until: string,
): Promise<string[]> {
  const from = s.chunks.length;
  s.socket.write(line);
  await waitFor(() => s.chunks.slice(from).join('').includes(until));
  return s.chunks.slice(from);
}

describe('response output', () => {
  it("sends SELECT's untagged responses and its tagged OK in one write", async () => {
    const s = await rawSession();
    try {
      await send(s, `a LOGIN ${BOB.login} "${BOB.password}"\r\n`, 'a OK');
      let chunks: string[] = [];
      const writes = await serverWrites(async () => {
        chunks = await send(s, 'b SELECT INBOX\r\n', 'b OK');
      });
      expect(writes).toBe(1);
      const all = chunks.join('');
      expect(all).toContain('* 5 EXISTS\r\n');
      expect(all).toContain('* OK [UNSEEN 3] First unseen.\r\n');
      expect(all).toMatch(/\* FLAGS \(.*Work.*\)\r\n/);
      expect(all.split('\r\n').length).toBeGreaterThan(8);
      // One segment on loopback: everything was written at once.
      expect(chunks).toHaveLength(1);
      expect(s.socket.readyState).toBe('open');
    } finally {
      s.socket.destroy();
    }
  });

  it('answers pipelined commands, each complete and in order', async () => {
    const s = await rawSession();
    try {
      await send(s, `a LOGIN ${BOB.login} "${BOB.password}"\r\n`, 'a OK');
      const all = (
        await send(s, 'b SELECT INBOX\r\nc FETCH 1:5 (UID FLAGS)\r\nd NOOP\r\ne LOGOUT\r\n', 'e OK')
      ).join('');
      const tags = all
        .split('\r\n')
        .filter((l) => /^[a-e] /.test(l))
        .map((l) => l.slice(0, 4));
      expect(tags).toEqual(['b OK', 'c OK', 'd OK', 'e OK']);
      expect(all.match(/^\* \d FETCH /gm)).toHaveLength(5);
      expect(all).toContain('* BYE');
    } finally {
      s.socket.destroy();
    }
  });

  it('still sends IDLE updates and literal continuations as they happen', async () => {
    const watcher = await ImapClient.connect(h.port);
    const c = await ImapClient.connect(h.port);
    try {
      await watcher.login(BOB);
      await watcher.cmd('SELECT INBOX');
      watcher.raw.write('i IDLE\r\n');
      expect(await watcher.response()).toMatch(/^\+ /);
      await c.login(BOB);
      const body = message('appended');
      c.raw.write(`x APPEND INBOX {${body.length}}\r\n`);
      expect(await c.response()).toMatch(/^\+ /);
      c.raw.write(`${body}\r\n`);
      expect((await c.until('x')).tagged).toMatch(/^x OK/);
      expect(await watcher.response()).toBe('* 6 EXISTS');
      watcher.raw.write('DONE\r\n');
      expect((await watcher.until('i')).tagged).toMatch(/^i OK/);
    } finally {
      watcher.close();
      c.close();
    }
  });
});
