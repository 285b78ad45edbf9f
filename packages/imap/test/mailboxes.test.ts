/**
 * Mailbox commands over raw sockets: LIST (patterns, special-use, children, LIST-EXTENDED, LIST-STATUS),
 * LSUB, CREATE, DELETE, RENAME (INBOX too), SUBSCRIBE, STATUS, SELECT/EXAMINE, APPEND, quota.
 */

import { ALICE, BOB, CAROL } from '@delegato/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, ImapClient, message, startHarness } from './helpers.js';

let h: Harness;
let c: ImapClient;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

async function fresh(account = ALICE): Promise<ImapClient> {
  const client = await ImapClient.connect(h.port);
  await client.login(account);
  return client;
}

describe('LIST and LSUB (RFC 9051 §6.3.9, RFC 5258, RFC 6154, RFC 3348)', () => {
  beforeEach(async () => {
    c = await fresh(BOB);
  });

  it('lists the default folders with special-use and children attributes', async () => {
    const r = await c.cmd('LIST "" "*"');
    expect(r.untagged).toEqual([
      '* LIST (\\HasNoChildren) "/" "INBOX"',
      '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"',
      '* LIST (\\HasNoChildren \\Junk) "/" "Junk"',
      '* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
      '* LIST (\\HasNoChildren \\Trash) "/" "Trash"',
    ]);
    expect(r.tagged).toBe('A2 OK List completed.');
    expect((await c.cmd('LIST "" ""')).untagged).toEqual(['* LIST (\\Noselect) "/" ""']);
    expect((await c.cmd('LIST "" inbox')).untagged).toEqual(['* LIST (\\HasNoChildren) "/" "INBOX"']);
    c.close();
  });

  it('creates parents, matches % per level, lists missing parents as \\Noselect', async () => {
    expect((await c.cmd('CREATE Projects/2024/Q1/')).tagged).toBe('A2 OK Create completed.');
    await h.store.createFolder(BOB.id, 'Orphan');
    await h.store.createFolder(BOB.id, 'Orphan/child');
    await h.store.deleteFolder(BOB.id, 'Orphan');
    expect((await c.cmd('LIST "" "Projects*"')).untagged).toEqual([
      '* LIST (\\HasChildren) "/" "Projects"',
      '* LIST (\\HasChildren) "/" "Projects/2024"',
      '* LIST (\\HasNoChildren) "/" "Projects/2024/Q1"',
    ]);
    expect((await c.cmd('LIST "" %')).untagged).toContain('* LIST (\\HasChildren) "/" "Projects"');
    expect((await c.cmd('LIST "" %')).untagged).toContain('* LIST (\\Noselect \\HasChildren) "/" "Orphan"');
    expect((await c.cmd('LIST Projects/ %')).untagged).toEqual([
      '* LIST (\\HasChildren) "/" "Projects/2024"',
    ]);
    expect((await c.cmd('LIST "" Projects/%/%')).untagged).toEqual([
      '* LIST (\\HasNoChildren) "/" "Projects/2024/Q1"',
    ]);
    // LIST-EXTENDED spells a missing parent \NonExistent (RFC 5258 §3.4).
    expect((await c.cmd('LIST "" (Orphan)')).untagged).toEqual([
      '* LIST (\\NonExistent \\HasChildren) "/" "Orphan"',
    ]);
    c.close();
  });

  it('sends and reads names in modified UTF-7 (RFC 3501 §5.1.3)', async () => {
    expect((await c.cmd('CREATE "Entw&APw-rfe/&ZeVnLIqe-"')).tagged).toMatch(/OK/);
    expect((await c.cmd('LIST "" "Entw&APw-rfe*"')).untagged).toEqual([
      '* LIST (\\HasChildren) "/" "Entw&APw-rfe"',
      '* LIST (\\HasNoChildren) "/" "Entw&APw-rfe/&ZeVnLIqe-"',
    ]);
    expect((await h.store.listFolders(BOB.id)).map((f) => f.name)).toContain('Entwürfe/日本語');
    expect((await c.cmd('SELECT "Entw&APw-rfe/&ZeVnLIqe-"')).tagged).toMatch(/OK \[READ-WRITE\]/);
    expect((await c.cmd('CREATE "bad&-mutf7&Jjo"')).tagged).toMatch(/NO \[CANNOT\]/);
    c.close();
  });

  it('SUBSCRIBE, LSUB, LIST (SUBSCRIBED RECURSIVEMATCH), RETURN (SUBSCRIBED SPECIAL-USE STATUS)', async () => {
    await c.cmd('CREATE Lists/dev');
    await c.cmd('CREATE Lists/ops');
    expect((await c.cmd('SUBSCRIBE Lists/dev')).tagged).toMatch(/OK Subscribe completed/);
    expect((await c.cmd('LSUB "" "Lists*"')).untagged).toEqual(['* LSUB () "/" "Lists/dev"']);
    expect((await c.cmd('LSUB "" "%"')).untagged).toContain('* LSUB (\\Noselect) "/" "Lists"');
    expect((await c.cmd('LIST (SUBSCRIBED) "" "Lists*"')).untagged).toEqual([
      '* LIST (\\HasNoChildren \\Subscribed) "/" "Lists/dev"',
    ]);
    expect((await c.cmd('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')).untagged).toContain(
      '* LIST (\\HasChildren) "/" "Lists" ("CHILDINFO" ("SUBSCRIBED"))',
    );
    expect((await c.cmd('LIST (SPECIAL-USE) "" "*"')).untagged).toEqual([
      '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"',
      '* LIST (\\HasNoChildren \\Junk) "/" "Junk"',
      '* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
      '* LIST (\\HasNoChildren \\Trash) "/" "Trash"',
    ]);
    await h.deliver(BOB, message('status'));
    const r = await c.cmd('LIST "" INBOX RETURN (SUBSCRIBED STATUS (MESSAGES UNSEEN))');
    expect(r.untagged).toEqual([
      '* LIST (\\HasNoChildren \\Subscribed) "/" "INBOX"',
      '* STATUS "INBOX" (MESSAGES 1 UNSEEN 1)',
    ]);
    expect((await c.cmd('UNSUBSCRIBE Lists/dev')).tagged).toMatch(/OK/);
    expect((await c.cmd('LSUB "" "Lists*"')).untagged).toEqual([]);
    expect((await c.cmd('SUBSCRIBE Nope')).tagged).toMatch(/NO \[NONEXISTENT\]/);
    expect((await c.cmd('LIST (RECURSIVEMATCH) "" "*"')).tagged).toMatch(/BAD/);
    c.close();
  });
});

