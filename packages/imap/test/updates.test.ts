/**
 * Mailbox updates across sessions (RFC 9051 §7.5.1), IDLE (RFC 2177), CONDSTORE and QRESYNC (RFC 7162).
 */

import { ALICE } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, ImapClient, message, startHarness } from './helpers.js';

let h: Harness;
let n = 0;

beforeAll(async () => {
  h = await startHarness({ backend: 'memory' }); // session updates, not storage: no files
});
afterAll(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

/** A fresh folder with `count` messages, and two sessions with it selected. */
async function setup(
  count: number,
  select = 'SELECT',
): Promise<{ folder: string; a: ImapClient; b: ImapClient }> {
  const folder = `U${++n}`;
  await h.store.createFolder(ALICE.id, folder);
  for (let i = 0; i < count; i++) await h.deliver(ALICE, message(`${folder}-${i}`), folder);
  const a = await ImapClient.connect(h.port);
  await a.login();
  const b = await ImapClient.connect(h.port);
  await b.login();
  expect((await a.cmd(`${select} ${folder}`)).tagged).toMatch(/OK/);
  expect((await b.cmd(`SELECT ${folder}`)).tagged).toMatch(/OK/);
  return { folder, a, b };
}

describe('updates between sessions (RFC 9051 §7.5.1)', () => {
  it('EXISTS, FETCH FLAGS and EXPUNGE reach the other session at its next command', async () => {
    const { folder, a, b } = await setup(3);
    await h.deliver(ALICE, message('new'), folder);
    // `a` selected first and announces the new message first: all four are \Recent in `a` (RFC 3501 §2.3.2).
    expect((await a.cmd('NOOP')).untagged).toEqual(['* 4 EXISTS', '* 4 RECENT']);
    await b.cmd('STORE 2 +FLAGS.SILENT (\\Flagged)');
    expect((await a.cmd('NOOP')).untagged).toEqual(['* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent))']);
    // Our own change is reported once, by the STORE itself.
    expect((await a.cmd('STORE 3 +FLAGS (\\Seen)')).untagged).toEqual([
      '* 3 FETCH (FLAGS (\\Seen \\Recent))',
    ]);
    expect((await a.cmd('NOOP')).untagged).toEqual([]);
    await b.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await b.cmd('EXPUNGE');
    // Not during FETCH, STORE or SEARCH: sequence numbers must stay put (RFC 9051 §7.5.1).
    const f = await a.cmd('FETCH 1:* UID');
    expect(f.untagged).toEqual(['* 2 FETCH (UID 2)', '* 3 FETCH (UID 3)', '* 4 FETCH (UID 4)']);
    expect(f.tagged).toBe('A7 NO [EXPUNGEISSUED] Some of the requested messages no longer exist.');
    expect((await a.cmd('SEARCH ALL')).untagged).toEqual(['* SEARCH 2 3 4']);
    expect((await a.cmd('NOOP')).untagged).toEqual(['* 1 EXPUNGE']);
    expect((await a.cmd('FETCH 1:* UID')).untagged).toEqual([
      '* 1 FETCH (UID 2)',
      '* 2 FETCH (UID 3)',
      '* 3 FETCH (UID 4)',
    ]);
    // UID commands may carry EXPUNGE.
    await b.cmd('UID STORE 4 +FLAGS.SILENT (\\Deleted)');
    await b.cmd('UID EXPUNGE 4');
    expect((await a.cmd('UID FETCH 2 UID')).untagged).toEqual(['* 1 FETCH (UID 2)', '* 3 EXPUNGE']);
    a.close();
    b.close();
  });

  it("the flags of the other session's new keyword come with a FLAGS response", async () => {
    const { a, b } = await setup(1);
    await b.cmd('STORE 1 +FLAGS ($Important)');
    expect((await a.cmd('NOOP')).untagged).toEqual([
      '* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Important)',
      '* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Important \\*)] Flags permitted.',
      '* 1 FETCH (UID 1 FLAGS ($Important \\Recent))',
    ]);
    a.close();
    b.close();
  });

  it('a rename of the selected mailbox elsewhere keeps the session working', async () => {
    const { folder, a, b } = await setup(1);
    await b.cmd('UNSELECT');
    expect((await b.cmd(`RENAME ${folder} ${folder}-renamed`)).tagged).toMatch(/OK/);
    await h.deliver(ALICE, message('after rename'), `${folder}-renamed`);
    expect((await a.cmd('NOOP')).untagged).toEqual(['* 2 EXISTS', '* 2 RECENT']);
    expect((await a.cmd('FETCH 2 UID')).untagged).toEqual(['* 2 FETCH (UID 2)']);
    a.close();
    b.close();
  });
});

describe('IDLE (RFC 2177)', () => {
  it('sends EXISTS, FETCH and EXPUNGE as they happen, until DONE', async () => {
    const { folder, a, b } = await setup(2);
    a.raw.write('I1 IDLE\r\n');
    expect(await a.response()).toBe('+ idling');
    await h.deliver(ALICE, message('during idle'), folder);
    expect(await a.response()).toBe('* 3 EXISTS');
    expect(await a.response()).toBe('* 3 RECENT');
    await b.cmd('STORE 1 +FLAGS.SILENT (\\Answered)');
    expect(await a.response()).toBe('* 1 FETCH (UID 1 FLAGS (\\Answered \\Recent))');
    await b.cmd('STORE 2 +FLAGS.SILENT (\\Deleted)');
    await a.response();
    await b.cmd('EXPUNGE');
    expect(await a.response()).toBe('* 2 EXPUNGE');
    a.raw.write('DONE\r\n');
    expect((await a.until('I1')).tagged).toBe('I1 OK Idle completed.');
    expect((await a.cmd('FETCH 1:* UID')).untagged).toEqual(['* 1 FETCH (UID 1)', '* 2 FETCH (UID 3)']);
    a.close();
    b.close();
  });

  it('reports what was pending at once; anything but DONE is BAD; works unselected; keepalives', async () => {
    const h2 = await startHarness({ limits: { idleKeepaliveMs: 50 } });
    try {
      await h2.store.createFolder(ALICE.id, 'X');
      const a = await ImapClient.connect(h2.port);
      await a.login();
      await a.cmd('SELECT X');
      await h2.deliver(ALICE, message('pending'), 'X');
      await new Promise((r) => setTimeout(r, 20));
      a.raw.write('I2 IDLE\r\n');
      expect(await a.response()).toBe('+ idling');
      expect(await a.response()).toBe('* 1 EXISTS');
      expect(await a.response()).toBe('* 1 RECENT');
      expect(await a.response()).toBe('* OK Still here');
      a.raw.write('NOTDONE\r\n');
      const r = await a.until('I2');
      expect(r.tagged).toBe('I2 BAD Expected DONE.');
      await a.cmd('UNSELECT');
      a.raw.write('I3 IDLE\r\n');
      expect(await a.response()).toBe('+ idling');
      a.raw.write('done\r\n');
      expect((await a.until('I3')).tagged).toBe('I3 OK Idle completed.');
      a.close();
    } finally {
      await h2.cleanup();
    }
  });

  it('ends an IDLE that lasts too long', async () => {
    const h2 = await startHarness({ limits: { idleCommandTimeoutMs: 100 } });
    try {
      const a = await ImapClient.connect(h2.port);
      await a.login();
      a.raw.write('I4 IDLE\r\n');
      expect(await a.response()).toBe('+ idling');
      expect(await a.response()).toBe('* BYE Disconnected for inactivity.');
      await a.raw.waitClosed();
    } finally {
      await h2.cleanup();
    }
  });
});

describe('CONDSTORE (RFC 7162 §3.1)', () => {
  it('MODSEQ in FETCH, CHANGEDSINCE, UNCHANGEDSINCE with [MODIFIED], SEARCH MODSEQ', async () => {
    const { folder, a, b } = await setup(3, 'SELECT');
    await a.cmd('UNSELECT');
    const sel = await a.cmd(`SELECT ${folder} (CONDSTORE)`);
    const highest = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.untagged.join('\n'))?.[1]);
    expect(highest).toBeGreaterThan(0);
    const f = await a.cmd('FETCH 1:* (MODSEQ)');
    const modseqs = f.untagged.map((l) => Number(/MODSEQ \((\d+)\)/.exec(l)?.[1]));
    expect(modseqs).toHaveLength(3);
    await b.cmd('STORE 2 +FLAGS.SILENT (\\Seen)');
    // CONDSTORE enabled: unsolicited FETCH carries MODSEQ.
    const upd = await a.cmd('NOOP');
    const m2 = Number(/MODSEQ \((\d+)\)/.exec(upd.untagged[0] ?? '')?.[1]);
    expect(upd.untagged).toEqual([`* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (${m2}))`]);
    expect(m2).toBeGreaterThan(highest);
    expect((await a.cmd(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`)).untagged).toEqual([
      `* 2 FETCH (FLAGS (\\Seen) MODSEQ (${m2}))`,
    ]);
    const s = await a.cmd(`STORE 1:2 (UNCHANGEDSINCE ${highest}) +FLAGS (\\Flagged)`);
    expect(s.untagged).toEqual([
      expect.stringMatching(/^\* 1 FETCH \(FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/),
    ]);
    expect(s.tagged).toMatch(/^A\d+ OK \[MODIFIED 2\] Conditional store failed\.$/);
    const u = await a.cmd(`UID STORE 1:3 (UNCHANGEDSINCE ${m2}) FLAGS.SILENT (\\Draft)`);
    expect(u.untagged).toEqual([
      expect.stringMatching(/^\* 2 FETCH \(UID 2 MODSEQ \(\d+\)\)$/),
      expect.stringMatching(/^\* 3 FETCH \(UID 3 MODSEQ \(\d+\)\)$/),
    ]);
    expect(u.tagged).toMatch(/^A\d+ OK \[MODIFIED 1\] Conditional store failed\.$/);
    const sr = await a.cmd(`SEARCH MODSEQ ${m2 + 1}`);
    expect(sr.untagged[0]).toMatch(/^\* SEARCH 1 2 3 \(MODSEQ \d+\)$/);
    expect((await a.cmd('SEARCH MODSEQ "/flags/\\\\draft" all 1')).untagged[0]).toMatch(
      /^\* SEARCH 1 2 3 \(MODSEQ \d+\)$/,
    );
    expect((await a.cmd('STATUS INBOX (HIGHESTMODSEQ)')).untagged[0]).toMatch(
      /^\* STATUS "INBOX" \(HIGHESTMODSEQ \d+\)$/,
    );
    a.close();
    b.close();
  });
});

describe('QRESYNC (RFC 7162 §3.2)', () => {
  it('SELECT (QRESYNC ...) sends VANISHED (EARLIER) and the changed flags; EXPUNGE becomes VANISHED', async () => {
    const { folder, a, b } = await setup(5);
    const info = await h.store.folderInfo(ALICE.id, folder);
    await a.cmd('LOGOUT');
    // Changes while the client is away.
    await b.cmd('STORE 2 +FLAGS.SILENT (\\Seen)');
    await b.cmd('STORE 4:5 +FLAGS.SILENT (\\Deleted)');
    await b.cmd('EXPUNGE');
    const c = await ImapClient.connect(h.port);
    await c.login();
    expect(
      (await c.cmd(`SELECT ${folder} (QRESYNC (${info.uidValidity} ${info.highestModSeq}))`)).tagged,
    ).toBe('A2 BAD QRESYNC is not enabled');
    await c.cmd('ENABLE QRESYNC');
    const r = await c.cmd(`SELECT ${folder} (QRESYNC (${info.uidValidity} ${info.highestModSeq} 1:5))`);
    const tail = r.untagged.slice(-2);
    expect(tail[0]).toBe('* VANISHED (EARLIER) 4:5');
    expect(tail[1]).toMatch(/^\* 2 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$/);
    // A different UIDVALIDITY: a plain SELECT.
    const other = await c.cmd(`SELECT ${folder} (QRESYNC (1 ${info.highestModSeq}))`);
    expect(other.untagged.some((l) => l.includes('VANISHED'))).toBe(false);
    await b.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await b.cmd('EXPUNGE');
    expect((await c.cmd('NOOP')).untagged).toEqual(['* VANISHED 1']);
    await c.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
    expect((await c.cmd('EXPUNGE')).untagged).toEqual(['* VANISHED 2']);
    const v = await c.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${info.highestModSeq} VANISHED)`);
    expect(v.untagged[0]).toBe('* VANISHED (EARLIER) 1:2,4:5');
    expect(v.untagged.slice(1)).toEqual([]);
    expect((await c.cmd('FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)')).tagged).toMatch(/BAD/);
    b.close();
    c.close();
  });
});
