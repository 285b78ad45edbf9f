/**
 * The bulk paths of FETCH and SEARCH: the per-body summary kept in the mail store (ENVELOPE, BODY,
 * BODYSTRUCTURE answered from it must equal what the message gives), the header-only read, BODY[] /
 * RFC822 streamed from the body file (byte-exact, memory bounded while the client does not read), batched
 * responses, messages expunged meanwhile, and SEARCH deciding by metadata before reading.
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CAROL } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeSummary,
  encodeSummary,
  SUMMARY_ANNOTATION,
  SummaryCache,
  summaryOfHead,
} from '../src/fetch/summary.js';
import { bodyStructure } from '../src/mime/bodystructure.js';
import { envelopeOf, envelopeWire } from '../src/mime/envelope.js';
import { parseMime } from '../src/mime/parser.js';
import { ArgTokenizer } from '../src/parser/tokenizer.js';
import { matchesWithoutContent } from '../src/search/evaluate.js';
import { parseSearch } from '../src/search/parse.js';
import { toBuffer } from '../src/wire.js';
import { ADDRESSES, BARE_8BIT, DIGEST, FORWARD, NESTED } from './corpus.js';
import { type Harness, message, selectedSession, startHarness } from './helpers.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

const session = (folder: string) => selectedSession(h.port, CAROL, folder);

/** A full garbage collection (V8's gc(), reached without starting the process with --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const latin1 = (w: Parameters<typeof toBuffer>[0]) => toBuffer(w).toString('latin1');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** What the message itself gives for ENVELOPE, BODY and BODYSTRUCTURE (no cache involved). */
function expected(raw: Buffer): { envelope: string; body: string; bodyStructure: string } {
  const root = parseMime(raw);
  return {
    envelope: latin1(envelopeWire(envelopeOf(raw, root))),
    body: latin1(bodyStructure(raw, root, false)),
    bodyStructure: latin1(bodyStructure(raw, root, true)),
  };
}

/** A header longer than the first read of a header-only summary (16 KiB). */
const LONG_HEADER = Buffer.from(
  `Received: ${'x'.repeat(20_000)}\r\nFrom: Long <long@example.test>\r\nTo: "Folded,\r\n  name" <t@example.test>\r\n` +
    'Subject: =?utf-8?q?long_header?=\r\nMessage-ID: <long@example.test>\r\n\r\nBody after a long header.\r\n',
  'latin1',
);
/** No empty line: the whole message is header. */
const HEADER_ONLY = Buffer.from('From: only@example.test\r\nSubject: header only\r\n', 'latin1');
/** A large body: the whole message is read once for BODYSTRUCTURE, the header alone for ENVELOPE. */
const BIG_TEXT = Buffer.from(
  `From: Big <big@example.test>\r\nSubject: big\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${'line of text\r\n'.repeat(40_000)}`,
  'latin1',
);