describe('CREATE, DELETE, RENAME (RFC 9051 §6.3.4–6)', () => {
  beforeEach(async () => {
    c = await fresh(CAROL);
  });

  it('refuses duplicates, INBOX and invalid names with response codes', async () => {
    expect((await c.cmd('CREATE Work')).tagged).toBe('A2 OK Create completed.');
    expect((await c.cmd('CREATE Work')).tagged).toBe('A3 NO [ALREADYEXISTS] Mailbox already exists');
    expect((await c.cmd('CREATE inbox')).tagged).toBe('A4 NO [ALREADYEXISTS] Mailbox already exists');
    expect((await c.cmd('CREATE "a//b"')).tagged).toBe('A5 NO [CANNOT] Invalid mailbox name');
    expect((await c.cmd('DELETE INBOX')).tagged).toBe('A6 NO [CANNOT] INBOX cannot be deleted.');
    expect((await c.cmd('DELETE Nope')).tagged).toBe("A7 NO [NONEXISTENT] Mailbox doesn't exist");
    expect((await c.cmd('DELETE Work')).tagged).toBe('A8 OK Delete completed.');
    expect((await c.cmd('SELECT Work')).tagged).toBe("A9 NO [NONEXISTENT] Mailbox doesn't exist");
    c.close();
  });

  it('renames with inferiors; RENAME INBOX moves its messages and leaves it empty', async () => {
    await c.cmd('CREATE Old/sub');
    expect((await c.cmd('RENAME Old New/Place')).tagged).toMatch(/OK Rename completed/);
    expect((await c.cmd('LIST "" "New*"')).untagged).toEqual([
      '* LIST (\\HasChildren) "/" "New"',
      '* LIST (\\HasChildren) "/" "New/Place"',
      '* LIST (\\HasNoChildren) "/" "New/Place/sub"',
    ]);
    expect((await c.cmd('RENAME Missing X')).tagged).toMatch(/NO \[NONEXISTENT\]/);
    expect((await c.cmd('RENAME New/Place Sent')).tagged).toMatch(/NO \[ALREADYEXISTS\]/);
    await h.deliver(CAROL, message('one'));
    await h.deliver(CAROL, message('two'));
    expect((await c.cmd('RENAME INBOX Archive')).tagged).toMatch(/OK/);
    expect((await c.cmd('STATUS INBOX (MESSAGES)')).untagged).toEqual(['* STATUS "INBOX" (MESSAGES 0)']);
    expect((await c.cmd('STATUS Archive (MESSAGES)')).untagged).toEqual(['* STATUS "Archive" (MESSAGES 2)']);
    c.close();
  });

  it('deleting the selected mailbox closes it first; another session is disconnected', async () => {
    await c.cmd('CREATE Doomed');
    const other = await fresh(CAROL);
    await other.cmd('SELECT Doomed');
    await c.cmd('SELECT Doomed');
    const r = await c.cmd('DELETE Doomed');
    expect(r.untagged).toEqual(['* OK [CLOSED] Mailbox closed.']);
    expect(r.tagged).toMatch(/OK Delete completed/);
    expect((await c.cmd('FETCH 1 FLAGS')).tagged).toMatch(/BAD No mailbox selected/);
    other.raw.write('Z1 NOOP\r\n');
    expect(await other.response()).toBe('* BYE Selected mailbox was deleted, have to disconnect.');
    await other.raw.waitClosed();
    c.close();
  });
});

