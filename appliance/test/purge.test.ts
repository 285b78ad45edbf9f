/**
 * Removal keeps mail for the retention period, then the purge job deletes the mailbox and its mail;
 * `mailbox remove --purge` does both at once (through the same command table the control socket runs).
 */
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Actor } from '@delegato/directory';
import { createLogger } from '@delegato/observability';
import { ALL_PORTS_ZERO, LineClient, tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningAppliance, startAppliance } from '../src/appliance.js';
import { executeCommand } from '../src/cli/commands.js';
import { loadConfig } from '../src/config/load.js';

const OP: Actor = { kind: 'operator', name: 'test', from: 'local' };
const dir = tempDir('delegato-purge-');
let app: RunningAppliance;

async function deliverTo(address: string): Promise<void> {
  const port = app.listeners.find((l) => l.name === 'smtp')?.port ?? 0;
  const c = await LineClient.connect(port);
  await c.smtpReply();
  await c.smtp('EHLO t.example');
  await c.smtp('MAIL FROM:<a@outside.example>');
  expect((await c.smtp(`RCPT TO:<${address}>`)).code).toBe(250);
  await c.smtp('DATA');
  expect((await c.smtp('Subject: keep me\r\n\r\nbody\r\n.')).code).toBe(250);
  c.close();
}

beforeAll(async () => {
  const config = loadConfig({
    env: {
      ...ALL_PORTS_ZERO,
      // Message authentication at the MX is tested in message-auth-inbound.test.ts.
      DELEGATO_AUTH_INBOUND: 'false',
      DELEGATO_DATA_DIR: join(dir.path, 'var'),
      DELEGATO_DIRECTORY_RETENTION_DAYS: '0',
    },
    cwd: dir.path,
  });
  app = await startAppliance(config, {
    out: new PassThrough(),
    env: { DELEGATO_OPERATOR_PASSWORD: 'operator-test-pw' },
    logger: createLogger({ level: 'warn', destination: new PassThrough() }),
  });
  await app.directory.addDomain(OP, 'iat.example');
}, 60_000);

afterAll(async () => {
  await app?.stop();
  dir.remove();
});

describe('removal and purge', () => {
  it('a removed mailbox keeps its mail until the purge job runs after the retention period', async () => {
    await app.directory.addMailbox(OP, { domain: 'iat.example', kind: 'role', localPart: 'old' });
    const id = (await app.directory.resolveLogin('old@iat.example'))?.id as string;
    await deliverTo('old@iat.example');
    expect((await app.store.quota(id)).messages).toBe(1);

    await app.directory.removeMailbox(OP, 'old@iat.example');
    expect((await app.directory.lookupRecipient('old@iat.example')).kind).toBe('disabled');
    expect((await app.store.quota(id)).messages).toBe(1); // kept until purged

    const purged = (await app.scheduler.runNow('purge-removed')) as Array<{ address: string }>;
    expect(purged.map((p) => p.address)).toEqual(['old@iat.example']);
    expect((await app.directory.lookupRecipient('old@iat.example')).kind).toBe('unknown');
    await expect(app.store.quota(id)).rejects.toThrow(/no such user/);
  });

  it('mailbox remove --purge deletes the mail at once', async () => {
    await app.directory.addMailbox(OP, { domain: 'iat.example', kind: 'role', localPart: 'now' });
    const id = (await app.directory.resolveLogin('now@iat.example'))?.id as string;
    await deliverTo('now@iat.example');
    const res = await executeCommand(['mailbox', 'remove', 'now@iat.example', '--purge'], {
      directory: app.directory,
      actor: OP,
      purgeMail: async (ids) => {
        for (const i of ids) await app.store.purgeUser(i);
      },
    });
    expect(res).toMatchObject({ code: 0, stdout: 'purged now@iat.example\n' });
    await expect(app.store.quota(id)).rejects.toThrow(/no such user/);
  });
});
