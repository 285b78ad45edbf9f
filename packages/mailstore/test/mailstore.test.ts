import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { createClient } from '@libsql/client';
import { Sqlite3Transaction } from '@libsql/client/sqlite3';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FlagOperation, MailBackend, MessageMeta } from '../src/backend.js';
import { MailStore, type MailStoreOptions } from '../src/store.js';
import { backendContract, message, readAll, rejectsWith, source } from './contract.js';

const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailstore-test-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

backendContract('MailStore', async () => {
  const dir = await tempDir();
  const backend = await MailStore.open({ dir });
  return {
    backend,
    cleanup: async () => {
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/** Polls until `cond` holds (no timing assumptions about the machine). */
async function until(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition not reached');
}

/** Every body file under blobs/, as `shard/name`. */
async function blobFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const shard of await readdir(join(dir, 'blobs'))) {
    for (const name of await readdir(join(dir, 'blobs', shard))) out.push(`${shard}/${name}`);
  }
  return out.sort();
}

describe('MailStore', () => {
  let store: MailStore;
  let dir: string;

  async function openStore(opts: Partial<MailStoreOptions> = {}): Promise<MailStore> {
    dir = await tempDir();
    store = await MailStore.open({ dir, ...opts });
    return store;
  }

  afterEach(async () => {
    await store?.close();
  });

  it('keeps everything committed across a reopen', async () => {
    await openStore();
    await store.ensureUser('u');
    await store.deliver({ users: ['u'], source: source(message('one')) });
    await store.deliver({ users: ['u'], source: source(message('two')) });
    await store.storeFlags('u', 'INBOX', [1], 'add', ['\\Seen', 'Kept']);
    await store.createFolder('u', 'Archive');
    await store.copy('u', 'INBOX', [1, 2], 'Archive');
    await store.storeFlags('u', 'INBOX', [2], 'add', ['\\Deleted']);
    await store.expunge('u', 'INBOX');
    const before = {
      folders: await store.listFolders('u'),
      inbox: await store.snapshot('u', 'INBOX'),
      archive: await store.snapshot('u', 'Archive'),
      quota: await store.quota('u'),
    };
    await store.close();

    store = await MailStore.open({ dir });
    expect(store.recovery).toEqual({ owner: true, tempFiles: 0, orphanBlobs: 0 });
    expect(await store.listFolders('u')).toEqual(before.folders);
    expect(await store.snapshot('u', 'INBOX')).toEqual(before.inbox);
    expect(await store.snapshot('u', 'Archive')).toEqual(before.archive);
    expect(await store.quota('u')).toEqual(before.quota);
    expect(await store.expungedSince('u', 'INBOX', 0)).toEqual([2]);
    expect((await readAll(await store.openMessage('u', 'Archive', 2))).toString()).toBe(message('two'));
    // UIDs continue after the reopen.
    const r = await store.deliver({ users: ['u'], source: source(message('three')) });
    expect(r.uids.get('u')).toBe(3);
  });

  it('removes crash leftovers on open and never shows them', async () => {
    await openStore();
    await store.ensureUser('u');
    await store.deliver({ users: ['u'], source: source(message('committed')) });
    const committed = await blobFiles(dir);
    expect(committed).toHaveLength(1);
    await store.close();

    // A body being received (tmp/) and one renamed into place whose metadata never committed.
    await writeFile(join(dir, 'tmp', '01JCRASHEDTEMPFILE0000000'), 'Subject: half\r\n\r\npart');
    await mkdir(join(dir, 'blobs', 'ZZ'), { recursive: true });
    await writeFile(join(dir, 'blobs', 'ZZ', '01JCRASHEDORPHANBLOB00000'), message('orphan'));
    const shard = committed[0]?.split('/')[0] as string;
    await writeFile(join(dir, 'blobs', shard, '01JCRASHEDORPHANBLOB00001'), message('orphan 2'));

    store = await MailStore.open({ dir });
    expect(store.recovery).toEqual({ owner: true, tempFiles: 1, orphanBlobs: 2 });
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(await blobFiles(dir)).toEqual(committed);
    const snap = await store.snapshot('u', 'INBOX');
    expect(snap.messages.map((m) => m.uid)).toEqual([1]);
    expect((await readAll(await store.openMessage('u', 'INBOX', 1))).toString()).toBe(message('committed'));
    expect((await store.quota('u')).messages).toBe(1);
  });

  it('does not touch fresh files of another open instance', async () => {
    await openStore();
    await store.ensureUser('u');
    // A delivery in progress: its body is in tmp/ and stays there until the stream ends.
    const s = new Readable({ read() {} });
    s.push(Buffer.from(message('in progress')));
    const delivery = store.deliver({ users: ['u'], source: s });
    await until(async () => (await readdir(join(dir, 'tmp'))).length === 1);
    await mkdir(join(dir, 'blobs', 'ZZ'), { recursive: true });
    await writeFile(join(dir, 'blobs', 'ZZ', '01JFRESHNOTYETCOMMITTED00'), 'x');

    const second = await MailStore.open({ dir });
    try {
      expect(second.recovery).toEqual({ owner: false, tempFiles: 0, orphanBlobs: 0 });
      expect(await readdir(join(dir, 'tmp'))).toHaveLength(1);
      s.push(null);
      expect((await delivery).uids.get('u')).toBe(1);
      // Both instances see the committed state.
      expect((await second.folderInfo('u', 'INBOX')).exists).toBe(1);
    } finally {
      await second.close();
    }
    await store.close();
    store = await MailStore.open({ dir });
    expect(store.recovery).toEqual({ owner: true, tempFiles: 0, orphanBlobs: 1 });
  });

  it('leaves nothing behind when the source fails or is too large', async () => {
    await openStore();
    await store.ensureUser('u');
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(100_000, 'a'));
        this.destroy(new Error('connection lost'));
      },
    });
    await expect(store.deliver({ users: ['u'], source: failing })).rejects.toThrow('connection lost');
    await rejectsWith(
      store.deliver({ users: ['u'], source: source(Buffer.alloc(300_000)), maxBytes: 200_000 }),
      'too-large',
    );
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(await blobFiles(dir)).toEqual([]);
    expect(await store.folderInfo('u', 'INBOX')).toMatchObject({ exists: 0, uidNext: 1 });
  });

  it('stores a multi-user delivery once and shares bodies until the last reference goes', async () => {
    await openStore();
    for (const u of ['a', 'b', 'c']) await store.ensureUser(u);
    const r = await store.deliver({ users: ['a', 'b', 'c'], source: source(message('to three')) });
    expect(r.uids.size).toBe(3);
    const ids = await Promise.all(
      ['a', 'b', 'c'].map(async (u) => (await store.listMessages(u, 'INBOX'))[0]?.blobId),
    );
    expect(new Set(ids).size).toBe(1);
    expect(await blobFiles(dir)).toHaveLength(1);

    await store.copy('a', 'INBOX', [1], 'Trash');
    for (const u of ['a', 'b']) {
      await store.storeFlags(u, 'INBOX', [1], 'add', ['\\Deleted']);
      await store.expunge(u, 'INBOX');
    }
    expect(await blobFiles(dir)).toHaveLength(1);
    await store.storeFlags('a', 'Trash', [1], 'add', ['\\Deleted']);
    await store.expunge('a', 'Trash');
    expect(await blobFiles(dir)).toHaveLength(1);
    await store.purgeUser('c');
    expect(await blobFiles(dir)).toEqual([]);
  });

  it('deletes body files with deleteFolder and purgeUser', async () => {
    await openStore();
    for (const u of ['a', 'b']) await store.ensureUser(u);
    await store.createFolder('a', 'Old');
    await store.append('a', 'Old', source(message('in old')));
    await store.deliver({ users: ['a', 'b'], source: source(message('shared')) });
    await store.deliver({ users: ['a'], source: source(message('a only')) });
    expect(await blobFiles(dir)).toHaveLength(3);
    await store.deleteFolder('a', 'Old');
    expect(await blobFiles(dir)).toHaveLength(2);
    await store.purgeUser('a');
    expect(await blobFiles(dir)).toHaveLength(1);
    expect((await readAll(await store.openMessage('b', 'INBOX', 1))).toString()).toBe(message('shared'));
  });

  it('removes annotation rows with their bodies (expunge, deleteFolder, purgeUser)', async () => {
    await openStore();
    const rows = async (): Promise<number> => {
      const db = createClient({ url: pathToFileURL(join(dir, 'mailstore.db')).href });
      try {
        return Number((await db.execute('SELECT COUNT(*) AS n FROM blob_annotations')).rows[0]?.n);
      } finally {
        db.close();
      }
    };
    for (const u of ['a', 'b']) await store.ensureUser(u);
    await store.createFolder('a', 'Old');
    await store.append('a', 'Old', source(message('in old')));
    await store.deliver({ users: ['a', 'b'], source: source(message('shared')) });
    await store.deliver({ users: ['a'], source: source(message('a only')) });
    const annotate = async (u: string, folder: string) => {
      const metas = await store.listMessages(u, folder);
      await store.setBlobAnnotations(
        u,
        folder,
        'sum',
        metas.map((m) => ({ blobId: m.blobId, value: `v ${m.uid}` })),
      );
    };
    await annotate('a', 'Old');
    await annotate('a', 'INBOX');
    expect(await rows()).toBe(3);
    await store.deleteFolder('a', 'Old');
    expect(await rows()).toBe(2);
    await store.storeFlags('a', 'INBOX', [2], 'add', ['\\Deleted']);
    await store.expunge('a', 'INBOX');
    expect(await rows()).toBe(1);
    // The shared body stays annotated while b still has it.
    await store.purgeUser('a');
    expect(await rows()).toBe(1);
    expect((await store.blobAnnotations('b', 'INBOX', 'sum')).size).toBe(1);
    await store.purgeUser('b');
    expect(await rows()).toBe(0);
  });

  it('adds the annotation table to a store made before it (additive, same schema version)', async () => {
    await openStore();
    await store.ensureUser('u');
    await store.deliver({ users: ['u'], source: source(message('old store')) });
    await store.close();
    const db = createClient({ url: pathToFileURL(join(dir, 'mailstore.db')).href });
    await db.execute('DROP TABLE blob_annotations');
    db.close();
    store = await MailStore.open({ dir });
    const [meta] = await store.listMessages('u', 'INBOX');
    await store.setBlobAnnotations('u', 'INBOX', 'sum', [{ blobId: meta?.blobId as string, value: 'x' }]);
    expect(await store.blobAnnotations('u', 'INBOX', 'sum')).toEqual(new Map([[meta?.blobId, 'x']]));
  });

  it('commits 50 concurrent deliveries (group commit) with distinct ascending UIDs', async () => {
    await openStore();
    for (const u of ['a', 'b']) await store.ensureUser(u);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.deliver({
          users: i % 5 === 0 ? ['a', 'b'] : ['a'],
          source: source(message(`m${i}`, 'x'.repeat(10_240))),
        }),
      ),
    );
    const uids = results.map((r) => r.uids.get('a') as number);
    expect(new Set(uids).size).toBe(50);
    expect([...uids].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const snap = await store.snapshot('a', 'INBOX');
    expect(snap.messages.map((m) => m.uid)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const mods = snap.messages.map((m) => m.modSeq);
    expect(new Set(mods).size).toBe(50);
    expect(mods).toEqual([...mods].sort((x, y) => x - y));
    expect(snap).toMatchObject({ exists: 50, uidNext: 51, highestModSeq: Math.max(...mods) });
    // Each caller got its own message.
    for (const [i, r] of results.entries()) {
      const text = (
        await readAll(await store.openMessage('a', 'INBOX', r.uids.get('a') as number))
      ).toString();
      expect(text).toBe(message(`m${i}`, 'x'.repeat(10_240)));
    }
    expect((await store.snapshot('b', 'INBOX')).messages.map((m) => m.uid)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    expect(await blobFiles(dir)).toHaveLength(50);
  });

  it('fails only the delivery whose user vanished while others share its commit', async () => {
    await openStore();
    for (const u of ['a', 'b']) await store.ensureUser(u);
    const slow = (text: string) => {
      const s = new Readable({ read() {} });
      return { s, end: () => s.push(null) && undefined, text };
    };
    const streams = Array.from({ length: 6 }, (_, i) => slow(message(`m${i}`)));
    const pending = streams.map((st, i) =>
      store.deliver({ users: [i === 3 ? 'b' : 'a'], source: st.s }).then(
        (r) => ({ ok: true as const, r }),
        (err: unknown) => ({ ok: false as const, err }),
      ),
    );
    // Every body is being received (the user check is behind them).
    await until(async () => (await readdir(join(dir, 'tmp'))).length === 6);
    await store.purgeUser('b');
    for (const st of streams) {
      st.s.push(Buffer.from(st.text));
      st.end();
    }
    const outcomes = await Promise.all(pending);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, false, true, true]);
    expect(outcomes[3]).toMatchObject({ err: { code: 'no-such-user' } });
    expect((await store.folderInfo('a', 'INBOX')).exists).toBe(5);
    expect(await blobFiles(dir)).toHaveLength(5);
  });

  it('commits one by one when a shared group transaction fails', async () => {
    await openStore();
    await store.ensureUser('a');
    const poison = message('poison', 'p'.repeat(500));
    const poisonSize = Buffer.byteLength(poison);
    const execute = Sqlite3Transaction.prototype.execute;
    const spy = vi.spyOn(Sqlite3Transaction.prototype, 'execute').mockImplementation(function (
      this: Sqlite3Transaction,
      ...args: Parameters<Sqlite3Transaction['execute']>
    ) {
      const stmt = args[0] as { sql?: string; args?: unknown[] } | string;
      if (typeof stmt === 'object' && stmt.sql?.startsWith('INSERT INTO blobs')) {
        const blobs = JSON.parse(String(stmt.args?.[0])) as Array<[string, string, number]>;
        if (blobs.some((b) => b[2] === poisonSize)) {
          return Promise.reject(new Error('poisoned statement'));
        }
      }
      return execute.apply(this, args);
    });
    try {
      const streams = Array.from({ length: 6 }, () => new Readable({ read() {} }));
      const pending = streams.map((s) =>
        store.deliver({ users: ['a'], source: s }).then(
          (r) => r.uids.get('a'),
          (err: Error) => err.message,
        ),
      );
      await until(async () => (await readdir(join(dir, 'tmp'))).length === 6);
      // The six bodies end together, so they normally share a group, which fails as a whole.
      streams.forEach((s, i) => {
        s.push(Buffer.from(i === 2 ? poison : message(`m${i}`)));
        s.push(null);
      });
      const outcomes = await Promise.all(pending);
      expect(outcomes[2]).toBe('poisoned statement');
      expect(outcomes.filter((o) => typeof o === 'number').sort()).toEqual([1, 2, 3, 4, 5]);
    } finally {
      spy.mockRestore();
    }
    expect((await store.folderInfo('a', 'INBOX')).exists).toBe(5);
    expect(await blobFiles(dir)).toHaveLength(5);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('enforces the quota on append, copy and deliver, not on move', async () => {
    const limits = new Map<string, number | null>([['u', 2_000]]);
    await openStore({ quotaLimit: async (u) => limits.get(u) ?? null });
    await store.ensureUser('u');
    await store.ensureUser('free');
    const big = message('big', 'x'.repeat(1_500));
    await store.append('u', 'INBOX', source(big));
    expect(await store.quota('u')).toEqual({
      usedBytes: Buffer.byteLength(big),
      messages: 1,
      limitBytes: 2_000,
    });
    expect((await store.quota('free')).limitBytes).toBeNull();
    await rejectsWith(store.append('u', 'Drafts', source(big)), 'over-quota');
    await rejectsWith(store.copy('u', 'INBOX', [1], 'Trash'), 'over-quota');
    expect(await blobFiles(dir)).toHaveLength(1);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    // A delivery checks the message's real size too (nothing stored, the body file removed).
    await rejectsWith(store.deliver({ users: ['u'], source: source(big) }), 'over-quota');
    expect((await store.quota('u')).usedBytes).toBe(Buffer.byteLength(big));
    expect(await blobFiles(dir)).toHaveLength(1);
    await store.deliver({ users: ['u'], source: source('small') });
    await store.move('u', 'INBOX', [1], 'Trash');
    await rejectsWith(store.append('u', 'INBOX', source(big)), 'over-quota');
    limits.set('u', null);
    await store.append('u', 'INBOX', source('x'));
  });

  it('gives a recreated folder a greater UIDVALIDITY even when the clock stands still', async () => {
    const frozen = new Date('2030-01-01T00:00:00Z');
    await openStore({ now: () => frozen });
    await store.ensureUser('u');
    const seen = new Set<number>();
    let last = 0;
    for (let i = 0; i < 3; i++) {
      await store.createFolder('u', 'X');
      const v = (await store.folderInfo('u', 'X')).uidValidity;
      expect(v).toBeGreaterThan(last);
      expect(seen.has(v)).toBe(false);
      seen.add(v);
      last = v;
      await store.deleteFolder('u', 'X');
    }
    expect(last).toBeGreaterThanOrEqual(Math.floor(frozen.getTime() / 1000));
    await store.deliver({ users: ['u'], source: source(message('dated')) });
    expect((await store.listMessages('u', 'INBOX'))[0]?.internalDate.getTime()).toBe(frozen.getTime());
  });

  it('snapshots a folder of more than 10,000 messages in one piece', async () => {
    await openStore();
    await store.ensureUser('u');
    await store.deliver({ users: ['u'], source: source(message('seed')) });
    await store.storeFlags('u', 'INBOX', [1], 'add', ['\\Seen', '$Tag']);
    // Doubling by copy: 2^14 = 16,384 messages.
    for (let i = 0; i < 14; i++) {
      const { messages } = await store.snapshot('u', 'INBOX');
      await store.copy(
        'u',
        'INBOX',
        messages.map((m) => m.uid),
        'INBOX',
      );
    }
    const snap = await store.snapshot('u', 'INBOX');
    expect(snap.messages).toHaveLength(2 ** 14);
    expect(snap.exists).toBe(2 ** 14);
    expect(snap.unseen).toBe(0);
    expect(snap.flagsInUse).toContain('$Tag');
    expect(snap.messages.every((m, i) => m.uid === i + 1)).toBe(true);
    const tail = await store.listMessages('u', 'INBOX', { fromUid: 2 ** 14 - 1 });
    expect(tail.map((m) => m.uid)).toEqual([2 ** 14 - 1, 2 ** 14]);
    const flagged = await store.storeFlags(
      'u',
      'INBOX',
      snap.messages.map((m) => m.uid),
      'add',
      ['\\Flagged'],
    );
    expect(flagged.changed).toHaveLength(2 ** 14);
    expect(new Set(flagged.changed.map((m) => m.modSeq)).size).toBe(2 ** 14);
  });

  it('keeps serving other subscribers when a listener throws', async () => {
    await openStore();
    await store.ensureUser('u');
    const warnings: unknown[] = [];
    const onWarning = (w: unknown) => warnings.push(w);
    process.on('warning', onWarning);
    const got: string[] = [];
    store.subscribe('u', () => {
      throw new Error('a broken session (this warning is expected by the test)');
    });
    store.subscribe('u', (e) => got.push(e.kind));
    const r = await store.deliver({ users: ['u'], source: source(message('m')) });
    expect(r.uids.get('u')).toBe(1);
    expect(got).toEqual(['exists']);
    await new Promise((res) => setImmediate(res));
    process.off('warning', onWarning);
    expect(warnings.length).toBeGreaterThanOrEqual(1);
  });

  it('waits for deliveries in progress on close and refuses work afterwards', async () => {
    await openStore();
    await store.ensureUser('u');
    const s = new Readable({ read() {} });
    const delivery = store.deliver({ users: ['u'], source: s });
    await until(async () => (await readdir(join(dir, 'tmp'))).length === 1);
    const closing = store.close();
    s.push(Buffer.from(message('late')));
    s.push(null);
    await expect(delivery).resolves.toMatchObject({ uids: new Map([['u', 1]]) });
    await closing;
    await rejectsWith(store.folderInfo('u', 'INBOX'), 'cannot');
    store = await MailStore.open({ dir });
    expect((await store.folderInfo('u', 'INBOX')).exists).toBe(1);
  });
});