describe('SELECT, EXAMINE, STATUS (RFC 9051 §6.3.2–3, §6.3.11)', () => {
  it('sends the mailbox state; EXAMINE is read-only', async () => {
    c = await fresh(ALICE);
    await h.deliver(ALICE, message('a'));
    const uid = await h.deliver(ALICE, message('b'));
    await h.store.storeFlags(ALICE.id, 'INBOX', [uid], 'add', ['\\Seen', '$Label1']);
    const info = await h.store.folderInfo(ALICE.id, 'INBOX');
    const r = await c.cmd('SELECT INBOX');
    expect(r.untagged).toEqual([
      '* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Label1)',
      '* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Label1 \\*)] Flags permitted.',
      `* ${info.exists} EXISTS`,
      // No session saw them before: \Recent in this one (RFC 3501 §6.3.1).
      `* ${info.exists} RECENT`,
      '* OK [UNSEEN 1] First unseen.',
      `* OK [UIDVALIDITY ${info.uidValidity}] UIDs valid`,
      `* OK [UIDNEXT ${info.uidNext}] Predicted next UID`,
      `* OK [HIGHESTMODSEQ ${info.highestModSeq}] Highest`,
    ]);
    expect(r.tagged).toBe('A2 OK [READ-WRITE] Select completed.');
    const e = await c.cmd('EXAMINE INBOX');
    expect(e.untagged[0]).toBe('* OK [CLOSED] Previous mailbox closed.');
    expect(e.untagged).toContain('* OK [PERMANENTFLAGS ()] Read-only mailbox.');
    expect(e.tagged).toBe('A3 OK [READ-ONLY] Examine completed.');
    expect((await c.cmd('STORE 1 +FLAGS (\\Flagged)')).tagged).toBe('A4 NO [CANNOT] Mailbox is read-only.');
    expect((await c.cmd('EXPUNGE')).tagged).toBe('A5 NO [CANNOT] Mailbox is read-only.');
    // BODY[] in a read-only mailbox does not set \Seen.
    await c.cmd('FETCH 1 BODY[]');
    expect((await c.cmd('FETCH 1 FLAGS')).untagged).toEqual(['* 1 FETCH (FLAGS ())']);
    const s = await c.cmd(
      'STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT HIGHESTMODSEQ SIZE DELETED)',
    );
    expect(s.untagged).toEqual([
      // STATUS HIGHESTMODSEQ turns CONDSTORE on: the selected mailbox's comes first (RFC 7162 §3.1.2.1).
      `* OK [HIGHESTMODSEQ ${info.highestModSeq}] Highest`,
      `* STATUS "INBOX" (MESSAGES ${info.exists} UIDNEXT ${info.uidNext} UIDVALIDITY ${info.uidValidity} UNSEEN ${info.unseen} RECENT 0 HIGHESTMODSEQ ${info.highestModSeq} SIZE ${info.size} DELETED 0)`,
    ]);
    expect((await c.cmd('STATUS INBOX (BOGUS)')).tagged).toMatch(/BAD/);
    expect((await c.cmd('SELECT Nope')).tagged).toBe("A10 NO [NONEXISTENT] Mailbox doesn't exist");
    // A failed SELECT leaves no mailbox selected (RFC 9051 §6.3.2).
    expect((await c.cmd('FETCH 1 FLAGS')).tagged).toBe('A11 BAD No mailbox selected.');
    expect((await c.cmd('UNSELECT')).tagged).toMatch(/BAD/);
    await c.cmd('SELECT INBOX');
    expect((await c.cmd('UNSELECT')).tagged).toBe('A14 OK Unselect completed.');
    c.close();
  });
});

