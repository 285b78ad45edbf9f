/**
 * `delegato list ...` (issue 19) the way the CLI runs it while the appliance runs: over the control
 * socket to the appliance in this process (ports 0, real data dir), which runs the command table; and the
 * same table on the data dir with no appliance reachable (a decision recorded, then sent by the MTA).
 * Exit status and output as docs/cli.md says: 0 with the result (text or --json), 2 with one
 * `delegato: ...` line for bad input.
 */
import { LineClient, tempDir, waitFor } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { EXIT_OK, EXIT_USAGE, executeCommand } from '../src/cli/commands.js';
import type { Config } from '../src/config/schema.js';
import { sendControlRequest } from '../src/control/client.js';
import { controlSocketPath } from '../src/control/paths.js';
import { dataPaths } from '../src/data-dir.js';
import { offlineModeration } from '../src/services/lists.js';
import { startApplianceWith, TEST_OPERATOR, testConfig } from './appliance-support.js';

const D = 'iat.example';
const LIST = `staff@${D}`;
const work = tempDir('delegato-lists-cli-');
let config: Config;
let app: RunningAppliance;

/** One CLI command through the control socket, as `delegato` sends it to a running appliance. */
function cli(...argv: string[]) {
  return sendControlRequest(controlSocketPath(config.data.dir), dataPaths(config.data.dir).controlToken, {
    user: 'test',
    argv,
  });
}

function usageError(r: { code: number; stdout: string; stderr: string }, mention: RegExp) {
  expect(r).toEqual({
    code: EXIT_USAGE,
    stdout: '',
    stderr: expect.stringMatching(/^delegato: \S[^\n]*\n$/),
  });
  expect(r.stderr).toMatch(mention);
}

async function post(from: string, subject: string): Promise<number> {
  const c = await LineClient.connect(app.listeners.find((l) => l.name === 'smtp')?.port ?? 0);
  try {
    await c.smtpReply();
    await c.smtp('EHLO client.example');
    await c.smtp(`MAIL FROM:<${from}>`);
    expect((await c.smtp(`RCPT TO:<${LIST}>`)).code).toBe(250);
    await c.smtp('DATA');
    const r = await c.smtp(`From: <${from}>\r\nSubject: ${subject}\r\n\r\nHello ${subject}.\r\n.`);
    await c.smtp('QUIT');
    return r.code;
  } finally {
    c.close();
  }
}

async function inboxHas(address: string, text: string): Promise<boolean> {
  const id = (await app.directory.resolveLogin(address))?.id ?? '';
  await app.store.ensureUser(id);
  const snap = await app.store.snapshot(id, 'INBOX');
  for (const m of snap.messages) {
    const chunks: Buffer[] = [];
    for await (const c of await app.store.openMessage(id, 'INBOX', m.uid)) chunks.push(c as Buffer);
    if (Buffer.concat(chunks).toString('utf8').includes(text)) return true;
  }
  return false;
}

beforeAll(async () => {
  config = testConfig(work.path);
  app = await startApplianceWith(config, 'operator-test-pw');
  await app.directory.addDomain(TEST_OPERATOR, D);
  for (const [firstName, lastName] of [
    ['Rose', 'Pinkcheeks'],
    ['Mario', 'Rossi'],
  ] as const) {
    await app.directory.addMailbox(TEST_OPERATOR, { domain: D, kind: 'personal', firstName, lastName });
  }
}, 60_000);

afterAll(async () => {
  await app?.stop();
  work.remove();
});