describe('the summary cache (ENVELOPE, BODY, BODYSTRUCTURE from the mail store)', () => {
  const raws = [
    Buffer.from(NESTED, 'latin1'),
    Buffer.from(FORWARD, 'latin1'),
    Buffer.from(BARE_8BIT, 'latin1'),
    Buffer.from(ADDRESSES, 'latin1'),
    Buffer.from(DIGEST, 'latin1'),
    LONG_HEADER,
    HEADER_ONLY,
    BIG_TEXT,
    Buffer.from(message('plain'), 'latin1'),
  ];
  beforeAll(async () => {
    await h.store.createFolder(CAROL.id, 'Summary');
    for (const raw of raws) await h.deliver(CAROL, raw, 'Summary');
  });

  it('answers ENVELOPE alike before and after caching, equal to the message; then BODYSTRUCTURE', async () => {
    expect(await h.store.blobAnnotations(CAROL.id, 'Summary', SUMMARY_ANNOTATION)).toEqual(new Map());
    const c = await session('Summary');
    const want = raws.map(expected);
    const envelopes = (r: { untagged: string[] }) => r.untagged;
    const first = await c.cmd('FETCH 1:* (UID ENVELOPE)');
    expect(first.tagged).toMatch(/^A\d+ OK/);
    expect(envelopes(first)).toEqual(
      want.map((w, i) => `* ${i + 1} FETCH (UID ${i + 1} ENVELOPE ${w.envelope})`),
    );
    // Filled: one value per body, decodable, with the ENVELOPE as sent.
    const stored = await h.store.blobAnnotations(CAROL.id, 'Summary', SUMMARY_ANNOTATION);
    expect(stored.size).toBe(raws.length);
    const metas = await h.store.listMessages(CAROL.id, 'Summary');
    metas.forEach((m, i) => {
      const s = decodeSummary(stored.get(m.blobId));
      expect(s?.envelope).toBe(want[i]?.envelope);
      const root = parseMime(raws[i] as Buffer);
      expect(s?.headerLength).toBe(root.bodyStart);
    });
    // From the cache now (and from another session, and in another order of items).
    expect(envelopes(await c.cmd('FETCH 1:* (UID ENVELOPE)'))).toEqual(envelopes(first));
    const other = await session('Summary');
    const full = await other.cmd('FETCH 1:* (BODYSTRUCTURE ENVELOPE BODY)');
    expect(full.untagged).toEqual(
      want.map(
        (w, i) => `* ${i + 1} FETCH (BODYSTRUCTURE ${w.bodyStructure} ENVELOPE ${w.envelope} BODY ${w.body})`,
      ),
    );
    const again = await c.cmd('FETCH 1:* (BODYSTRUCTURE ENVELOPE BODY)');
    expect(again.untagged).toEqual(full.untagged);
    // Now complete in the store.
    const complete = await h.store.blobAnnotations(CAROL.id, 'Summary', SUMMARY_ANNOTATION);
    for (const m of metas) expect(decodeSummary(complete.get(m.blobId))?.bodyStructure).toBeDefined();
    c.close();
    other.close();
  });

  it("recomputes a damaged or foreign value, and answers a copy from its body's summary", async () => {
    // New bodies (never fetched, so not in the server's memory either) with damaged values in the store.
    await h.store.createFolder(CAROL.id, 'Damaged');
    for (const raw of raws) await h.deliver(CAROL, raw, 'Damaged');
    const metas = await h.store.listMessages(CAROL.id, 'Damaged');
    await h.store.setBlobAnnotations(
      CAROL.id,
      'Damaged',
      SUMMARY_ANNOTATION,
      metas.map((m, i) => ({
        blobId: m.blobId,
        value: ['', 'garbage', '3 5\nabc', '1 2 3\n'][i % 4] as string,
      })),
    );
    const c = await session('Damaged');
    const want = raws.map(expected);
    const r = await c.cmd('FETCH 1:* (ENVELOPE BODYSTRUCTURE)');
    expect(r.untagged).toEqual(
      want.map((w, i) => `* ${i + 1} FETCH (ENVELOPE ${w.envelope} BODYSTRUCTURE ${w.bodyStructure})`),
    );
    const repaired = await h.store.blobAnnotations(CAROL.id, 'Damaged', SUMMARY_ANNOTATION);
    for (const m of metas) expect(decodeSummary(repaired.get(m.blobId))?.bodyStructure).toBeDefined();
    expect((await c.cmd('COPY 1:* Trash')).tagged).toMatch(/OK/);
    const t = await session('Trash');
    const copies = await t.cmd('FETCH 1:* (ENVELOPE)');
    expect(copies.untagged).toEqual(want.map((w, i) => `* ${i + 1} FETCH (ENVELOPE ${w.envelope})`));
    c.close();
    t.close();
  });

  it('keeps summaries in memory within its byte budget, oldest out first', () => {
    const cache = new SummaryCache(3 * (100 + 128));
    for (const id of ['a', 'b', 'c']) cache.set(id, 'x'.repeat(100));
    expect(cache.size).toEqual({ entries: 3, bytes: 3 * 228 });
    cache.set('d', 'y'.repeat(100));
    expect(cache.has('a')).toBe(false);
    expect(cache.get('d')).toBe('y'.repeat(100));
    cache.set('b', 'short');
    expect(cache.size.bytes).toBe(2 * 228 + 5 + 128);
    cache.set('huge', 'z'.repeat(1000));
    expect(cache.has('huge')).toBe(false);
  });

  it('encodes summaries losslessly (8-bit octets) and refuses malformed text', () => {
    const s = {
      headerLength: 42,
      envelope: '("d" "\xe9\xff" NIL)',
      body: '("TEXT")',
      bodyStructure: '("TEXT" x)',
    };
    expect(decodeSummary(encodeSummary(s))).toEqual(s);
    const head = { headerLength: 7, envelope: 'NIL' };
    expect(decodeSummary(encodeSummary(head))).toEqual(head);
    for (const bad of [
      '',
      '\n',
      'x 1\na',
      '1 2\nabc',
      '1 5\nabc',
      '1 2 3\nabcdef',
      '-1 1\na',
      '1  1\na',
      '1 1 1 1 1\na',
    ]) {
      expect(decodeSummary(bad)).toBeNull();
    }
    // A header cut off before its empty line is not summarised from the head alone.
    expect(summaryOfHead(Buffer.from('From: a@b\r\nSubject: cut'), false)).toBeNull();
    expect(summaryOfHead(Buffer.from('From: a@b\r\n\r\nbody'), false)?.headerLength).toBe(13);
  });
});

