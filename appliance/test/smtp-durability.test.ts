/**
 * Durability of accepted mail across crashes: the real appliance runs as a child process, four SMTP
 * clients send messages of 1 KiB to 200 KiB in a loop, and the appliance is SIGKILLed at a random moment,
 * then restarted on the same data dir. After every kill the mail store (opened here while no appliance
 * runs) must hold every message that got its 250 exactly once and byte-intact, and nothing truncated or
 * half-written: every stored message is one that was sent, in full. Messages in flight at the kill may or
 * may not be there.
 *
 * Rounds: DELEGATO_SOAK_ROUNDS (default 5; `npm run test:soak` runs 50).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MailStore } from '@delegato/mailstore';
import { ALL_PORTS_ZERO, LineClient, tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { dataPaths } from '../src/data-dir.js';
import { openDirectory } from '../src/open-directory.js';

const BIN = new URL('../bin/delegato.mjs', import.meta.url).pathname;
const ROUNDS = Math.max(1, Number(process.env.DELEGATO_SOAK_ROUNDS ?? 5) || 5);
const CLIENTS = 4;
const MAILBOX = 'dura.bility@d.example';

const root = tempDir('delegato-durability-');
const DATA = join(root.path, 'var');
const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  ...ALL_PORTS_ZERO,
  DELEGATO_DATA_DIR: DATA,
  DELEGATO_OPERATOR_PASSWORD: 'operator-soak-password',
  DELEGATO_LOG_LEVEL: 'warn',
  // This test is about the store, and SPF/DKIM/DMARC of outside.example would ask the machine's resolvers.
  DELEGATO_AUTH_INBOUND: 'false',
};

interface Sent {
  bytes: Buffer;
  acked: boolean;
}
/** Every message sent, by Message-ID; `acked` once its 250 arrived. */
const sent = new Map<string, Sent>();
let userId = '';
let running: Running | undefined;

interface Running {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: root.path, env: ENV, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdin.end();
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function start(): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'start'], { cwd: root.path, env: ENV, stdio: 'pipe' });
  child.stdin?.end();
  let out = '';
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no smtp listener after 30 s; stderr: ${err}`)), 30_000);
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /^smtp 127\.0\.0\.1:(\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the appliance exited (${code ?? signal}) before listening; stderr: ${err}`));
    });
  });
  return { child, port, stderr: () => err, exited };
}

/** A message with a unique Message-ID and a random body of 1 KiB to 200 KiB (base64 lines: no dots). */
function message(id: string): Buffer {
  const size = randomInt(1024, 200 * 1024 + 1);
  const raw = randomBytes(Math.ceil((size * 3) / 4))
    .toString('base64')
    .slice(0, size);
  const lines = raw.match(/.{1,76}/g) ?? [];
  return Buffer.from(
    `From: Load <load@outside.example>\r\nTo: <${MAILBOX}>\r\nSubject: soak ${id}\r\n` +
      `Message-ID: <${id}@soak.example>\r\n\r\n${lines.join('\r\n')}\r\n`,
  );
}

