/**
 * Message commands over raw sockets: FETCH (every item, sections, partials, implicit \Seen), STORE,
 * COPY, MOVE, EXPUNGE, CLOSE, SEARCH (every RFC 3501 key), sequence numbers versus UIDs.
 */

import { BOB, CAROL } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORWARD, NESTED } from './corpus.js';
import { type Harness, message, selectedSession, startHarness } from './helpers.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ backend: 'memory' }); // message commands, not storage: no files
});
afterAll(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

const session = (folder = 'INBOX', account = BOB) => selectedSession(h.port, account, folder);

describe('FETCH (RFC 9051 §6.4.5)', () => {
  let uids: number[];
  beforeAll(async () => {
    await h.store.createFolder(BOB.id, 'Fetch');
    uids = [];
    for (const m of [NESTED, FORWARD, message('third')]) uids.push(await h.deliver(BOB, m, 'Fetch'));
  });

  it('returns every item; BODY[] is byte-exact; RFC822.SIZE is its length', async () => {
    const c = await session('Fetch');
    const r = await c.cmd(
      'FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY BODYSTRUCTURE BODY.PEEK[])',
    );
    expect(r.untagged).toHaveLength(1);
    const line = r.untagged[0] as string;
    expect(line).toMatch(
      new RegExp(
        `^\\* 1 FETCH \\(UID ${uids[0]} FLAGS \\(\\\\Recent\\) INTERNALDATE "[ \\d]\\d-\\w{3}-\\d{4} \\d\\d:\\d\\d:\\d\\d \\+0000" RFC822.SIZE ${NESTED.length} ENVELOPE \\("Tue, 1 Mar 2022`,
      ),
    );
    expect(line).toContain(' BODY (((');
    expect(line).toContain(
      ' BODYSTRUCTURE ((("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 37 2 NIL NIL NIL NIL)',
    );
    expect(line.endsWith(`BODY[] {${NESTED.length}}\r\n${NESTED})`)).toBe(true);
    c.close();
  });

  it('macros ALL, FAST, FULL; UID FETCH adds UID; RFC822.* items', async () => {
    const c = await session('Fetch');
    expect((await c.cmd('FETCH 3 FAST')).untagged[0]).toMatch(
      /^\* 3 FETCH \(FLAGS \(\) INTERNALDATE "[^"]+" RFC822.SIZE \d+\)$/,
    );
    expect((await c.cmd('FETCH 3 ALL')).untagged[0]).toMatch(
      /^\* 3 FETCH \(FLAGS \(\) INTERNALDATE "[^"]+" RFC822.SIZE \d+ ENVELOPE \(.*\)\)$/,
    );
    expect((await c.cmd('FETCH 3 FULL')).untagged[0]).toMatch(
      / ENVELOPE \(.*\) BODY \("text" "plain" .*\)\)$/,
    );
    expect((await c.cmd(`UID FETCH ${uids[2]} FLAGS`)).untagged).toEqual([
      `* 3 FETCH (UID ${uids[2]} FLAGS ())`,
    ]);
    const third = message('third');
    const header = third.slice(0, third.indexOf('\r\n\r\n') + 4);
    expect((await c.cmd('FETCH 3 RFC822.HEADER')).untagged).toEqual([
      `* 3 FETCH (RFC822.HEADER {${header.length}}\r\n${header})`,
    ]);
    // RFC822.TEXT sets \Seen (RFC 3501 §6.4.5) and the new flags come along.
    expect((await c.cmd('FETCH 3 RFC822.TEXT')).untagged).toEqual([
      '* 3 FETCH (RFC822.TEXT {7}\r\nHello\r\n FLAGS (\\Seen))',
    ]);
    expect((await c.cmd('FETCH 3 RFC822')).untagged).toEqual([
      `* 3 FETCH (RFC822 {${third.length}}\r\n${third})`,
    ]);
    c.close();
  });

  it('sections, partials, nested message parts; BODY[] sets \\Seen, BODY.PEEK[] does not', async () => {
    const c = await session('Fetch');
    const r = await c.cmd(
      'FETCH 2 (BODY.PEEK[2.1] BODY.PEEK[2.HEADER.FIELDS (subject)] BODY.PEEK[1.MIME] BODY.PEEK[]<0.4> BODY.PEEK[9])',
    );
    expect(r.untagged).toEqual([
      '* 2 FETCH (BODY[2.1] {7}\r\nnumbers BODY[2.HEADER.FIELDS (SUBJECT)] {19}\r\nSubject: report\r\n\r\n ' +
        'BODY[1.MIME] {28}\r\nContent-Type: text/plain\r\n\r\n BODY[]<0> {4}\r\nFrom BODY[9] NIL)',
    ]);
    expect((await c.cmd('FETCH 2 BODY.PEEK[]<10000.5>')).untagged).toEqual([
      '* 2 FETCH (BODY[]<10000> {0}\r\n)',
    ]);
    // An earlier session of this file selected the folder first: nothing is \Recent here.
    expect((await c.cmd('FETCH 2 FLAGS')).untagged).toEqual(['* 2 FETCH (FLAGS ())']);
    expect((await c.cmd('FETCH 2 BODY[1]')).untagged).toEqual([
      '* 2 FETCH (BODY[1] {13}\r\nSee attached. FLAGS (\\Seen))',
    ]);
    // Already seen: no FLAGS added.
    expect((await c.cmd('FETCH 2 BODY[1]')).untagged).toEqual(['* 2 FETCH (BODY[1] {13}\r\nSee attached.)']);
    c.close();
  });

  it('BINARY, BINARY.PEEK, BINARY.SIZE (RFC 3516): transfer encoding removed, literal8 for NUL', async () => {
    const c = await session('Fetch');
    const html = Buffer.from('<p>Grüße, schöne Welt!</p>');
    const r = await c.cmd(
      'FETCH 1 (BINARY.PEEK[1.2] BINARY.SIZE[1.2] BINARY.PEEK[2]<0.4> BINARY.SIZE[1.1] BINARY.PEEK[7])',
    );
    expect(r.untagged).toEqual([
      `* 1 FETCH (BINARY[1.2] {${html.length}}\r\n${html.toString('latin1')} BINARY.SIZE[1.2] ${html.length} ` +
        'BINARY[2]<0> {4}\r\n%PDF BINARY.SIZE[1.1] 22 BINARY[7] NIL)',
    ]);
    const nul = 'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n';
    const odd = 'Content-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n';
    c.raw.write(
      Buffer.from(
        `B1 APPEND Fetch ~{${nul.length}+}\r\n${nul}\r\nB2 APPEND Fetch {${odd.length}+}\r\n${odd}\r\n`,
        'latin1',
      ),
    );
    expect((await c.until('B1')).tagged).toMatch(/^B1 OK \[APPENDUID/);
    expect((await c.until('B2')).tagged).toMatch(/^B2 OK \[APPENDUID/);
    expect((await c.cmd('FETCH 4 BINARY.PEEK[1]')).untagged).toEqual([
      '* 4 FETCH (BINARY[1] ~{3}\r\n\x00\x01\x02)',
    ]);
    expect((await c.cmd('FETCH 5 BINARY.PEEK[1]')).tagged).toMatch(
      /NO \[UNKNOWN-CTE\] Unknown Content-Transfer-Encoding: x-uuencode/,
    );
    // BINARY without PEEK sets \Seen.
    expect((await c.cmd('FETCH 4 BINARY[]')).untagged[0]).toMatch(/ FLAGS \(\\Seen \\Recent\)\)$/);
    expect((await c.cmd('FETCH 1 BINARY.SIZE[1]<0.1>')).tagged).toMatch(/BAD/);
    c.close();
  });

  it('refuses bad sets and items; ignores unknown UIDs', async () => {
    const c = await session('Fetch');
    expect((await c.cmd('FETCH 9 FLAGS')).tagged).toBe('A3 BAD Invalid messageset');
    expect((await c.cmd('FETCH 0 FLAGS')).tagged).toBe('A4 BAD Invalid sequence set');
    expect((await c.cmd('FETCH 1 (FLAGS BOGUS)')).tagged).toBe('A5 BAD Invalid fetch item BOGUS');
    expect((await c.cmd('FETCH 1 BODY[1.MIME')).tagged).toMatch(/^A6 BAD /);
    expect((await c.cmd('FETCH 1 BODY[MIME]')).tagged).toBe('A7 BAD MIME needs a part number');
    expect(await c.cmd('UID FETCH 99999:100000 FLAGS')).toEqual({
      untagged: [],
      continuations: [],
      tagged: 'A8 OK UID fetch completed.',
    });
    // 559:* names the last message even above every UID (RFC 9051 §9).
    const last = (await h.store.folderInfo(BOB.id, 'Fetch')).uidNext - 1;
    expect((await c.cmd('UID FETCH 99999:* UID')).untagged).toEqual([`* 5 FETCH (UID ${last})`]);
    expect((await c.cmd('FETCH * UID')).untagged).toEqual([`* 5 FETCH (UID ${last})`]);
    c.close();
  });
});

describe('STORE, COPY, MOVE, EXPUNGE, CLOSE', () => {
  it('STORE +FLAGS, -FLAGS, FLAGS, .SILENT, UID STORE (RFC 9051 §6.4.6)', async () => {
    await h.store.createFolder(BOB.id, 'Store');
    const uids: number[] = [];
    for (let i = 0; i < 3; i++) uids.push(await h.deliver(BOB, message(`s${i}`), 'Store'));
    const c = await session('Store');
    expect((await c.cmd('STORE 1:2 +FLAGS (\\Flagged $Work)')).untagged).toEqual([
      '* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Work)',
      '* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Work \\*)] Flags permitted.',
      '* 1 FETCH (FLAGS (\\Flagged $Work \\Recent))',
      '* 2 FETCH (FLAGS (\\Flagged $Work \\Recent))',
    ]);
    expect((await c.cmd('STORE 2 -FLAGS $Work')).untagged).toEqual([
      '* 2 FETCH (FLAGS (\\Flagged \\Recent))',
    ]);
    expect((await c.cmd('STORE 3 FLAGS.SILENT (\\Seen)')).untagged).toEqual([]);
    expect((await c.cmd(`UID STORE ${uids[2]} FLAGS (\\Answered)`)).untagged).toEqual([
      `* 3 FETCH (UID ${uids[2]} FLAGS (\\Answered \\Recent))`,
    ]);
    // Unchanged messages are reported too, as if fetched.
    expect((await c.cmd('STORE 1 +FLAGS (\\Flagged)')).untagged).toEqual([
      '* 1 FETCH (FLAGS (\\Flagged $Work \\Recent))',
    ]);
    expect((await c.cmd('STORE 1 +FLAGS (\\Recent)')).untagged).toEqual([
      '* 1 FETCH (FLAGS (\\Flagged $Work \\Recent))',
    ]);
    expect((await c.cmd('STORE 1 +FLAGS (\\Bogus)')).tagged).toMatch(/BAD Invalid flag/);
    expect((await c.cmd('STORE 1 XFLAGS (\\Seen)')).tagged).toMatch(/BAD Invalid store item/);
    c.close();
  });

  it('COPY answers COPYUID (RFC 4315 §3), TRYCREATE for a missing mailbox', async () => {
    await h.store.createFolder(BOB.id, 'CopySrc');
    await h.store.createFolder(BOB.id, 'CopyDst');
    for (let i = 0; i < 3; i++) await h.deliver(BOB, message(`c${i}`), 'CopySrc');
    const c = await session('CopySrc');
    const dst = await h.store.folderInfo(BOB.id, 'CopyDst');
    expect((await c.cmd('COPY 1,3 CopyDst')).tagged).toBe(
      `A3 OK [COPYUID ${dst.uidValidity} 1,3 1:2] Copy completed.`,
    );
    expect((await c.cmd('UID COPY 2 CopyDst')).tagged).toBe(
      `A4 OK [COPYUID ${dst.uidValidity} 2 3] Copy completed.`,
    );
    expect((await c.cmd('COPY 1 Nowhere')).tagged).toBe("A5 NO [TRYCREATE] Mailbox doesn't exist");
    // Copying into the selected mailbox announces the copies.
    const self = await c.cmd('COPY 1 CopySrc');
    // ... and this session is the first to see them: \Recent here (RFC 3501 §2.3.2, §7.3.2).
    expect(self.untagged).toEqual(['* 4 EXISTS', '* 4 RECENT']);
    c.close();
  });

  it('MOVE: COPYUID first, then EXPUNGE (RFC 6851 §4.3)', async () => {
    await h.store.createFolder(BOB.id, 'MoveSrc');
    await h.store.createFolder(BOB.id, 'MoveDst');
    for (let i = 0; i < 4; i++) await h.deliver(BOB, message(`m${i}`), 'MoveSrc');
    const c = await session('MoveSrc');
    const dst = await h.store.folderInfo(BOB.id, 'MoveDst');
    const r = await c.cmd('MOVE 2:3 MoveDst');
    expect(r.untagged).toEqual([
      `* OK [COPYUID ${dst.uidValidity} 2:3 1:2] Moved UIDs.`,
      '* 3 EXPUNGE',
      '* 2 EXPUNGE',
    ]);
    expect(r.tagged).toBe('A3 OK Move completed.');
    const u = await c.cmd('UID MOVE 4 MoveDst');
    expect(u.untagged).toEqual([`* OK [COPYUID ${dst.uidValidity} 4 3] Moved UIDs.`, '* 2 EXPUNGE']);
    expect((await c.cmd('FETCH 1:* UID')).untagged).toEqual(['* 1 FETCH (UID 1)']);
    c.close();
  });

  it('EXPUNGE, UID EXPUNGE (RFC 4315 §2.1), CLOSE expunges silently', async () => {
    await h.store.createFolder(BOB.id, 'Exp');
    for (let i = 0; i < 5; i++) await h.deliver(BOB, message(`e${i}`), 'Exp');
    const c = await session('Exp');
    await c.cmd('STORE 2,4,5 +FLAGS.SILENT (\\Deleted)');
    expect((await c.cmd('UID EXPUNGE 4:5')).untagged).toEqual(['* 5 EXPUNGE', '* 4 EXPUNGE']);
    expect((await c.cmd('EXPUNGE')).untagged).toEqual(['* 2 EXPUNGE']);
    expect((await c.cmd('FETCH 1:* UID')).untagged).toEqual(['* 1 FETCH (UID 1)', '* 2 FETCH (UID 3)']);
    await c.cmd('STORE 1 +FLAGS (\\Deleted)');
    expect(await c.cmd('CLOSE')).toEqual({
      untagged: [],
      continuations: [],
      tagged: 'A8 OK Close completed.',
    });
    expect((await h.store.snapshot(BOB.id, 'Exp')).messages.map((m) => m.uid)).toEqual([3]);
    expect((await c.cmd('CLOSE')).tagged).toMatch(/BAD/);
    c.close();
  });
});

describe('SEARCH (RFC 3501 §6.4.4)', () => {
  beforeAll(async () => {
    await h.store.ensureUser(CAROL.id);
    await h.store.createFolder(CAROL.id, 'Search');
    const add = async (text: string, flags: string[], date: string) => {
      const { Readable } = await import('node:stream');
      await h.store.append(CAROL.id, 'Search', Readable.from([Buffer.from(text, 'latin1')]), {
        flags,
        internalDate: new Date(date),
      });
    };
    await add(NESTED, ['\\Seen', '\\Flagged'], '2022-03-01T10:00:00Z'); // 1
    await add(FORWARD, ['\\Answered', '$Work'], '2022-03-02T23:30:00Z'); // 2
    await add(
      message(
        'plain one',
        'the quick brown fox\r\n',
        'Cc: Dora <dora@example.test>\r\nBcc: eve@example.test\r\n',
      ),
      ['\\Deleted', '\\Draft'],
      '2022-03-03T00:00:00Z',
    ); // 3
    await add(
      'From: x@example.test\r\nSubject: =?UTF-8?B?w5xiZXJ3ZWlzdW5n?=\r\nDate: 5 Mar 2022 12:00 +0000\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\nR3L832U=\r\n',
      [],
      '2022-03-04T12:00:00Z',
    ); // 4
  });

  const cases: Array<[string, string]> = [
    ['ALL', '1 2 3 4'],
    ['ANSWERED', '2'],
    ['UNANSWERED', '1 3 4'],
    ['DELETED', '3'],
    ['UNDELETED', '1 2 4'],
    ['DRAFT', '3'],
    ['UNDRAFT', '1 2 4'],
    ['FLAGGED', '1'],
    ['UNFLAGGED', '2 3 4'],
    ['SEEN', '1'],
    ['UNSEEN', '2 3 4'],
    ['KEYWORD $work', '2'],
    ['UNKEYWORD $Work', '1 3 4'],
    // The session's SELECT saw every message first: all \Recent here (RFC 3501 §6.4.4).
    ['NEW', '2 3 4'],
    ['RECENT', '1 2 3 4'],
    ['OLD', ''],
    ['FROM joerg', '1'],
    ['FROM "Jörg Müller"', '1'],
    ['TO "smith, john"', '1'],
    ['CC dora', '3'],
    ['BCC eve@', '3'],
    ['SUBJECT grüße', '1'],
    ['SUBJECT "KÖLN"', '1'],
    ['SUBJECT übERweisung', '4'],
    ['HEADER Message-ID nested@', '1'],
    ['HEADER Content-Disposition ""', ''],
    ['HEADER cc ""', '1 3'],
    ['BODY "schöne welt"', '1'],
    ['BODY numbers', '2'],
    ['BODY grüße', '1 4'],
    ['BODY "brown fox"', '3'],
    ['TEXT report', '2'],
    ['TEXT dora', '3'],
    ['BEFORE 3-Mar-2022', '1 2'],
    ['ON 2-Mar-2022', '2'],
    ['SINCE 3-Mar-2022', '3 4'],
    ['SENTBEFORE 2-Mar-2022', '1 3'],
    ['SENTON 7-Feb-1994', '3'],
    ['SENTSINCE 5-Mar-2022', '4'],
    ['LARGER 527', '1'],
    ['LARGER 526', '1 2'],
    ['SMALLER 233', '4'],
    ['SMALLER 234', '3 4'],
    ['2:3', '2 3'],
    ['*', '4'],
    ['UID 1,4', '1 4'],
    ['NOT SEEN', '2 3 4'],
    ['OR SEEN DRAFT', '1 3'],
    ['(SEEN) (FLAGGED)', '1'],
    ['OR (ANSWERED KEYWORD $Work) NOT (OR SEEN DELETED)', '2 4'],
    ['CHARSET UTF-8 SUBJECT köln', '1'],
    ['CHARSET US-ASCII ALL', '1 2 3 4'],
  ];

  it('evaluates every key', async () => {
    const c = await session('Search', CAROL);
    for (const [query, expected] of cases) {
      const r = await c.cmd(`SEARCH ${query}`);
      expect(r.tagged, query).toMatch(/OK Search completed/);
      expect(r.untagged, query).toEqual([expected ? `* SEARCH ${expected}` : '* SEARCH']);
    }
    c.close();
  });

  it('UID SEARCH answers UIDs; literals; BADCHARSET; syntax errors', async () => {
    const c = await session('Search', CAROL);
    expect((await c.cmd('UID SEARCH FLAGGED')).untagged).toEqual(['* SEARCH 1']);
    c.raw.write('L1 SEARCH CHARSET UTF-8 SUBJECT {5}\r\n');
    expect(await c.response()).toMatch(/^\+ /);
    c.raw.write(Buffer.from('K\xc3\xb6ln\r\n', 'latin1'));
    expect((await c.until('L1')).untagged).toEqual(['* SEARCH 1']);
    expect((await c.cmd('SEARCH CHARSET KOI8-R ALL')).tagged).toBe(
      'A4 NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset',
    );
    expect((await c.cmd('SEARCH BOGUS')).tagged).toBe('A5 BAD Unknown search key BOGUS');
    expect((await c.cmd('SEARCH SINCE yesterday')).tagged).toBe('A6 BAD Invalid search date');
    expect((await c.cmd('SEARCH OR SEEN')).tagged).toBe('A7 BAD Missing search key');
    c.close();
  });
});