describe('BODY[] and RFC822 from the body file', () => {
  const big = Buffer.alloc(5 * 1024 * 1024 + 123);
  let uids: number[];
  beforeAll(async () => {
    const head = Buffer.from('From: big@example.test\r\nSubject: five megabytes\r\n\r\n', 'latin1');
    head.copy(big);
    for (let i = head.length; i < big.length; i++) big[i] = i % 78 === 77 ? 0x0a : 0x20 + ((i * 7) % 90);
    await h.store.createFolder(CAROL.id, 'Big');
    uids = [];
    for (const m of [message('small one'), big, message('small two')])
      uids.push(await h.deliver(CAROL, m, 'Big'));
  });

  it('sends a 5 MB message byte-exact (BODY.PEEK[], BODY[], RFC822, twice in one response)', async () => {
    const c = await session('Big');
    for (const [items, names] of [
      ['BODY.PEEK[]', ['BODY[]']],
      ['RFC822', ['RFC822']],
      ['(BODY.PEEK[] RFC822.SIZE RFC822)', ['BODY[]', 'RFC822']],
    ] as const) {
      const r = await c.cmd(`UID FETCH 1:* ${items}`, { timeoutMs: 30_000 });
      expect(r.tagged).toMatch(/^A\d+ OK/);
      expect(r.untagged).toHaveLength(3);
      const line = r.untagged[1] as string;
      for (const name of names) {
        const at = line.indexOf(`${name} {${big.length}}\r\n`);
        expect(at).toBeGreaterThan(0);
        const start = at + `${name} {${big.length}}\r\n`.length;
        expect(sha(Buffer.from(line.slice(start, start + big.length), 'latin1'))).toBe(sha(big));
      }
      expect(line.endsWith(')')).toBe(true);
      expect(r.untagged[0]).toContain(message('small one'));
      expect(r.untagged[2]).toContain(message('small two'));
    }
    // RFC822 (not a PEEK) set \Seen: FLAGS came with the responses.
    expect((await c.cmd('FETCH 2 FLAGS')).untagged[0]).toContain('\\Seen');
    c.close();
  });

  it('keeps memory bounded while the client does not read, then delivers every octet', async () => {
    // A raw socket that stops reading after the first chunk: the server must wait, not buffer 20 MB.
    const huge = Buffer.alloc(20 * 1024 * 1024);
    const head = Buffer.from('From: huge@example.test\r\nSubject: twenty\r\n\r\n', 'latin1');
    head.copy(huge);
    for (let i = head.length; i < huge.length; i++) huge[i] = i % 64 === 63 ? 0x0a : 0x41 + (i % 26);
    const uid = await h.deliver(CAROL, huge, 'Big');
    const sock: Socket = connect({ host: '127.0.0.1', port: h.port });
    const chunks: Buffer[] = [];
    let received = 0;
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      received += d.length;
    });
    const waitFor = async (text: string) => {
      for (let i = 0; i < 3000; i++) {
        if (Buffer.concat(chunks).includes(text)) return;
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error(`no ${text}`);
    };
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`a LOGIN ${CAROL.login} "${CAROL.password}"\r\nb SELECT Big\r\n`);
    await waitFor('b OK');
    chunks.length = 0;
    received = 0;
    collectGarbage();
    const before = process.memoryUsage().arrayBuffers;
    sock.write(`c UID FETCH ${uid} BODY.PEEK[]\r\n`);
    for (let i = 0; i < 2000 && received < 256 * 1024; i++) await new Promise((r) => setTimeout(r, 5));
    sock.pause();
    await new Promise((r) => setTimeout(r, 300));
    // Chunks already sent are garbage; what this test's client holds (`received`) is not the server's.
    collectGarbage();
    const during = process.memoryUsage().arrayBuffers;
    // Socket buffers and one read chunk, not the message (the old path held it whole, twice).
    expect(during - before - received).toBeLessThan(8 * 1024 * 1024);
    expect(received).toBeLessThan(huge.length);
    sock.resume();
    await waitFor('c OK');
    const all = Buffer.concat(chunks);
    const marker = `BODY[] {${huge.length}}\r\n`;
    const start = all.indexOf(marker) + marker.length;
    expect(start).toBeGreaterThan(marker.length);
    expect(sha(all.subarray(start, start + huge.length))).toBe(sha(huge));
    expect(all.subarray(start + huge.length).toString('latin1')).toMatch(/^\)\r\nc OK/);
    sock.destroy();
  });

  it('leaves out a message expunged meanwhile (NO [EXPUNGEISSUED]), large or small', async () => {
    const a = await session('Big');
    const b = await session('Big');
    // b expunges the big message and a small one; a has not been told yet.
    expect((await b.cmd('UID STORE 1:2 +FLAGS.SILENT (\\Deleted)')).tagged).toMatch(/OK/);
    expect((await b.cmd('EXPUNGE')).tagged).toMatch(/OK/);
    const r = await a.cmd('FETCH 1:3 (UID BODY.PEEK[] ENVELOPE)');
    expect(r.untagged.filter((u) => /^\* \d+ FETCH/.test(u))).toEqual([
      `* 3 FETCH (UID ${uids[2]} BODY[] {${message('small two').length}}\r\n${message('small two')} ENVELOPE ${expected(Buffer.from(message('small two'), 'latin1')).envelope})`,
    ]);
    expect(r.tagged).toMatch(/^A\d+ NO \[EXPUNGEISSUED\]/);
    // UID FETCH ignores them silently; the EXPUNGEs arrive then.
    const u = await a.cmd('UID FETCH 1:* (UID RFC822.SIZE)');
    expect(u.tagged).toMatch(/^A\d+ OK/);
    expect(u.untagged.filter((x) => x.endsWith('EXPUNGE'))).toHaveLength(2);
    a.close();
    b.close();
  });
});

