/**
 * SORT (RFC 5256, RFC 5957 DISPLAY), ESORT (RFC 5267 §3), THREAD ORDEREDSUBJECT and REFERENCES
 * (RFC 5256), base subjects (RFC 5256 §2.1), CREATE-SPECIAL-USE (RFC 6154 §3) and \Recent between
 * sessions (RFC 3501 §2.3.2): raw sockets and Python's imaplib (its `sort` and `thread`).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ALICE, BOB } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseSubject } from '../src/sort/subject.js';
import { type Harness, ImapClient, startHarness } from './helpers.js';

const run = promisify(execFile);

function mail(h: {
  from: string;
  to?: string;
  subject: string;
  date: string;
  id: string;
  refs?: string;
  body?: string;
}): string {
  return (
    `From: ${h.from}\r\nTo: ${h.to ?? 'bob@example.test'}\r\nSubject: ${h.subject}\r\nDate: ${h.date}\r\n` +
    `Message-ID: <${h.id}@example.test>\r\n${h.refs ? `References: ${h.refs}\r\n` : ''}\r\n${h.body ?? 'x\r\n'}`
  );
}

/** Arrival order = sequence numbers 1..6. */
const MESSAGES = [
  mail({ from: 'Zed <zed@example.test>', subject: 'Plans', date: 'Tue, 3 Jan 2023 10:00:00 +0000', id: 'a' }),
  mail({
    from: '"Anna" <yann@example.test>',
    subject: 'Re: Plans',
    date: 'Tue, 3 Jan 2023 12:00:00 +0000',
    id: 'b',
    refs: '<a@example.test>',
    body: 'a longer body to be the largest message of all\r\n'.repeat(4),
  }),
  mail({
    from: 'mike@example.test',
    subject: '[list] Budget',
    date: 'Mon, 2 Jan 2023 09:00:00 +0100',
    id: 'c',
  }),
  mail({
    from: 'bea@example.test',
    subject: 'Fwd: Re: plans (fwd)',
    date: 'Wed, 4 Jan 2023 08:00:00 +0000',
    id: 'd',
    refs: '<a@example.test> <b@example.test>',
  }),
  mail({
    from: 'carl@example.test',
    subject: 'RE: budget',
    date: 'Thu, 5 Jan 2023 08:00:00 -0500',
    id: 'e',
    refs: '<missing@example.test>',
  }),
  mail({ from: 'dora@example.test', subject: 'Budget', date: 'not a date', id: 'f' }),
];

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.store.createFolder(BOB.id, 'Sorted');
  for (const m of MESSAGES) await h.deliver(BOB, m, 'Sorted');
});
afterAll(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

async function session(folder = 'Sorted'): Promise<ImapClient> {
  const c = await ImapClient.connect(h.port);
  await c.login(BOB);
  expect((await c.cmd(`EXAMINE ${folder}`)).tagged).toMatch(/OK/);
  return c;
}

describe('base subject (RFC 5256 §2.1)', () => {
  it('removes reply and forward markers, blobs and trailers, repeatedly', () => {
    expect(baseSubject('Re: Plans')).toEqual({ subject: 'Plans', isReplyOrForward: true });
    expect(baseSubject('[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)')).toEqual({
      subject: 'b',
      isReplyOrForward: true,
    });
    expect(baseSubject('re: [fwd: [fwd: re: [fwd: babylon]]]').subject).toBe('babylon');
    expect(baseSubject('[xyz]')).toEqual({ subject: '[xyz]', isReplyOrForward: false });
    expect(baseSubject('=?iso-8859-1?q?RE:_C?=').subject).toBe('C');
    expect(baseSubject('  Plain   spaced  ')).toEqual({ subject: 'Plain spaced', isReplyOrForward: false });
  });
});

describe('SORT (RFC 5256 §3, RFC 5957)', () => {
  it('sorts by each key, REVERSE, ties in mailbox order; UID SORT; BADCHARSET; syntax', async () => {
    const c = await session();
    const sort = async (args: string) => (await c.cmd(`SORT ${args}`)).untagged;
    expect(await sort('(ARRIVAL) UTF-8 ALL')).toEqual(['* SORT 1 2 3 4 5 6']);
    expect(await sort('(REVERSE ARRIVAL) UTF-8 ALL')).toEqual(['* SORT 6 5 4 3 2 1']);
    // 3 is 08:00 UTC on the 2nd; 6 has no usable Date: its internal date (now) sorts last.
    expect(await sort('(DATE) US-ASCII ALL')).toEqual(['* SORT 3 1 2 4 5 6']);
    // Base subjects: BUDGET (3, 5, 6), PLANS (1, 2, 4); ties keep mailbox order.
    expect(await sort('(SUBJECT) UTF-8 ALL')).toEqual(['* SORT 3 5 6 1 2 4']);
    expect(await sort('(SUBJECT REVERSE DATE) UTF-8 ALL')).toEqual(['* SORT 6 5 3 4 2 1']);
    // FROM compares the mailbox part; DISPLAYFROM the display name or the address.
    expect(await sort('(FROM) UTF-8 ALL')).toEqual(['* SORT 4 5 6 3 2 1']);
    expect(await sort('(DISPLAYFROM) UTF-8 ALL')).toEqual(['* SORT 2 4 5 6 3 1']);
    expect(await sort('(REVERSE SIZE) UTF-8 ALL')).toEqual(['* SORT 2 4 5 3 1 6']);
    expect(await sort('(ARRIVAL) UTF-8 SUBJECT budget')).toEqual(['* SORT 3 5 6']);
    const uids = (await c.cmd('UID SORT (REVERSE ARRIVAL) UTF-8 1:2')).untagged;
    expect(uids).toEqual(['* SORT 2 1']);
    expect((await c.cmd('SORT (ARRIVAL) KOI8-R ALL')).tagged).toMatch(/NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/);
    expect((await c.cmd('SORT (ARRIVAL) ALL')).tagged).toMatch(/BAD/);
    expect((await c.cmd('SORT (REVERSE) UTF-8 ALL')).tagged).toMatch(/BAD/);
    expect((await c.cmd('SORT (COLOUR) UTF-8 ALL')).tagged).toMatch(/BAD/);
    c.close();
  });

  it('ESORT: RETURN (MIN MAX ALL COUNT) in sort order (RFC 5267 §3)', async () => {
    const c = await session();
    expect(await c.cmd('SORT RETURN (MIN MAX COUNT ALL) (REVERSE DATE) UTF-8 ALL', { tag: 'S1' })).toEqual({
      untagged: ['* ESEARCH (TAG "S1") MIN 6 MAX 3 ALL 6,5,4,2,1,3 COUNT 6'],
      continuations: [],
      tagged: 'S1 OK Sort completed.',
    });
    expect((await c.cmd('UID SORT RETURN () (ARRIVAL) UTF-8 2:4', { tag: 'S2' })).untagged).toEqual([
      '* ESEARCH (TAG "S2") UID ALL 2:4',
    ]);
    expect(
      (await c.cmd('SORT RETURN (COUNT) (ARRIVAL) UTF-8 SUBJECT nothing', { tag: 'S3' })).untagged,
    ).toEqual(['* ESEARCH (TAG "S3") COUNT 0']);
    c.close();
  });
});

describe('THREAD (RFC 5256 §3)', () => {
  it('ORDEREDSUBJECT and REFERENCES over raw sockets', async () => {
    const c = await session();
    // By base subject, each group by date: BUDGET 3 (5)(6) and PLANS 1 (2)(4), groups by first date.
    expect((await c.cmd('THREAD ORDEREDSUBJECT UTF-8 ALL')).untagged).toEqual([
      '* THREAD (3 (5)(6))(1 (2)(4))',
    ]);
    // 1 <- 2 <- 4 by References; 5 refers to a missing message: a dummy, pruned, then merged with 3
    // (same base subject, 5 a reply); 6 has the subject of 3 without being a reply: a dummy holds both,
    // dated by its first child (3, 2 Jan), so that thread comes first.
    expect((await c.cmd('THREAD REFERENCES UTF-8 ALL')).untagged).toEqual(['* THREAD ((3 5)(6))(1 2 4)']);
    expect((await c.cmd('UID THREAD REFERENCES UTF-8 SUBJECT plans')).untagged).toEqual(['* THREAD (1 2 4)']);
    expect((await c.cmd('THREAD REFERENCES UTF-8 SUBJECT nothing')).untagged).toEqual(['* THREAD']);
    expect((await c.cmd('THREAD BYCOLOUR UTF-8 ALL')).tagged).toMatch(/BAD/);
    c.close();
  });

  it("Python imaplib's sort and thread", async () => {
    const script = `
import imaplib, json
M = imaplib.IMAP4('127.0.0.1', ${h.port})
M.login('${BOB.login}', '${BOB.password}')
M.select('Sorted', readonly=True)
caps = sorted(c for c in M.capability()[1][0].decode().split() if c.startswith(('SORT', 'THREAD', 'ESORT')))
out = {'caps': caps, 'sort': M.sort('(REVERSE DATE)', 'UTF-8', 'ALL')[1][0].decode(),
       'thread': M.thread('REFERENCES', 'UTF-8', 'ALL')[1][0].decode()}
M.logout()
print(json.dumps(out))`;
    const out = JSON.parse((await run('python3', ['-c', script], { timeout: 30_000 })).stdout);
    expect(out).toEqual({
      caps: ['ESORT', 'SORT', 'SORT=DISPLAY', 'THREAD=ORDEREDSUBJECT', 'THREAD=REFERENCES'],
      sort: '6 5 4 2 1 3',
      thread: '((3 5)(6))(1 2 4)',
    });
  });
});

describe('CREATE-SPECIAL-USE (RFC 6154 §3)', () => {
  it('creates a folder with its use, listed with it; unknown or unsupported uses are NO [USEATTR]', async () => {
    const c = await ImapClient.connect(h.port);
    await c.login(ALICE);
    expect((await c.cmd('CREATE "Old mail" (USE (\\Trash))')).tagged).toMatch(/OK/);
    expect((await c.cmd('LIST "" "Old mail"')).untagged).toEqual([
      '* LIST (\\HasNoChildren \\Trash) "/" "Old mail"',
    ]);
    expect((await c.cmd('CREATE Stars (USE (\\Flagged))')).tagged).toMatch(/^A\d+ NO \[USEATTR\]/);
    expect((await c.cmd('CREATE Odd (USE (\\Bogus))')).tagged).toMatch(/^A\d+ NO \[USEATTR\]/);
    expect((await c.cmd('LIST "" Stars')).untagged).toEqual([]);
    expect((await c.cmd('CREATE Odd (COLOUR (red))')).tagged).toMatch(/BAD/);
    c.close();
  });
});

describe('\\Recent (RFC 3501 §2.3.2)', () => {
  it('belongs to the first session that sees a message; EXAMINE and STATUS do not claim it', async () => {
    await h.store.createFolder(ALICE.id, 'Fresh');
    await h.deliver(
      ALICE,
      mail({ from: 'a@example.test', subject: 'one', date: 'Mon, 2 Jan 2023 09:00:00 +0000', id: 'r1' }),
      'Fresh',
    );
    const a = await ImapClient.connect(h.port);
    await a.login(ALICE);
    const b = await ImapClient.connect(h.port);
    await b.login(ALICE);
    expect((await a.cmd('STATUS Fresh (RECENT)')).untagged).toEqual(['* STATUS "Fresh" (RECENT 1)']);
    expect((await a.cmd('EXAMINE Fresh')).untagged).toContain('* 1 RECENT');
    expect((await b.cmd('SELECT Fresh')).untagged).toContain('* 1 RECENT');
    expect((await b.cmd('FETCH 1 FLAGS')).untagged).toEqual(['* 1 FETCH (FLAGS (\\Recent))']);
    expect((await b.cmd('SEARCH NEW')).untagged).toEqual(['* SEARCH 1']);
    // Claimed by b: a SELECT now sees none.
    expect((await a.cmd('SELECT Fresh')).untagged).toContain('* 0 RECENT');
    expect((await a.cmd('SEARCH RECENT')).untagged).toEqual(['* SEARCH']);
    expect((await a.cmd('SEARCH OLD')).untagged).toEqual(['* SEARCH 1']);
    // A new message is recent in the session that announces it first.
    await h.deliver(
      ALICE,
      mail({ from: 'a@example.test', subject: 'two', date: 'Mon, 2 Jan 2023 10:00:00 +0000', id: 'r2' }),
      'Fresh',
    );
    expect((await a.cmd('NOOP')).untagged).toEqual(['* 2 EXISTS', '* 1 RECENT']);
    expect((await b.cmd('NOOP')).untagged).toEqual(['* 2 EXISTS', '* 1 RECENT']);
    expect((await b.cmd('FETCH 1:2 FLAGS')).untagged).toEqual([
      '* 1 FETCH (FLAGS (\\Recent))',
      '* 2 FETCH (FLAGS ())',
    ]);
    // IMAP4rev2 has no \Recent (RFC 9051 §2.3.2).
    const c = await ImapClient.connect(h.port);
    await c.login(ALICE);
    await c.cmd('ENABLE IMAP4rev2');
    expect((await c.cmd('SELECT Fresh')).untagged.some((l) => / RECENT$/.test(l))).toBe(false);
    a.close();
    b.close();
    c.close();
  });
});

describe('CONTEXT=SEARCH (RFC 5267 §4)', () => {
  it('PARTIAL ranges; UPDATE reports ADDTO and REMOVEFROM until CANCELUPDATE', async () => {
    await h.store.createFolder(ALICE.id, 'Live');
    for (let i = 1; i <= 5; i++) {
      await h.deliver(
        ALICE,
        mail({
          from: 'a@example.test',
          subject: `live ${i}`,
          date: 'Mon, 2 Jan 2023 09:00:00 +0000',
          id: `l${i}`,
        }),
        'Live',
      );
    }
    const a = await ImapClient.connect(h.port);
    await a.login(ALICE);
    await a.cmd('SELECT Live');
    expect((await a.cmd('SEARCH RETURN (PARTIAL 4:2) ALL', { tag: 'P1' })).untagged).toEqual([
      '* ESEARCH (TAG "P1") PARTIAL (2:4 2:4)',
    ]);
    expect((await a.cmd('UID SEARCH RETURN (PARTIAL 5:9) 1:2,4:5', { tag: 'P2' })).untagged).toEqual([
      '* ESEARCH (TAG "P2") UID PARTIAL (5:9 NIL)',
    ]);
    expect((await a.cmd('SEARCH RETURN (PARTIAL 1:*) ALL')).tagged).toMatch(/BAD/);
    expect((await a.cmd('SEARCH RETURN (PARTIAL 1) ALL')).tagged).toMatch(/BAD/);

    expect((await a.cmd('SEARCH RETURN (UPDATE ALL) SEEN', { tag: 'U1' })).untagged).toEqual([
      '* ESEARCH (TAG "U1")',
    ]);
    expect((await a.cmd('STORE 1,2,4 +FLAGS.SILENT (\\Seen)')).untagged).toEqual([
      '* ESEARCH (TAG "U1") ADDTO (0 1:2,4)',
    ]);
    // Another session's change reaches the live search too, with its FETCH.
    const b = await ImapClient.connect(h.port);
    await b.login(ALICE);
    await b.cmd('SELECT Live');
    await b.cmd('STORE 2 -FLAGS.SILENT (\\Seen)');
    expect((await a.cmd('NOOP')).untagged).toEqual([
      '* 2 FETCH (UID 2 FLAGS (\\Recent))',
      '* ESEARCH (TAG "U1") REMOVEFROM (0 2)',
    ]);
    // An expunged match leaves the result before its EXPUNGE.
    await b.cmd('STORE 4 +FLAGS.SILENT (\\Deleted)');
    await b.cmd('EXPUNGE');
    expect((await a.cmd('NOOP')).untagged).toEqual(['* ESEARCH (TAG "U1") REMOVEFROM (0 4)', '* 4 EXPUNGE']);
    expect((await a.cmd('CANCELUPDATE "U1"')).tagged).toMatch(/OK/);
    await b.cmd('STORE 3 +FLAGS.SILENT (\\Seen)');
    expect((await a.cmd('NOOP')).untagged).toEqual(['* 3 FETCH (UID 3 FLAGS (\\Seen \\Recent))']);
    expect((await a.cmd('CANCELUPDATE "U1"')).tagged).toMatch(/BAD/);
    a.close();
    b.close();
  });
});