/** One client: sends messages in a loop until the connection dies (the kill) or `stop()` says so. */
async function client(port: number, name: string, stop: () => boolean): Promise<number> {
  let acked = 0;
  let c: LineClient;
  try {
    c = await LineClient.connect(port);
    if ((await c.smtpReply()).code !== 220) return 0;
    if ((await c.smtp('EHLO soak.example')).code !== 250) return 0;
  } catch {
    return 0;
  }
  try {
    for (let n = 0; !stop(); n++) {
      const id = `${name}.${n}.${randomBytes(4).toString('hex')}`;
      const bytes = message(id);
      const entry: Sent = { bytes, acked: false };
      if ((await c.smtp('MAIL FROM:<load@outside.example>')).code !== 250) break;
      if ((await c.smtp(`RCPT TO:<${MAILBOX}>`)).code !== 250) break;
      if ((await c.smtp('DATA')).code !== 354) break;
      sent.set(`<${id}@soak.example>`, entry);
      c.write(Buffer.concat([bytes, Buffer.from('.\r\n')]));
      const reply = await c.smtpReply(30_000);
      if (reply.code !== 250) throw new Error(`message ${id} refused: ${reply.text}`);
      entry.acked = true;
      acked++;
    }
  } catch (err) {
    // The kill: the connection is gone. Anything else is a failure of the test.
    if (!c.closed) throw err;
  } finally {
    c.close();
  }
  return acked;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Checks the mail store of the stopped appliance against what was sent; returns the stored count. */
async function verifyStore(): Promise<{ stored: number; acked: number }> {
  const store = await MailStore.open({ dir: dataPaths(DATA).mailStore });
  const seen = new Map<string, number>();
  try {
    const box = await store.snapshot(userId, 'INBOX');
    for (const meta of box.messages) {
      const stored = await readAll(await store.openMessage(userId, 'INBOX', meta.uid));
      expect(stored.length, `size of uid ${meta.uid}`).toBe(meta.size);
      const text = stored.toString('latin1');
      const trace = /^Return-Path: <load@outside\.example>\r\nReceived: [^\r]*\r\n(?:\t[^\r]*\r\n)*/.exec(
        text,
      );
      expect(trace, `trace headers of uid ${meta.uid}`).not.toBeNull();
      const content = stored.subarray(trace?.[0].length ?? 0);
      const id = /^Message-ID: (<[^>\r]+>)\r$/m.exec(content.toString('latin1'))?.[1] ?? '';
      const original = sent.get(id);
      expect(original, `uid ${meta.uid} (${id || 'no Message-ID'}) is a message that was sent`).toBeDefined();
      expect(content.equals(original?.bytes ?? Buffer.alloc(0)), `uid ${meta.uid} ${id} is complete`).toBe(
        true,
      );
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  } finally {
    await store.close();
  }
  const duplicates = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  expect(duplicates, 'messages stored more than once').toEqual([]);
  const lost = [...sent].filter(([id, m]) => m.acked && !seen.has(id)).map(([id]) => id);
  expect(lost, 'acknowledged messages missing from the store').toEqual([]);
  return { stored: [...seen.values()].length, acked: [...sent.values()].filter((m) => m.acked).length };
}

beforeAll(async () => {
  for (const args of [
    ['domain', 'add', 'd.example'],
    ['mailbox', 'add', 'd.example', '--first', 'Dura', '--last', 'Bility'],
  ]) {
    const r = await run(args);
    expect(r.code, `delegato ${args.join(' ')}: ${r.stderr}`).toBe(0);
  }
  const directory = await openDirectory(loadConfig({ env: { DELEGATO_DATA_DIR: DATA }, cwd: root.path }));
  try {
    userId = (await directory.resolveLogin(MAILBOX))?.id ?? '';
  } finally {
    await directory.close();
  }
  expect(userId).not.toBe('');
}, 60_000);

afterAll(async () => {
  if (running && running.child.exitCode === null && running.child.signalCode === null) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  root.remove();
});

describe('accepted mail survives SIGKILL', () => {
  it(
    `${ROUNDS} rounds of load, SIGKILL at a random moment, restart`,
    async () => {
      const t0 = Date.now();
      for (let round = 1; round <= ROUNDS; round++) {
        running = await start();
        const app = running;
        let killed = false;
        const clients = Array.from({ length: CLIENTS }, (_, i) =>
          client(app.port, `r${round}c${i}`, () => killed),
        );
        await new Promise((r) => setTimeout(r, randomInt(200, 1501)));
        app.child.kill('SIGKILL');
        const exit = await app.exited;
        killed = true;
        expect(exit.signal, `round ${round}: stderr ${app.stderr()}`).toBe('SIGKILL');
        const ackedThisRound = (await Promise.all(clients)).reduce((a, b) => a + b, 0);
        running = undefined;

        const { stored, acked } = await verifyStore();
        if (process.env.DELEGATO_SOAK_VERBOSE) {
          console.log(
            `round ${round}: ${ackedThisRound} acked this round; ${stored} stored, ${acked} acked in all`,
          );
        }
      }
      expect([...sent.values()].filter((m) => m.acked).length).toBeGreaterThan(0);

      // After the last kill the appliance still starts, accepts and stores mail, and stops cleanly.
      running = await start();
      const app = running;
      let stop = false;
      const more = await Promise.all([
        client(app.port, 'final', () => {
          const done = stop;
          stop = true;
          return done;
        }),
      ]);
      expect(more).toEqual([1]);
      app.child.kill('SIGTERM');
      expect((await app.exited).code).toBe(0);
      running = undefined;
      const { stored, acked } = await verifyStore();
      expect(stored).toBeGreaterThanOrEqual(acked);
      if (process.env.DELEGATO_SOAK_VERBOSE) {
        console.log(
          `${ROUNDS} rounds in ${Date.now() - t0} ms: ${sent.size} sent, ${acked} acked, ${stored} stored ` +
            `(in flight at a kill and not stored: ${sent.size - stored})`,
        );
      }
    },
    ROUNDS * 30_000 + 60_000,
  );
});
