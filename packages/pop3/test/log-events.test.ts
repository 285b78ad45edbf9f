/**
 * What the POP3 server logs (docs/log-events.md): every line carries an event of the catalogue; a failed
 * PASS or AUTH is logged with the name typed and the client address, never the password.
 */
import { MailStore } from '@delegato/mailstore';
import { ALICE, HARNESS_ACCOUNTS, listenOnLoopback, mailServerTestOptions, tempDir } from '@delegato/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MaildropLocks } from '../src/maildrop-lock.js';
import { Pop3Server } from '../src/server.js';
import { HOSTNAME, Pop3Client } from './helpers.js';

/** Recognisable, and never to be found in the log. */
const SECRET = 'Tr0ub4dor-pop3-never-logged';

const output: string[] = [];
const lines = () => output.map((l) => JSON.parse(l) as Record<string, unknown>);
const temp = tempDir('delegato-pop3-log-');
let store: MailStore;
let server: Pop3Server;
let tlsPort: number;

beforeAll(async () => {
  store = await MailStore.open({ dir: temp.path });
  for (const a of HARNESS_ACCOUNTS) await store.ensureUser(a.id);
  const { options } = mailServerTestOptions(HOSTNAME, {});
  // Every level, every field: what the appliance writes with DELEGATO_LOG_LEVEL=trace.
  const logger = pino({ level: 'trace' }, { write: (line: string) => output.push(line) });
  server = new Pop3Server({ ...options, logger, locks: new MaildropLocks(), backend: store });
  ({ tlsPort } = await listenOnLoopback(server));
});

afterAll(async () => {
  await server.close();
  await store.close();
  temp.remove();
});

describe('POP3 log events', () => {
  it('logs a failed PASS and a failed AUTH PLAIN with the name and client, never the password', async () => {
    const c = await Pop3Client.connect(tlsPort, { tls: true });
    expect(await c.cmd(`USER ${ALICE.login}`)).toMatch(/^\+OK/);
    expect(await c.cmd(`PASS ${SECRET}`)).toMatch(/^-ERR/);
    const plain = Buffer.from(`\0${ALICE.login}\0${SECRET}`).toString('base64');
    expect(await c.cmd(`AUTH PLAIN ${plain}`)).toMatch(/^-ERR/);
    expect(await c.login(ALICE)).toMatch(/^\+OK/);
    expect(await c.cmd('QUIT')).toMatch(/^\+OK/);
    c.close();
    await new Promise((resolve) => setTimeout(resolve, 50));

    const failed = lines().filter((l) => l.event === 'pop3.auth_failed');
    expect(failed).toEqual([
      expect.objectContaining({ user: ALICE.login, client: '127.0.0.1', mechanism: 'USER', level: 30 }),
      expect.objectContaining({ user: ALICE.login, client: '127.0.0.1', mechanism: 'PLAIN', level: 30 }),
    ]);
    expect(lines()).toContainEqual(expect.objectContaining({ event: 'pop3.auth', user: ALICE.id }));
    expect(lines()).toContainEqual(expect.objectContaining({ event: 'pop3.command', command: 'PASS' }));
    const all = output.join('');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(plain);
    expect(all).not.toContain(ALICE.password);
    // Every line names its event (the catalogue's rule 2, at run time).
    for (const l of lines()) expect(typeof l.event, JSON.stringify(l)).toBe('string');
  });
});