describe('MailStore properties', () => {
  let store: MailStore;
  let run = 0;

  beforeAll(async () => {
    store = await MailStore.open({ dir: await tempDir() });
  });
  afterAll(async () => {
    await store.close();
  });

  type Op =
    | { k: 'deliver'; to: number[] }
    | { k: 'store'; user: number; folder: number; pick: number[]; op: FlagOperation; flags: string[] }
    | { k: 'expunge'; user: number; folder: number; pick: number[] | null }
    | { k: 'copy' | 'move'; user: number; from: number; to: number; pick: number[] };

  const FOLDERS = ['INBOX', 'Trash'];
  const FLAGS = ['\\Seen', '\\Deleted', '\\Flagged', 'Work', 'work', '$Later'];
  const user = fc.integer({ min: 0, max: 1 });
  const folder = fc.integer({ min: 0, max: 1 });
  const pick = fc.array(fc.nat(30), { maxLength: 6 });
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ k: fc.constant('deliver' as const), to: fc.subarray([0, 1], { minLength: 1 }) }),
    fc.record({
      k: fc.constant('store' as const),
      user,
      folder,
      pick,
      op: fc.constantFrom<FlagOperation>('set', 'add', 'remove'),
      flags: fc.subarray(FLAGS),
    }),
    fc.record({ k: fc.constant('expunge' as const), user, folder, pick: fc.option(pick, { nil: null }) }),
    fc.record({ k: fc.constantFrom('copy' as const, 'move' as const), user, from: folder, to: folder, pick }),
  );

  interface Seen {
    uidNext: number;
    highestModSeq: number;
    uidValidity: number;
    everUids: Set<number>;
    gone: Set<number>;
  }

  async function check(b: MailBackend, u: string, f: string, prev: Seen | undefined): Promise<Seen> {
    const snap = await b.snapshot(u, f);
    const uids = snap.messages.map((m) => m.uid);
    for (let i = 1; i < uids.length; i++) expect(uids[i]).toBeGreaterThan(uids[i - 1] as number);
    for (const m of snap.messages) {
      expect(m.uid).toBeLessThan(snap.uidNext);
      expect(m.modSeq).toBeLessThanOrEqual(snap.highestModSeq);
    }
    expect(snap.exists).toBe(snap.messages.length);
    expect(snap.size).toBe(snap.messages.reduce((s, m) => s + m.size, 0));
    expect(snap.unseen).toBe(snap.messages.filter((m) => !m.flags.includes('\\Seen')).length);
    const seen: Seen = prev ?? {
      uidNext: 1,
      highestModSeq: 0,
      uidValidity: snap.uidValidity,
      everUids: new Set(),
      gone: new Set(),
    };
    expect(snap.uidValidity).toBe(seen.uidValidity);
    expect(snap.uidNext).toBeGreaterThanOrEqual(seen.uidNext);
    expect(snap.highestModSeq).toBeGreaterThanOrEqual(seen.highestModSeq);
    const present = new Set(uids);
    for (const uid of uids) {
      // Never reused: a UID that disappeared does not come back; a new UID is above the old UIDNEXT.
      expect(seen.gone.has(uid)).toBe(false);
      if (!seen.everUids.has(uid)) expect(uid).toBeGreaterThanOrEqual(seen.uidNext);
    }
    for (const uid of seen.everUids) if (!present.has(uid)) seen.gone.add(uid);
    for (const uid of uids) seen.everUids.add(uid);
    const vanished = await b.expungedSince(u, f, seen.highestModSeq);
    for (const uid of vanished) expect(seen.gone.has(uid)).toBe(true);
    return { ...seen, uidNext: snap.uidNext, highestModSeq: snap.highestModSeq };
  }

  it('keeps UIDs ascending and unique and MODSEQs ascending under random operations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 14 }), async (ops) => {
        run += 1;
        const users = [`p${run}-0`, `p${run}-1`];
        for (const u of users) await store.ensureUser(u);
        const state = new Map<string, Seen>();
        const key = (u: number, f: number) => `${u}/${f}`;
        for (let u = 0; u < 2; u++) {
          for (let f = 0; f < 2; f++)
            state.set(key(u, f), await check(store, users[u] as string, FOLDERS[f] as string, undefined));
        }
        let n = 0;
        for (const op of ops) {
          const before = new Map<string, MessageMeta[]>();
          for (let u = 0; u < 2; u++) {
            for (let f = 0; f < 2; f++)
              before.set(
                key(u, f),
                (await store.snapshot(users[u] as string, FOLDERS[f] as string)).messages,
              );
          }
          const uidsIn = (u: number, f: number, p: number[]) => {
            const msgs = before.get(key(u, f)) ?? [];
            return msgs.length === 0 ? [] : p.map((i) => (msgs[i % msgs.length] as MessageMeta).uid);
          };
          switch (op.k) {
            case 'deliver': {
              n += 1;
              const r = await store.deliver({
                users: op.to.map((i) => users[i] as string),
                source: source(message(`m${n}`, 'y'.repeat(n * 7))),
              });
              for (const i of op.to) {
                const prev = state.get(key(i, 0)) as Seen;
                expect(r.uids.get(users[i] as string)).toBe(prev.uidNext);
              }
              break;
            }
            case 'store': {
              const r = await store.storeFlags(
                users[op.user] as string,
                FOLDERS[op.folder] as string,
                uidsIn(op.user, op.folder, op.pick),
                op.op,
                op.flags,
              );
              const prev = state.get(key(op.user, op.folder)) as Seen;
              for (const m of r.changed) expect(m.modSeq).toBeGreaterThan(prev.highestModSeq);
              break;
            }
            case 'expunge': {
              const ex = await store.expunge(
                users[op.user] as string,
                FOLDERS[op.folder] as string,
                op.pick === null ? undefined : uidsIn(op.user, op.folder, op.pick),
              );
              const deleted = (before.get(key(op.user, op.folder)) ?? []).filter((m) =>
                m.flags.includes('\\Deleted'),
              );
              for (const uid of ex) expect(deleted.some((m) => m.uid === uid)).toBe(true);
              break;
            }
            case 'copy':
            case 'move': {
              const wanted = uidsIn(op.user, op.from, op.pick);
              const r = await store[op.k](
                users[op.user] as string,
                FOLDERS[op.from] as string,
                wanted,
                FOLDERS[op.to] as string,
              );
              expect(r.sourceUids).toEqual([...new Set(wanted)].sort((a, b) => a - b));
              expect(r.destinationUids).toHaveLength(r.sourceUids.length);
              for (let i = 1; i < r.destinationUids.length; i++) {
                expect(r.destinationUids[i]).toBe((r.destinationUids[i - 1] as number) + 1);
              }
              break;
            }
          }
          for (let u = 0; u < 2; u++) {
            for (let f = 0; f < 2; f++) {
              const k = key(u, f);
              const after = await check(store, users[u] as string, FOLDERS[f] as string, state.get(k));
              const changed =
                JSON.stringify(before.get(k)) !==
                JSON.stringify((await store.snapshot(users[u] as string, FOLDERS[f] as string)).messages);
              const prev = state.get(k) as Seen;
              if (changed) expect(after.highestModSeq).toBeGreaterThan(prev.highestModSeq);
              else expect(after.highestModSeq).toBe(prev.highestModSeq);
              state.set(k, after);
            }
          }
          const quota = await store.quota(users[0] as string);
          const folders = await store.listFolders(users[0] as string);
          expect(quota.usedBytes).toBe(folders.reduce((s, f) => s + f.size, 0));
          expect(quota.messages).toBe(folders.reduce((s, f) => s + f.exists, 0));
        }
        for (const u of users) await store.purgeUser(u);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
