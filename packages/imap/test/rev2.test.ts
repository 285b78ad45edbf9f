/**
 * IMAP4rev2 mode (RFC 9051, after ENABLE IMAP4rev2), ESEARCH (RFC 4731) and SEARCHRES (RFC 5182).
 */

import { CAROL } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, ImapClient, message, startHarness } from './helpers.js';

/** What the line client (which reads bytes as latin1) sees of UTF-8 text. */
const latin1 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.store.createFolder(CAROL.id, 'S');
  for (const s of ['apple', 'banana', 'cherry', 'apple pie']) await h.deliver(CAROL, message(s), 'S');
  await h.store.storeFlags(CAROL.id, 'S', [1, 3], 'add', ['\\Flagged']);
});
afterAll(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

async function session(): Promise<ImapClient> {
  const c = await ImapClient.connect(h.port);
  await c.login(CAROL);
  return c;
}

describe('ESEARCH (RFC 4731)', () => {
  it('answers RETURN (MIN MAX ALL COUNT), UID variants, empty results', async () => {
    const c = await session();
    await c.cmd('SELECT S');
    expect(await c.cmd('SEARCH RETURN (MIN MAX ALL COUNT) FLAGGED', { tag: 'E1' })).toEqual({
      untagged: ['* ESEARCH (TAG "E1") MIN 1 MAX 3 ALL 1,3 COUNT 2'],
      continuations: [],
      tagged: 'E1 OK Search completed.',
    });
    expect((await c.cmd('UID SEARCH RETURN () SUBJECT apple', { tag: 'E2' })).untagged).toEqual([
      '* ESEARCH (TAG "E2") UID ALL 1,4',
    ]);
    expect((await c.cmd('SEARCH RETURN (COUNT MIN) SUBJECT kiwi', { tag: 'E3' })).untagged).toEqual([
      '* ESEARCH (TAG "E3") COUNT 0',
    ]);
    expect((await c.cmd('SEARCH RETURN (MODSEQ) ALL')).tagged).toMatch(/BAD Invalid search return option/);
    // The first MODSEQ key turns CONDSTORE on: HIGHESTMODSEQ first (RFC 7162 §3.1.2.1).
    const e5 = (await c.cmd('SEARCH RETURN (COUNT) MODSEQ 1', { tag: 'E5' })).untagged;
    expect(e5[0]).toMatch(/^\* OK \[HIGHESTMODSEQ \d+\] /);
    expect(e5[1]).toMatch(/^\* ESEARCH \(TAG "E5"\) COUNT 4 MODSEQ \d+$/);
    c.close();
  });
});

describe('SEARCHRES (RFC 5182)', () => {
  it('SAVE keeps the result in $ for FETCH, STORE, SEARCH, COPY; SELECT forgets it', async () => {
    const c = await session();
    await c.cmd('SELECT S');
    expect((await c.cmd('SEARCH RETURN (SAVE) SUBJECT apple')).untagged).toEqual([]);
    expect((await c.cmd('FETCH $ (UID)')).untagged).toEqual(['* 1 FETCH (UID 1)', '* 4 FETCH (UID 4)']);
    expect((await c.cmd('UID STORE $ +FLAGS.SILENT ($Fruit)')).tagged).toMatch(/OK/);
    expect((await c.cmd('SEARCH KEYWORD $Fruit')).untagged).toEqual(['* SEARCH 1 4']);
    expect((await c.cmd('SEARCH $ FLAGGED')).untagged).toEqual(['* SEARCH 1']);
    expect((await c.cmd('UID SEARCH NOT UID $')).untagged).toEqual(['* SEARCH 2 3']);
    expect((await c.cmd('SEARCH RETURN (SAVE MIN MAX) SUBJECT a', { tag: 'R1' })).untagged).toEqual([
      '* ESEARCH (TAG "R1") MIN 1 MAX 4',
    ]);
    expect((await c.cmd('COPY $ Trash')).tagged).toMatch(/OK \[COPYUID \d+ 1,4 \d+:\d+\]/);
    await c.cmd('SELECT S');
    expect((await c.cmd('FETCH $ UID')).untagged).toEqual([]);
    c.close();
  });
});

describe('IMAP4rev2 (RFC 9051)', () => {
  it('is advertised with IMAP4rev1 and enabled by ENABLE', async () => {
    const c = await session();
    expect(c.greeting).toContain('IMAP4rev1 IMAP4rev2');
    expect((await c.cmd('ENABLE IMAP4rev2')).untagged).toEqual(['* ENABLED IMAP4rev2']);
    c.close();
  });

  it('SELECT sends LIST instead of RECENT and UNSEEN; SEARCH answers ESEARCH', async () => {
    const c = await session();
    await c.cmd('ENABLE IMAP4rev2');
    const r = await c.cmd('SELECT S');
    expect(r.untagged).toContain('* LIST (\\HasNoChildren) "/" "S"');
    expect(r.untagged.some((l) => / RECENT$/.test(l) || l.includes('[UNSEEN'))).toBe(false);
    expect((await c.cmd('SEARCH FLAGGED', { tag: 'S1' })).untagged).toEqual(['* ESEARCH (TAG "S1") ALL 1,3']);
    expect((await c.cmd('UID SEARCH SUBJECT kiwi', { tag: 'S2' })).untagged).toEqual([
      '* ESEARCH (TAG "S2") UID',
    ]);
    c.close();
  });

  it('mailbox names are UTF-8, not modified UTF-7', async () => {
    const c = await session();
    await c.cmd('ENABLE IMAP4rev2');
    expect((await c.cmd('CREATE "Tom & Jerry/Entwürfe"')).tagged).toMatch(/OK/);
    expect((await c.cmd('LIST "" "Tom*"')).untagged).toEqual([
      '* LIST (\\HasChildren) "/" "Tom & Jerry"',
      latin1('* LIST (\\HasNoChildren) "/" "Tom & Jerry/Entwürfe"'),
    ]);
    expect((await c.cmd('STATUS "Tom & Jerry/Entwürfe" (MESSAGES)')).untagged).toEqual([
      latin1('* STATUS "Tom & Jerry/Entwürfe" (MESSAGES 0)'),
    ]);
    c.close();
    // The same names for a client that did not enable IMAP4rev2.
    const d = await session();
    expect((await d.cmd('LIST "" "Tom*"')).untagged).toEqual([
      '* LIST (\\HasChildren) "/" "Tom &- Jerry"',
      '* LIST (\\HasNoChildren) "/" "Tom &- Jerry/Entw&APw-rfe"',
    ]);
    d.close();
  });
});