describe('delegato list', () => {
  it('creates a list, changes its members, shows it, and refuses bad input with exit 2', async () => {
    const made = await cli('list', 'create', LIST, '--owner', `pinkcheeks@${D}`, '--moderated', '--json');
    expect(made.code, made.stderr).toBe(EXIT_OK);
    expect(JSON.parse(made.stdout)).toMatchObject({
      address: LIST,
      owner: `rose.pinkcheeks@${D}`,
      senders: 'members',
      moderated: true,
      members: [],
    });
    const added = await cli('list', 'member', 'add', LIST, `mario.rossi@${D}`, 'ext@remote.example');
    expect(added).toEqual({ code: EXIT_OK, stdout: `${LIST}: 2 member(s) added; 2 now\n`, stderr: '' });
    const removed = await cli('list', 'member', 'remove', LIST, 'ext@remote.example');
    expect(removed.stdout).toBe(`${LIST}: 1 member(s) removed; 1 now\n`);
    const set = await cli('list', 'set', LIST, '--senders', 'domain', '--unmoderated', '--json');
    expect(JSON.parse(set.stdout)).toMatchObject({ senders: 'domain', moderated: false });
    expect((await cli('list', 'set', LIST, '--senders', 'members', '--moderated')).code).toBe(EXIT_OK);
    usageError(await cli('list', 'set', LIST), /give --owner/);
    usageError(await cli('list', 'set', LIST, '--owner', `nobody@${D}`), /owner/);
    const shown = await cli('list', 'show', LIST);
    expect(shown.stdout).toContain(`owner rose.pinkcheeks@${D}`);
    expect(shown.stdout).toContain('moderated: posts wait for the owner');
    expect(shown.stdout).toContain(`    mario.rossi@${D}`);

    usageError(await cli('list', 'create', `other@${D}`), /--owner/);
    usageError(
      await cli('list', 'create', `other@${D}`, '--owner', `pinkcheeks@${D}`, '--senders', 'x'),
      /--senders/,
    );
    usageError(await cli('list', 'create', `other@${D}`, '--owner', 'nobody@elsewhere.example'), /owner/);
    usageError(await cli('list', 'show', `nolist@${D}`), /no list/);
    usageError(await cli('list', 'member', 'remove', LIST, 'never@remote.example'), /not a member/);
    usageError(await cli('list', 'approve', LIST, '01ARZ3NDEKTSV4RRFFQ69G5FAV'), /no held message/);
  });

  it('lists held posts, approves and rejects them', async () => {
    expect(await post(`mario.rossi@${D}`, 'First post')).toBe(250);
    expect(await post(`mario.rossi@${D}`, 'Second post')).toBe(250);
    const pending = await cli('list', 'pending', LIST, '--json');
    const posts = JSON.parse(pending.stdout) as Array<{ id: string; subject: string; token?: string }>;
    expect(posts.map((p) => p.subject)).toEqual(['First post', 'Second post']);
    expect(posts.every((p) => p.token === undefined)).toBe(true);
    expect((await cli('list', 'pending', LIST)).stdout).toContain('First post');

    const first = posts[0]?.id ?? '';
    const approved = await cli('list', 'approve', LIST, first);
    expect(approved).toEqual({
      code: EXIT_OK,
      stdout: `${first} approved: it goes to the members\n`,
      stderr: '',
    });
    await waitFor(() => inboxHas(`mario.rossi@${D}`, 'Hello First post.'), 10_000);
    const rejected = await cli('list', 'reject', LIST, posts[1]?.id ?? '');
    expect(rejected.stdout).toContain('rejected: the poster is told');
    await waitFor(() => inboxHas(`mario.rossi@${D}`, 'was rejected by the list'), 10_000);
    expect(await inboxHas(`mario.rossi@${D}`, 'Hello Second post.')).toBe(false);
    expect((await cli('list', 'pending', LIST)).stdout).toBe('(nothing held)\n');
  });

  it('with no appliance reachable, a decision is recorded in the data dir and sent by the MTA later', async () => {
    expect(await post(`mario.rossi@${D}`, 'Offline post')).toBe(250);
    const [held] = await app.lists.moderation.pending(LIST);
    // The command table on the data dir, as `delegato` runs it when the control socket does not answer.
    const r = await executeCommand(['list', 'approve', LIST, held?.id ?? ''], {
      directory: app.directory,
      actor: TEST_OPERATOR,
      lists: async () => offlineModeration(config),
    });
    expect(r.code, r.stderr).toBe(EXIT_OK);
    expect((await app.lists.moderation.store.get(held?.id ?? ''))?.state).toBe('pending');
    expect(await inboxHas(`mario.rossi@${D}`, 'Hello Offline post.')).toBe(false);
    // What the appliance does at its next start (ListService.open): send what was decided.
    await app.lists.process();
    expect(await inboxHas(`mario.rossi@${D}`, 'Hello Offline post.')).toBe(true);
  });

  it('list remove removes a built-in list and a distribution-list alias alike', async () => {
    expect((await cli('list', 'add', `alias@${D}`, 'alias@lists.example')).code).toBe(EXIT_OK);
    expect(await cli('list', 'remove', `alias@${D}`)).toEqual({
      code: EXIT_OK,
      stdout: `removed alias@${D}\n`,
      stderr: '',
    });
    expect(await cli('list', 'remove', LIST, '--json')).toEqual({
      code: EXIT_OK,
      stdout: `${JSON.stringify({ address: LIST, removed: true }, null, 2)}\n`,
      stderr: '',
    });
    expect(await app.directory.lookupList(LIST)).toBeNull();
    usageError(await cli('list', 'remove', LIST), /no alias/);
  });
});
