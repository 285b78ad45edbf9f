/**
 * The adapter at the boundary with smtp-server's internals (src/smtp-server-patch.ts), pinned to the
 * version it was written against: when smtp-server is upgraded this fails first, and whoever upgrades
 * re-reads the adapter against the new `SMTPConnection`. Real smtp-server instances on port 0, a raw
 * socket client.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LineClient } from '@delegato/testkit';
import { SMTPServer, type SMTPServerAddress, type SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import {
  adaptSmtpServer,
  GREET_AT_ONCE,
  installedSmtpServerVersion,
  rawParameters,
  SMTP_SERVER_VERSION,
} from '../src/smtp-server-patch.js';

const servers: SMTPServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function listen(options: SMTPServerOptions): Promise<number> {
  adaptSmtpServer();
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    // As MxServer does without greetingDelayMs (the library's default calls back in setImmediate).
    onConnect: (_session, cb) => cb(),
    ...options,
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.server.address() as { port: number }).port;
}

/** Connects and sends NOOP before reading anything: an early talker. Returns the lines up to NOOP's reply. */
async function talkFirst(port: number): Promise<string[]> {
  const c = await LineClient.connect(port);
  c.write('NOOP\r\n');
  const lines: string[] = [];
  try {
    for (;;) {
      const line = await c.line(3000);
      lines.push(line);
      if (!line.startsWith('220')) break;
    }
  } finally {
    c.close();
  }
  return lines;
}

describe('smtp-server adapter', () => {
  it('is pinned to the smtp-server version in use', () => {
    expect(installedSmtpServerVersion()).toBe(SMTP_SERVER_VERSION);
    // What patchedInit replaces: the library's init() with its fixed 100 ms pause before connectionReady.
    const source = readFileSync(
      fileURLToPath(import.meta.resolve('smtp-server/lib/smtp-connection.js')),
      'utf8',
    );
    expect(source).toContain('let readyTimer = setTimeout(() => this.connectionReady(), 100);');
    expect(source).toContain(
      "return this.send(421, this.name + ' Too many connected clients, try again in a moment', false);",
    );
    // What rawParameters works around: xtext decoded in place, a malformed `+` kept as it is.
    expect(source).toContain('return value.replace(/\\+([0-9A-F]{2})/g');
  });

  it('without GREET_AT_ONCE the library keeps its early-talker pause (421 to a command before the greeting)', async () => {
    const port = await listen({});
    const lines = await talkFirst(port);
    expect(lines.at(-1)).toMatch(/^421 .*You talk too soon/);
  });

  it('with GREET_AT_ONCE the greeting is sent at once: a command right after connecting is answered', async () => {
    const port = await listen({ [GREET_AT_ONCE]: true } as SMTPServerOptions);
    const lines = await talkFirst(port);
    expect(lines[0]).toMatch(/^220 /);
    expect(lines.at(-1)).toMatch(/^250 /);
  });

  it("with GREET_AT_ONCE the application's own pause (onConnect) still refuses early talkers", async () => {
    const port = await listen({
      [GREET_AT_ONCE]: true,
      onConnect: (_session, cb) => setTimeout(() => cb(), 200),
    } as SMTPServerOptions);
    const lines = await talkFirst(port);
    expect(lines.at(-1)).toMatch(/^421 .*You talk too soon/);
  });

  it('keeps the connection limit with GREET_AT_ONCE', async () => {
    const port = await listen({ [GREET_AT_ONCE]: true, maxClients: 1 } as SMTPServerOptions);
    const first = await LineClient.connect(port);
    expect((await first.smtpReply()).code).toBe(220);
    const second = await LineClient.connect(port);
    expect(await second.line()).toMatch(/^421 .*Too many connected clients/);
    first.close();
    second.close();
  });

  it('keeps the raw MAIL/RCPT parameters beside the decoded ones', async () => {
    const seen: SMTPServerAddress[] = [];
    const port = await listen({
      [GREET_AT_ONCE]: true,
      onMailFrom: (address, _s, cb) => {
        seen.push(address);
        cb();
      },
      onRcptTo: (address, _s, cb) => {
        seen.push(address);
        cb();
      },
    } as SMTPServerOptions);
    const c = await LineClient.connect(port);
    expect((await c.smtpReply()).code).toBe(220);
    expect((await c.smtp('EHLO client.example')).code).toBe(250);
    expect((await c.smtp('MAIL FROM:<a@example.org> ENVID=a+2Bb+ BODY=8BITMIME x-Foo')).code).toBe(250);
    expect((await c.smtp('RCPT TO:<b@example.org> ORCPT=rfc822;b=c@example.org')).code).toBe(250);
    c.close();
    expect(seen[0]?.args).toMatchObject({ ENVID: 'a+b+', BODY: '8BITMIME', 'X-FOO': true });
    expect(rawParameters(seen[0] as SMTPServerAddress)).toEqual({
      ENVID: 'a+2Bb+',
      BODY: '8BITMIME',
      'X-FOO': true,
    });
    expect(rawParameters(seen[1] as SMTPServerAddress)).toEqual({ ORCPT: 'rfc822;b=c@example.org' });
  });
});