describe('BODY[] of many small messages (read in groups into reused buffers)', () => {
  const bodies: Buffer[] = [];
  beforeAll(async () => {
    await h.store.createFolder(CAROL.id, 'Many');
    // 1,200 distinct messages (about 7 MB): read in about ten groups, more than a FETCH has buffers
    // for, so the buffers are reused.
    for (let i = 0; i < 1200; i++) {
      const head = `From: m${i}@example.test\r\nSubject: many ${i}\r\n\r\n`;
      const size = 2_000 + ((i * 7919) % 7_000);
      const body = Buffer.alloc(head.length + size);
      body.write(head, 'latin1');
      for (let k = head.length; k < body.length; k++) {
        body[k] = k % 80 === 79 ? 0x0a : 0x21 + ((k * 31 + i * 17) % 90);
      }
      bodies.push(body);
    }
    for (const b of bodies) await h.deliver(CAROL, b, 'Many');
  });

  /** FETCH 1:* BODY.PEEK[] over a raw socket; `slow`: the client stops reading now and then. */
  async function fetchAll(slow: boolean): Promise<Buffer> {
    const sock: Socket = connect({ host: '127.0.0.1', port: h.port });
    const chunks: Buffer[] = [];
    let size = 0;
    let seen = 0;
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      if (slow && size - seen > 256 * 1024) {
        seen = size;
        sock.pause();
        setTimeout(() => sock.resume(), 100);
      }
    });
    const waitFor = async (text: string) => {
      for (let i = 0; i < 6000; i++) {
        if (Buffer.concat(chunks).subarray(-200).includes(text)) return;
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error(`no ${text}`);
    };
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`a LOGIN ${CAROL.login} "${CAROL.password}"\r\nb SELECT Many\r\n`);
    await waitFor('b OK');
    chunks.length = 0;
    size = 0;
    seen = 0;
    sock.write('c UID FETCH 1:* BODY.PEEK[]\r\n');
    await waitFor('c OK');
    sock.destroy();
    return Buffer.concat(chunks);
  }

  function check(all: Buffer): void {
    let at = 0;
    for (let i = 0; i < bodies.length; i++) {
      const body = bodies[i] as Buffer;
      const marker = Buffer.from(`* ${i + 1} FETCH (UID ${i + 1} BODY[] {${body.length}}\r\n`, 'latin1');
      expect(all.subarray(at, at + marker.length).toString('latin1')).toBe(marker.toString('latin1'));
      at += marker.length;
      expect(sha(all.subarray(at, at + body.length))).toBe(sha(body));
      at += body.length;
      expect(all.subarray(at, at + 3).toString('latin1')).toBe(')\r\n');
      at += 3;
    }
    expect(all.subarray(at).toString('latin1')).toMatch(/^c OK /);
  }

  it('sends every body byte-exact to a client that reads at once', async () => {
    check(await fetchAll(false));
  });

  it('sends every body byte-exact to a client that stops reading now and then', async () => {
    check(await fetchAll(true));
  });
});

