/**
 * A real client library (imapflow) against the server: login, list, select, fetch of every item, flags,
 * copy/move, append, expunge, IDLE across two sessions, CONDSTORE/QRESYNC, QUOTA, STARTTLS.
 */

import { ALICE, BOB, type TestAccount, waitFor } from '@delegato/testkit';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORWARD, NESTED } from './corpus.js';
import { type Harness, message, startHarness } from './helpers.js';

let h: Harness;
const clients: ImapFlow[] = [];

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  for (const c of clients) c.close();
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

/** A value the client library may answer with `false`: fails the test then. */
function must<T>(value: T | false | null | undefined): T {
  if (value === false || value === null || value === undefined) throw new Error('unexpected empty answer');
  return value;
}

async function client(account: TestAccount = ALICE, opts: Partial<ImapFlowOptions> = {}): Promise<ImapFlow> {
  const c = new ImapFlow({
    host: '127.0.0.1',
    port: h.port,
    secure: false,
    auth: { user: account.login, pass: account.password },
    logger: false,
    tls: { rejectUnauthorized: false },
    ...opts,
  });
  c.on('error', () => undefined);
  clients.push(c);
  await c.connect();
  return c;
}

describe('imapflow', () => {
  it('logs in (with STARTTLS) and lists folders with special-use flags', async () => {
    const c = await client(ALICE, { doSTARTTLS: true } as Partial<ImapFlowOptions>);
    expect(c.secureConnection || c.usable).toBeTruthy();
    await c.mailboxCreate(['Projects', 'Alpha']);
    const list = await c.list();
    const byPath = new Map(list.map((f) => [f.path, f]));
    expect([...byPath.keys()]).toEqual(
      expect.arrayContaining(['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk', 'Projects', 'Projects/Alpha']),
    );
    expect(byPath.get('Sent')?.specialUse).toBe('\\Sent');
    expect(byPath.get('Trash')?.specialUse).toBe('\\Trash');
    expect(byPath.get('Projects')?.delimiter).toBe('/');
    const tree = await c.listTree();
    expect(
      tree.folders?.some((f) => f.path === 'Projects' && f.folders?.[0]?.path === 'Projects/Alpha'),
    ).toBe(true);
    await c.mailboxRename('Projects/Alpha', 'Projects/Beta');
    await c.mailboxDelete('Projects/Beta');
    expect((await c.list()).map((f) => f.path)).not.toContain('Projects/Beta');
    await c.logout();
  });

  it('fetches every item of a nested message', async () => {
    const uid = await h.deliver(ALICE, NESTED);
    await h.deliver(ALICE, FORWARD);
    const c = await client();
    const box = await c.mailboxOpen('INBOX');
    expect(box.exists).toBeGreaterThanOrEqual(2);
    const m = await c.fetchOne(
      String(uid),
      {
        uid: true,
        flags: true,
        envelope: true,
        bodyStructure: true,
        internalDate: true,
        size: true,
        source: true,
        headers: ['subject', 'from'],
        bodyParts: ['1.1', '2', 'TEXT'],
      },
      { uid: true },
    );
    if (!m) throw new Error('not fetched');
    expect(m.uid).toBe(uid);
    expect(m.size).toBe(NESTED.length);
    expect(m.source?.toString('latin1')).toBe(NESTED);
    expect(m.envelope?.subject).toBe('Grüße aus Köln');
    expect(m.envelope?.from?.[0]).toEqual({ name: 'Jörg Müller', address: 'joerg@example.test' });
    expect(m.envelope?.messageId).toBe('<nested@example.test>');
    expect(m.bodyStructure?.type).toBe('multipart/mixed');
    expect(m.bodyStructure?.childNodes?.[0]?.childNodes?.[1]?.type).toBe('text/html');
    expect(m.headers?.toString()).toMatch(/^From: .*\r\nSubject: .*\r\n\r\n$/);
    expect(m.bodyParts?.get('1.1')?.toString()).toBe('Gr=C3=BC=C3=9Fe, sch=C3=B6ne Welt=\r\n!');
    expect(m.bodyParts?.get('2')?.toString()).toBe('JVBERi0xLjQK');
    expect(m.internalDate).toBeInstanceOf(Date);
    // Downloads decode the transfer encoding and the charset.
    const part = await c.download(String(uid), '1.2', { uid: true });
    const chunks: Buffer[] = [];
    if (!part.content) throw new Error('part not found');
    for await (const chunk of part.content) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('<p>Grüße, schöne Welt!</p>');
    // Every message of the mailbox parses.
    const all = await c.fetchAll('1:*', { envelope: true, bodyStructure: true, flags: true });
    expect(all.length).toBe(box.exists);
    await c.logout();
  });

  it('sets flags, searches, copies, moves, appends, deletes', async () => {
    const c = await client(BOB);
    await c.mailboxCreate('Work');
    for (let i = 0; i < 4; i++) await h.deliver(BOB, message(`bob ${i}`));
    await c.mailboxOpen('INBOX');
    expect(await c.messageFlagsAdd('1:2', ['\\Flagged', '$Todo'])).toBe(true);
    expect(await c.messageFlagsRemove('2', ['$Todo'])).toBe(true);
    const flags = await c.fetchAll('1:2', { flags: true });
    expect([...(flags[0]?.flags ?? [])].sort()).toEqual(['$Todo', '\\Flagged']);
    expect([...(flags[1]?.flags ?? [])]).toEqual(['\\Flagged']);
    expect(await c.search({ flagged: true })).toEqual([1, 2]);
    expect(await c.search({ subject: 'bob 3' })).toEqual([4]);
    expect(await c.search({ keyword: '$Todo' }, { uid: true })).toEqual([1]);
    const copied = await c.messageCopy('1:2', 'Work');
    expect(must(copied).uidMap?.size).toBe(2);
    const moved = await c.messageMove('3', 'Work');
    expect(moved && [...(moved.uidMap?.entries() ?? [])]).toEqual([[3, 3]]);
    expect(must(c.mailbox).exists).toBe(3);
    const appended = await c.append(
      'Work',
      message('appended'),
      ['\\Seen'],
      new Date('2024-01-02T03:04:05Z'),
    );
    expect(must(appended).uid).toBe(4);
    expect(await c.messageDelete('1', { uid: false })).toBe(true);
    expect(must(c.mailbox).exists).toBe(2);
    const status = await c.status('Work', {
      messages: true,
      unseen: true,
      uidNext: true,
      highestModseq: true,
    });
    expect(must(status).messages).toBe(4);
    expect(must(status).unseen).toBe(3);
    expect(must(status).uidNext).toBe(5);
    await c.logout();
  });

  it('IDLE across two sessions: new mail, flag changes and expunges arrive as events', async () => {
    await h.store.createFolder(ALICE.id, 'Idle');
    await h.deliver(ALICE, message('idle 1'), 'Idle');
    await h.deliver(ALICE, message('idle 2'), 'Idle');
    const watcher = await client();
    const actor = await client();
    await watcher.mailboxOpen('Idle');
    const exists: number[] = [];
    const expunged: number[] = [];
    const flagged: number[] = [];
    watcher.on('exists', (e: { count: number }) => exists.push(e.count));
    watcher.on('expunge', (e: { seq?: number }) => expunged.push(e.seq ?? -1));
    watcher.on('flags', (e: { seq: number }) => flagged.push(e.seq));
    const idling = watcher.idle();
    await new Promise((r) => setTimeout(r, 100));
    await actor.append('Idle', message('idle 3'));
    await waitFor(() => exists.includes(3));
    await actor.mailboxOpen('Idle');
    await actor.messageFlagsAdd('1', ['\\Seen']);
    await waitFor(() => flagged.includes(1));
    await actor.messageDelete('2');
    await waitFor(() => expunged.includes(2));
    await watcher.noop();
    await idling;
    expect(must(watcher.mailbox).exists).toBe(2);
    await actor.logout();
    await watcher.logout();
  });

  it('CONDSTORE and QRESYNC', async () => {
    await h.store.createFolder(ALICE.id, 'Sync');
    for (let i = 0; i < 3; i++) await h.deliver(ALICE, message(`sync ${i}`), 'Sync');
    const c = await client(ALICE, { qresync: true } as Partial<ImapFlowOptions>);
    const box = await c.mailboxOpen('Sync');
    expect(c.enabled.has('QRESYNC') || c.enabled.has('CONDSTORE')).toBe(true);
    const modseq = box.highestModseq as bigint;
    expect(typeof modseq).toBe('bigint');
    const other = await client();
    await other.mailboxOpen('Sync');
    await other.messageFlagsAdd('2', ['\\Answered']);
    await c.noop();
    const changed = await c.fetchAll('1:*', { flags: true, uid: true }, { changedSince: modseq });
    expect(changed.map((m) => m.uid)).toEqual([2]);
    expect(typeof changed[0]?.modseq).toBe('bigint');
    const vanished: number[] = [];
    c.on('expunge', (e: { uid?: number; vanished: boolean }) => {
      if (e.vanished && e.uid) vanished.push(e.uid);
    });
    await other.messageDelete('3');
    await c.noop();
    await waitFor(() => vanished.includes(3));
    await other.logout();
    await c.logout();
  });

  it('reports the quota', async () => {
    await h.deliver(ALICE, message('quota'));
    h.quotas.set(ALICE.id, 10 * 1024 * 1024);
    const c = await client();
    const q = await c.getQuota('INBOX');
    expect(must(q).storage?.limit).toBe(10 * 1024 * 1024);
    expect(must(q).storage?.usage ?? 0).toBeGreaterThan(0);
    await c.logout();
    h.quotas.delete(ALICE.id);
  });
});
