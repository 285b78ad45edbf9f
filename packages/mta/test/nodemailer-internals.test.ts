/**
 * The adapter at the boundary with nodemailer's internals (src/nodemailer-internals.ts), pinned to the
 * version it was written against: when nodemailer is upgraded this fails first, and whoever upgrades
 * re-reads the adapter against the new `SMTPConnection`. A real nodemailer client against a scripted server
 * on port 0.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { afterEach, describe, expect, it } from 'vitest';
import {
  installedNodemailerVersion,
  NODEMAILER_VERSION,
  supportedExtensions,
} from '../src/nodemailer-internals.js';

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** A server that greets, answers EHLO with `keywords`, and QUIT; anything else gets 502. */
async function scripted(keywords: string[]): Promise<number> {
  const server = createServer((socket) => {
    socket.write('220 scripted ESMTP\r\n');
    let buf = '';
    socket.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (/^EHLO /i.test(line))
          socket.write(
            ['scripted', ...keywords]
              .map((k, n) => `250${n === keywords.length ? ' ' : '-'}${k}\r\n`)
              .join(''),
          );
        else if (/^QUIT/i.test(line)) socket.end('221 2.0.0 bye\r\n');
        else socket.write('502 5.5.1 not here\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}

async function connect(port: number): Promise<SMTPConnection> {
  const conn = new SMTPConnection({ host: '127.0.0.1', port, ignoreTLS: true, logger: false });
  conn.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  return conn;
}

describe('nodemailer adapter', () => {
  it('is pinned to the nodemailer version in use', () => {
    const installed = installedNodemailerVersion();
    expect(
      installed,
      `nodemailer is ${installed}, src/nodemailer-internals.ts was written against ${NODEMAILER_VERSION}: ` +
        're-read what it reads of SMTPConnection against the new version, then update NODEMAILER_VERSION',
    ).toBe(NODEMAILER_VERSION);
    // What supportedExtensions reads: the private list nodemailer fills from each EHLO reply.
    const source = readFileSync(fileURLToPath(import.meta.resolve('nodemailer/lib/smtp-connection')), 'utf8');
    expect(source).toContain('this._supportedExtensions = [];');
    expect(source).toContain("this._supportedExtensions.push('DSN');");
  });

  it('reads the EHLO keywords nodemailer tracks, before any transaction', async () => {
    const conn = await connect(await scripted(['PIPELINING', 'DSN', '8BITMIME', 'X-UNKNOWN']));
    try {
      expect(supportedExtensions(conn)?.sort()).toEqual(['8BITMIME', 'DSN', 'PIPELINING']);
    } finally {
      conn.close();
    }
  });

  it('gives an empty list when the server advertises none of them', async () => {
    const conn = await connect(await scripted(['X-UNKNOWN']));
    try {
      expect(supportedExtensions(conn)).toEqual([]);
    } finally {
      conn.close();
    }
  });
});