describe('SEARCH decides by metadata before reading', () => {
  const key = (text: string) => {
    const t = new ArgTokenizer({ maxNesting: 32, maxArguments: 1000 });
    t.feed(Buffer.from(text, 'utf8'));
    return parseSearch(t.args).key;
  };
  const candidate = (uid: number, flags: string[]) => ({
    seq: uid,
    meta: { uid, flags, internalDate: new Date(0), size: 100, modSeq: 1, blobId: 'x' },
  });
  const env = {
    count: 10,
    maxUid: 10,
    saved: new Set<number>(),
    isRecent: () => false,
    load: async () => Promise.reject(new Error('no')),
  };

  it('is three-valued: known from flags and UIDs, unknown where a text key decides', () => {
    const seen = candidate(1, ['\\Seen']);
    const unseen = candidate(2, []);
    expect(matchesWithoutContent(key('SEEN TEXT x'), unseen, env)).toBe(false);
    expect(matchesWithoutContent(key('SEEN TEXT x'), seen, env)).toBeUndefined();
    expect(matchesWithoutContent(key('OR SEEN TEXT x'), seen, env)).toBe(true);
    expect(matchesWithoutContent(key('OR SEEN TEXT x'), unseen, env)).toBeUndefined();
    expect(matchesWithoutContent(key('NOT TEXT x'), seen, env)).toBeUndefined();
    expect(matchesWithoutContent(key('UID 5 BODY x'), seen, env)).toBe(false);
    expect(matchesWithoutContent(key('NOT (UID 5 BODY x)'), seen, env)).toBe(true);
    expect(matchesWithoutContent(key('ALL'), seen, env)).toBe(true);
  });

  it('gives the same results with metadata and text keys combined', async () => {
    await h.store.createFolder(CAROL.id, 'Search');
    for (let i = 1; i <= 40; i++) {
      await h.deliver(CAROL, message(`number ${i}`, i % 3 === 0 ? 'needle here\r\n' : 'hay\r\n'), 'Search');
    }
    const c = await session('Search');
    expect((await c.cmd('STORE 1:10 +FLAGS.SILENT (\\Seen)')).tagged).toMatch(/OK/);
    const hits = async (q: string) => ((await c.cmd(`SEARCH ${q}`)).untagged[0] as string).trim();
    expect(await hits('BODY needle')).toBe(`* SEARCH ${[...Array(13)].map((_, i) => (i + 1) * 3).join(' ')}`);
    expect(await hits('SEEN BODY needle')).toBe('* SEARCH 3 6 9');
    expect(await hits('UID 30:* BODY needle')).toBe('* SEARCH 30 33 36 39');
    expect(await hits('OR SEEN BODY needle')).toBe(
      `* SEARCH 1 2 3 4 5 6 7 8 9 10 ${[4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map((k) => k * 3).join(' ')}`,
    );
    expect(await hits('NOT BODY needle UNSEEN SUBJECT "number 1"')).toBe('* SEARCH 11 13 14 16 17 19');
    c.close();
  });
});
