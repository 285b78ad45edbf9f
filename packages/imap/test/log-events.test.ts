/**
 * What the IMAP server logs (docs/log-events.md): every line carries an event of the catalogue; a failed
 * LOGIN or AUTHENTICATE is logged with the name typed and the client address, never the password.
 */
import { MailStore } from '@delegato/mailstore';
import {
  ALICE,
  HARNESS_ACCOUNTS,
  LineClient,
  listenOnLoopback,
  mailServerTestOptions,
  tempDir,
} from '@delegato/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapServer } from '../src/server.js';
import { HOSTNAME } from './helpers.js';

/** Recognisable, and never to be found in the log. */
const SECRET = 'Tr0ub4dor-imap-never-logged';

const output: string[] = [];
const lines = () => output.map((l) => JSON.parse(l) as Record<string, unknown>);
const temp = tempDir('delegato-imap-log-');
let store: MailStore;
let server: ImapServer;
let tlsPort: number;

beforeAll(async () => {
  store = await MailStore.open({ dir: temp.path });
  for (const a of HARNESS_ACCOUNTS) await store.ensureUser(a.id);
  const { options } = mailServerTestOptions(HOSTNAME, {});
  const logger = pino({ level: 'trace' }, { write: (line: string) => output.push(line) });
  server = new ImapServer({ ...options, logger, backend: store });
  ({ tlsPort } = await listenOnLoopback(server));
});

afterAll(async () => {
  await server.close();
  await store.close();
  temp.remove();
});

/** Sends a tagged command, returns the tagged reply line. */
async function tagged(c: LineClient, tag: string, line: string): Promise<string> {
  c.write(`${tag} ${line}\r\n`);
  for (;;) {
    const reply = await c.line();
    if (reply.startsWith(`${tag} `)) return reply;
  }
}

describe('IMAP log events', () => {
  it('logs a failed LOGIN and a failed AUTHENTICATE PLAIN with the name and client, never the password', async () => {
    const c = await LineClient.connect(tlsPort, '127.0.0.1', { tls: true });
    expect(await c.line()).toMatch(/^\* OK/);
    expect(await tagged(c, 'a1', `LOGIN ${ALICE.login} "${SECRET}"`)).toMatch(/^a1 NO/);
    const plain = Buffer.from(`\0${ALICE.login}\0${SECRET}`).toString('base64');
    expect(await tagged(c, 'a2', `AUTHENTICATE PLAIN ${plain}`)).toMatch(/^a2 NO/);
    expect(await tagged(c, 'a3', `LOGIN ${ALICE.login} "${ALICE.password}"`)).toMatch(/^a3 OK/);
    expect(await tagged(c, 'a4', 'LOGOUT')).toMatch(/^a4 OK/);
    c.close();
    await new Promise((resolve) => setTimeout(resolve, 50));

    const failed = lines().filter((l) => l.event === 'imap.auth_failed');
    expect(failed).toEqual([
      expect.objectContaining({ user: ALICE.login, client: '127.0.0.1', mechanism: 'LOGIN', level: 30 }),
      expect.objectContaining({ user: ALICE.login, client: '127.0.0.1', mechanism: 'PLAIN', level: 30 }),
    ]);
    expect(lines()).toContainEqual(expect.objectContaining({ event: 'imap.auth', user: ALICE.id }));
    expect(lines()).toContainEqual(expect.objectContaining({ event: 'imap.command', command: 'LOGIN' }));
    const all = output.join('');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(plain);
    expect(all).not.toContain(ALICE.password);
    for (const l of lines()) expect(typeof l.event, JSON.stringify(l)).toBe('string');
  });
});