describe('APPEND (RFC 9051 §6.3.12, UIDPLUS, LITERAL+)', () => {
  it('stores flags and internal date, answers APPENDUID', async () => {
    c = await fresh(ALICE);
    const body = message('appended');
    c.raw.write(`P1 APPEND Drafts (\\Draft $Todo) "14-Jul-2023 09:30:00 +0200" {${body.length}}\r\n`);
    expect(await c.response()).toBe('+ Ready for literal data');
    c.raw.write(`${body}\r\n`);
    const r = await c.until('P1');
    const info = await h.store.folderInfo(ALICE.id, 'Drafts');
    expect(r.tagged).toBe(`P1 OK [APPENDUID ${info.uidValidity} ${info.uidNext - 1}] Append completed.`);
    await c.cmd('SELECT Drafts');
    const f = await c.cmd('UID FETCH * (FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])');
    expect(f.untagged).toEqual([
      `* 1 FETCH (UID ${info.uidNext - 1} FLAGS (\\Draft $Todo \\Recent) INTERNALDATE "14-Jul-2023 07:30:00 +0000" RFC822.SIZE ${body.length} BODY[] {${body.length}}\r\n${body})`,
    ]);
    // LITERAL+: no continuation request.
    const b2 = 'Subject: plus\r\n\r\nx\r\n';
    c.raw.write(`P2 APPEND Drafts {${b2.length}+}\r\n${b2}\r\n`);
    const r2 = await c.until('P2');
    expect(r2.continuations).toEqual([]);
    // Appending to the selected mailbox announces the new message.
    expect(r2.untagged).toEqual(['* 2 EXISTS', '* 2 RECENT']);
    expect(r2.tagged).toMatch(/^P2 OK \[APPENDUID \d+ \d+\]/);
    c.close();
  });

  it('TRYCREATE, empty messages, bad dates, size and quota limits', async () => {
    const h2 = await startHarness({ limits: { maxLiteralSize: 1000 } });
    try {
      const d = await ImapClient.connect(h2.port);
      await d.login(BOB);
      expect((await d.cmd('APPEND Nope {3+}\r\nabc')).tagged).toBe("A2 NO [TRYCREATE] Mailbox doesn't exist");
      expect((await d.cmd('APPEND INBOX {0+}\r\n')).tagged).toBe(
        "A3 NO [CANNOT] Can't save a zero byte message.",
      );
      expect((await d.cmd('APPEND INBOX "31-Feb-2020 00:00:00 +0000" {1+}\r\nx')).tagged).toBe(
        'A4 BAD Invalid date-time',
      );
      expect((await d.cmd('APPEND INBOX (\\Bogus) {1+}\r\nx')).tagged).toBe('A5 BAD Invalid flag');
      d.raw.write('T1 APPEND INBOX {1001}\r\n');
      expect((await d.until('T1')).tagged).toBe('T1 NO [TOOBIG] Message too large');
      expect((await d.cmd('NOOP')).tagged).toMatch(/OK/);
      h2.quotas.set(BOB.id, 2048);
      expect((await d.cmd('GETQUOTAROOT INBOX')).untagged).toEqual([
        '* QUOTAROOT "INBOX" ""',
        '* QUOTA "" (STORAGE 0 2)',
      ]);
      const big = `Subject: big\r\n\r\n${'x'.repeat(900)}\r\n`;
      expect((await d.cmd(`APPEND INBOX {${big.length}+}\r\n${big}`)).tagged).toMatch(/OK \[APPENDUID/);
      expect((await d.cmd('GETQUOTA ""')).untagged).toEqual(['* QUOTA "" (STORAGE 1 2)']);
      expect((await d.cmd(`APPEND INBOX {${big.length}+}\r\n${big}`)).tagged).toMatch(/OK/);
      expect((await d.cmd(`APPEND INBOX {${big.length}+}\r\n${big}`)).tagged).toBe(
        'A11 NO [OVERQUOTA] Quota exceeded (mailbox for user is full)',
      );
      expect((await d.cmd('GETQUOTA "other"')).tagged).toMatch(/NO \[NONEXISTENT\]/);
      expect((await d.cmd('SETQUOTA "" (STORAGE 10)')).tagged).toMatch(/NO \[NOPERM\]/);
      h2.quotas.delete(BOB.id);
      expect((await d.cmd('GETQUOTAROOT INBOX')).untagged).toEqual(['* QUOTAROOT "INBOX"']);
      d.close();
    } finally {
      await h2.cleanup();
    }
  });
});
