/**
 * Abuse and limits over raw sockets: the bad-command limit, autologout (RFC 9051 §5.4), over-long lines,
 * over-large literals (RFC 7888 §4), deep nesting, pipelining, server shutdown.
 */

import { ALICE } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, ImapClient, message, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    limits: {
      maxBadCommands: 5,
      loginTimeoutMs: 300,
      maxLiteralSize: 10_000,
      maxCommandSize: 4096,
      maxLineLength: 2048,
    },
  });
  for (let i = 0; i < 20; i++) await h.deliver(ALICE, message(`p${i}`));
});
afterAll(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

describe('limits', () => {
  it('closes the connection after too many bad commands', async () => {
    const c = await ImapClient.connect(h.port);
    for (let i = 1; i <= 4; i++) expect((await c.cmd('BOGUS')).tagged).toBe(`A${i} BAD Unknown command`);
    c.raw.write('A5 FETCH\r\n');
    expect(await c.response()).toBe('A5 BAD Not authenticated: log in first.');
    expect(await c.response()).toBe('* BYE Too many invalid IMAP commands.');
    await c.raw.waitClosed();
  });

  it('answers untagged BAD to a line without a tag', async () => {
    const c = await ImapClient.connect(h.port);
    c.raw.write('(((\r\n');
    expect(await c.response()).toBe('* BAD Error in IMAP command received by server.');
    expect((await c.cmd('NOOP')).tagged).toBe('A1 OK Noop completed.');
    c.close();
  });

  it('logs out a client that does not log in in time (RFC 9051 §5.4)', async () => {
    const c = await ImapClient.connect(h.port);
    expect(await c.response(2000)).toBe('* BYE Disconnected for inactivity.');
    await c.raw.waitClosed();
  });

  it('refuses an over-long line and goes on', async () => {
    const c = await ImapClient.connect(h.port);
    c.raw.write(`L1 LOGIN ${'x'.repeat(5000)}\r\n`);
    expect(await c.response()).toBe('L1 BAD Line too long');
    c.raw.write(`${'y'.repeat(5000)}\r\n`);
    expect(await c.response()).toBe('* BAD Line too long');
    expect((await c.cmd('NOOP')).tagged).toBe('A1 OK Noop completed.');
    c.close();
  });

  it('refuses a synchronising literal that is too large before it is sent, and goes on', async () => {
    const c = await ImapClient.connect(h.port);
    await c.login();
    c.raw.write('T1 APPEND INBOX {10001}\r\n');
    expect(await c.response()).toBe('T1 NO [TOOBIG] Message too large');
    c.raw.write('T2 LOGIN {5000}\r\n');
    expect(await c.response()).toBe('T2 BAD [TOOBIG] Command too large');
    expect((await c.cmd('NOOP')).tagged).toMatch(/OK/);
    c.close();
  });

  it('closes the connection on a non-synchronising literal that is too large (RFC 7888 §4)', async () => {
    const c = await ImapClient.connect(h.port);
    await c.login();
    c.raw.write('T3 APPEND INBOX {99999999+}\r\nFrom: x\r\n');
    expect(await c.response()).toBe('T3 NO [TOOBIG] Message too large');
    expect(await c.response()).toBe('* BYE Too large literal, closing connection.');
    await c.raw.waitClosed();
  });

  it('refuses too deep nesting', async () => {
    const c = await ImapClient.connect(h.port);
    await c.login();
    await c.cmd('SELECT INBOX');
    expect((await c.cmd(`SEARCH ${'('.repeat(40)}ALL${')'.repeat(40)}`)).tagged).toBe(
      'A3 BAD Too deep nesting',
    );
    expect((await c.cmd(`SEARCH ${'('.repeat(30)}ALL${')'.repeat(30)}`)).untagged).toHaveLength(1);
    c.close();
  });
});

describe('pipelining and output', () => {
  it('answers pipelined commands in order', async () => {
    const c = await ImapClient.connect(h.port);
    await c.login();
    let batch = 'P0 SELECT INBOX\r\n';
    for (let i = 1; i <= 50; i++) batch += `P${i} FETCH ${(i % 20) + 1} (UID FLAGS)\r\n`;
    c.raw.write(batch);
    await c.until('P0');
    for (let i = 1; i <= 50; i++) {
      const r = await c.until(`P${i}`);
      expect(r.untagged).toEqual([`* ${(i % 20) + 1} FETCH (UID ${(i % 20) + 1} FLAGS ())`]);
    }
    c.close();
  });

  it('streams large responses to a slow reader', async () => {
    const c = await ImapClient.connect(h.port);
    await c.login();
    await c.cmd('SELECT INBOX');
    c.raw.socket.pause();
    c.raw.write('F1 FETCH 1:* (BODY.PEEK[])\r\nF2 NOOP\r\n');
    await new Promise((r) => setTimeout(r, 100));
    c.raw.socket.resume();
    const r = await c.until('F1');
    expect(r.untagged).toHaveLength(20);
    expect((await c.until('F2')).tagged).toBe('F2 OK Noop completed.');
    c.close();
  });

  it('says BYE to connected clients when the server stops', async () => {
    const h2 = await startHarness();
    const c = await ImapClient.connect(h2.port);
    await c.login();
    const closing = h2.cleanup();
    expect(await c.response()).toBe('* BYE Server shutting down.');
    await closing;
    await c.raw.waitClosed();
  });
});
