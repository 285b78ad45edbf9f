/**
 * The suite every `MailBackend` implementation must pass (IMAP/POP3/MTA semantics of backend.ts). Call
 * `backendContract(name, open)` from a test file; `open` gives a fresh, empty backend without quota
 * limits, and `cleanup` closes and removes it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_FOLDERS,
  MAX_ANNOTATION_LENGTH,
  type MailBackend,
  type MessageMeta,
  type StoreErrorCode,
  type StoreEvent,
} from '../src/backend.js';

export type BackendFactory = () => Promise<{ backend: MailBackend; cleanup: () => Promise<void> }>;

/** A message source delivered in chunks of `chunk` bytes (odd sizes exercise the store's buffering). */
export function source(data: Buffer | string, chunk = 4093): Readable {
  const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) chunks.push(buf.subarray(i, i + chunk));
  return Readable.from(chunks);
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

export function message(subject: string, body = 'Hello.\r\n'): string {
  return `From: a@example.test\r\nTo: b@example.test\r\nSubject: ${subject}\r\n\r\n${body}`;
}

/** Expects a StoreError with `code`. */
export async function rejectsWith(p: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  await expect(p).rejects.toMatchObject({ name: 'StoreError', code });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const uidsOf = (msgs: MessageMeta[]) => msgs.map((m) => m.uid);

export function backendContract(name: string, open: BackendFactory): void {
  describe(`MailBackend contract: ${name}`, () => {
    let backend: MailBackend;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ backend, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });

    async function user(id: string): Promise<string> {
      await backend.ensureUser(id);
      return id;
    }

    async function deliver(users: string[], data: string | Buffer, opts: { internalDate?: Date } = {}) {
      return backend.deliver({ users, source: source(data), ...opts });
    }

    async function body(userId: string, folder: string, uid: number): Promise<Buffer> {
      return readAll(await backend.openMessage(userId, folder, uid));
    }

    it('creates the default folders with their special-use attributes, idempotently', async () => {
      const u = await user('alice');
      await backend.ensureUser(u);
      const folders = await backend.listFolders(u);
      expect(folders.map((f) => [f.name, f.specialUse]).sort()).toEqual(
        DEFAULT_FOLDERS.map((f) => [f.name, f.specialUse]).sort(),
      );
      for (const f of folders) {
        expect(f).toMatchObject({ subscribed: true, uidNext: 1, exists: 0, unseen: 0, recent: 0, size: 0 });
        expect(Number.isInteger(f.uidValidity) && f.uidValidity > 0 && f.uidValidity <= 0xffffffff).toBe(
          true,
        );
        expect(f.highestModSeq).toBeGreaterThanOrEqual(1);
      }
      expect(await backend.folderInfo(u, 'inbox')).toMatchObject({ name: 'INBOX' });
      await rejectsWith(backend.listFolders('nobody'), 'no-such-user');
      await rejectsWith(backend.quota('nobody'), 'no-such-user');
    });

    it('delivers one message to several users, once per user, with ascending UIDs and the right size', async () => {
      const [a, b] = [await user('a'), await user('b')];
      const data = message('one');
      const first = await deliver([a, b, a], data);
      expect(first.size).toBe(Buffer.byteLength(data));
      expect([...first.uids.entries()].sort()).toEqual([
        [a, 1],
        [b, 1],
      ]);
      const second = await deliver([b, a], message('two'));
      expect(second.uids.get(a)).toBe(2);
      expect(second.uids.get(b)).toBe(2);
      for (const u of [a, b]) {
        const snap = await backend.snapshot(u, 'INBOX');
        expect(uidsOf(snap.messages)).toEqual([1, 2]);
        expect(snap.messages[0]?.size).toBe(Buffer.byteLength(data));
        expect(snap.messages[0]?.flags).toEqual([]);
        expect(snap).toMatchObject({ exists: 2, unseen: 2, uidNext: 3 });
        expect((await body(u, 'INBOX', 1)).toString('latin1')).toBe(data);
      }
      const [ma, mb] = [await backend.listMessages(a, 'INBOX'), await backend.listMessages(b, 'INBOX')];
      expect(typeof ma[0]?.blobId).toBe('string');
      expect(ma[0]?.blobId).not.toBe(ma[1]?.blobId);
      expect(typeof mb[0]?.blobId).toBe('string');
    });

    it('delivers all-or-nothing: an unknown user fails the whole delivery', async () => {
      const a = await user('a');
      await rejectsWith(deliver([a, 'ghost'], message('x')), 'no-such-user');
      expect(await backend.folderInfo(a, 'INBOX')).toMatchObject({ exists: 0, uidNext: 1 });
      await rejectsWith(deliver([], message('x')), 'cannot');
    });

    it('round-trips bytes exactly: 8-bit, CRLF and bare LF, no trailing CRLF, empty, 5 MiB', async () => {
      const u = await user('u');
      const all = Buffer.alloc(256 * 4);
      for (let i = 0; i < all.length; i++) all[i] = i % 256;
      const cases: Buffer[] = [
        Buffer.concat([Buffer.from('Subject: bytes\r\n\r\n'), all]),
        Buffer.from('Subject: mixed\r\n\r\nline one\r\nline two\nline three\r\n.\r\n..\r\n', 'latin1'),
        Buffer.from('Subject: no trailing newline\r\n\r\nlast line'),
        Buffer.from('Subject: caf\u00e9 \u2603\r\n\r\nUTF-8 body \u{1f600}\r\n', 'utf8'),
        Buffer.alloc(0),
        randomBytes(5 * 1024 * 1024 + 17),
      ];
      for (const [i, data] of cases.entries()) {
        const r = await backend.deliver({ users: [u], source: source(data, i === 5 ? 65_536 + 3 : 1000) });
        expect(r.size).toBe(data.length);
        const uid = r.uids.get(u) as number;
        const back = await body(u, 'INBOX', uid);
        expect(back.length).toBe(data.length);
        expect(sha(back)).toBe(sha(data));
        const [meta] = await backend.listMessages(u, 'INBOX', { fromUid: uid, toUid: uid });
        expect(meta?.size).toBe(data.length);
      }
      const appended = await backend.append(u, 'Drafts', source(cases[0] as Buffer, 7));
      expect(sha(await body(u, 'Drafts', appended.uid))).toBe(sha(cases[0] as Buffer));
      await rejectsWith(backend.openMessage(u, 'INBOX', 999), 'no-such-message');
      await rejectsWith(backend.openMessage(u, 'Nope', 1), 'no-such-folder');
    });

    it('refuses a message above maxBytes and stores nothing', async () => {
      const [a, b] = [await user('a'), await user('b')];
      const data = Buffer.alloc(10_000, 'x');
      await rejectsWith(
        backend.deliver({ users: [a, b], source: source(data, 1024), maxBytes: data.length - 1 }),
        'too-large',
      );
      for (const u of [a, b]) {
        expect(await backend.folderInfo(u, 'INBOX')).toMatchObject({ exists: 0, uidNext: 1, size: 0 });
        expect(await backend.quota(u)).toMatchObject({ usedBytes: 0, messages: 0 });
      }
      await rejectsWith(backend.append(a, 'INBOX', source(data), { maxBytes: 10 }), 'too-large');
      const ok = await backend.deliver({ users: [a], source: source(data), maxBytes: data.length });
      expect(ok.uids.get(a)).toBe(1);
    });

    it('keeps UIDNEXT and UIDVALIDITY: UIDs never reused, a recreated folder gets a new UIDVALIDITY', async () => {
      const u = await user('u');
      for (let i = 1; i <= 3; i++) expect((await deliver([u], message(`m${i}`))).uids.get(u)).toBe(i);
      const inbox = await backend.folderInfo(u, 'INBOX');
      expect(inbox.uidNext).toBe(4);
      await backend.storeFlags(u, 'INBOX', [3], 'add', ['\\Deleted']);
      expect(await backend.expunge(u, 'INBOX')).toEqual([3]);
      expect((await backend.folderInfo(u, 'INBOX')).uidNext).toBe(4);
      expect((await deliver([u], message('m4'))).uids.get(u)).toBe(4);
      expect((await backend.folderInfo(u, 'INBOX')).uidValidity).toBe(inbox.uidValidity);

      await backend.createFolder(u, 'Work');
      const work = await backend.folderInfo(u, 'Work');
      expect(work).toMatchObject({ uidNext: 1, exists: 0 });
      await backend.append(u, 'Work', source(message('w1')));
      await backend.append(u, 'Work', source(message('w2')));
      await backend.deleteFolder(u, 'Work');
      await rejectsWith(backend.folderInfo(u, 'Work'), 'no-such-folder');
      await backend.createFolder(u, 'Work');
      const again = await backend.snapshot(u, 'Work');
      expect(again.uidValidity).not.toBe(work.uidValidity);
      expect(again).toMatchObject({ uidNext: 1, exists: 0, messages: [] });
      expect(await backend.expungedSince(u, 'Work', 0)).toEqual([]);
    });

    it('stores flags: set, add, remove, keywords, case-insensitively and order-stable', async () => {
      const u = await user('u');
      for (let i = 1; i <= 3; i++) await deliver([u], message(`m${i}`));
      let r = await backend.storeFlags(u, 'INBOX', [1, 2], 'add', ['\\Seen']);
      expect(r.changed.map((m) => [m.uid, m.flags])).toEqual([
        [1, ['\\Seen']],
        [2, ['\\Seen']],
      ]);
      expect(r.modified).toEqual([]);
      expect((await backend.folderInfo(u, 'INBOX')).unseen).toBe(1);

      r = await backend.storeFlags(u, 'INBOX', [1], 'add', ['\\SEEN', '\\Recent']);
      expect(r.changed).toEqual([]);

      r = await backend.storeFlags(u, 'INBOX', [1], 'add', ['$Forwarded', 'Work', '\\flagged']);
      expect(r.changed[0]?.flags).toEqual(['\\Seen', '$Forwarded', 'Work', '\\Flagged']);
      r = await backend.storeFlags(u, 'INBOX', [1], 'add', ['work']);
      expect(r.changed).toEqual([]);
      r = await backend.storeFlags(u, 'INBOX', [1], 'remove', ['\\seen', 'WORK', 'absent']);
      expect(r.changed[0]?.flags).toEqual(['$Forwarded', '\\Flagged']);
      r = await backend.storeFlags(u, 'INBOX', [1, 3], 'set', ['\\Answered', 'Later']);
      expect(r.changed.map((m) => [m.uid, m.flags])).toEqual([
        [1, ['\\Answered', 'Later']],
        [3, ['\\Answered', 'Later']],
      ]);
      r = await backend.storeFlags(u, 'INBOX', [1], 'set', ['later', '\\answered']);
      expect(r.changed).toEqual([]);
      r = await backend.storeFlags(u, 'INBOX', [2], 'set', []);
      expect(r.changed[0]?.flags).toEqual([]);
      r = await backend.storeFlags(u, 'INBOX', [42], 'add', ['\\Seen']);
      expect(r).toEqual({ changed: [], modified: [] });

      const snap = await backend.snapshot(u, 'INBOX');
      expect(snap.messages.map((m) => m.flags)).toEqual([
        ['\\Answered', 'Later'],
        [],
        ['\\Answered', 'Later'],
      ]);
      expect(snap.unseen).toBe(3);
      for (const f of ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft', 'Later']) {
        expect(snap.flagsInUse).toContain(f);
      }
      expect(snap.flagsInUse).not.toContain('\\Recent');

      await rejectsWith(backend.storeFlags(u, 'INBOX', [1], 'add', ['\\Bogus']), 'invalid-flag');
      await rejectsWith(backend.storeFlags(u, 'INBOX', [1], 'add', ['two words']), 'invalid-flag');
      await rejectsWith(backend.storeFlags(u, 'INBOX', [1], 'add', ['a(b']), 'invalid-flag');
      await rejectsWith(backend.storeFlags(u, 'Nope', [1], 'add', ['\\Seen']), 'no-such-folder');
    });

    it('gives every change a strictly ascending MODSEQ and honours UNCHANGEDSINCE', async () => {
      const u = await user('u');
      let last = (await backend.folderInfo(u, 'INBOX')).highestModSeq;
      const seen: number[] = [];
      for (let i = 1; i <= 3; i++) {
        await deliver([u], message(`m${i}`));
        const info = await backend.folderInfo(u, 'INBOX');
        expect(info.highestModSeq).toBeGreaterThan(last);
        last = info.highestModSeq;
      }
      const msgs = await backend.listMessages(u, 'INBOX');
      for (const m of msgs) seen.push(m.modSeq);
      expect([...seen].sort((x, y) => x - y)).toEqual(seen);
      expect(new Set(seen).size).toBe(seen.length);
      expect(Math.max(...seen)).toBe(last);

      const r = await backend.storeFlags(u, 'INBOX', [1, 2], 'add', ['\\Flagged']);
      const mods = r.changed.map((m) => m.modSeq);
      expect(mods.every((m) => m > last)).toBe(true);
      expect(new Set(mods).size).toBe(2);
      const afterStore = await backend.folderInfo(u, 'INBOX');
      expect(afterStore.highestModSeq).toBe(Math.max(...mods));

      // A store that changes nothing keeps the MODSEQ.
      await backend.storeFlags(u, 'INBOX', [1, 2], 'add', ['\\Flagged']);
      expect((await backend.folderInfo(u, 'INBOX')).highestModSeq).toBe(afterStore.highestModSeq);

      // CONDSTORE: message 1 changed after `last`, message 3 did not.
      const cond = await backend.storeFlags(u, 'INBOX', [1, 3], 'add', ['\\Seen'], { unchangedSince: last });
      expect(cond.modified).toEqual([1]);
      expect(cond.changed.map((m) => m.uid)).toEqual([3]);
      const m1 = (await backend.listMessages(u, 'INBOX', { fromUid: 1, toUid: 1 }))[0] as MessageMeta;
      expect(m1.flags).toEqual(['\\Flagged']);
      const ok = await backend.storeFlags(u, 'INBOX', [1], 'add', ['\\Seen'], { unchangedSince: m1.modSeq });
      expect(ok.changed.map((m) => m.uid)).toEqual([1]);
      expect(
        (await backend.storeFlags(u, 'INBOX', [2], 'add', ['x'], { unchangedSince: 0 })).modified,
      ).toEqual([2]);

      const changed = await backend.listMessages(u, 'INBOX', { changedSince: afterStore.highestModSeq });
      expect(changed.map((m) => m.uid)).toEqual([1, 3]);
      expect(await backend.listMessages(u, 'INBOX', { fromUid: 2, toUid: null })).toHaveLength(2);
    });

    it('copies and moves with UIDPLUS mappings, keeping flags, dates and bodies', async () => {
      const u = await user('u');
      const dates = [
        new Date('2021-01-01T00:00:00Z'),
        new Date('2022-02-02T02:02:02Z'),
        new Date('2023-03-03T03:03:03Z'),
      ];
      for (const [i, d] of dates.entries()) await deliver([u], message(`m${i + 1}`), { internalDate: d });
      await backend.storeFlags(u, 'INBOX', [1], 'add', ['\\Seen', 'Tag']);
      await backend.createFolder(u, 'Archive');
      await backend.append(u, 'Archive', source(message('already there')));

      const copy = await backend.copy(u, 'INBOX', [3, 1, 99], 'Archive');
      const archive = await backend.snapshot(u, 'Archive');
      expect(copy).toEqual({ uidValidity: archive.uidValidity, sourceUids: [1, 3], destinationUids: [2, 3] });
      const [c1, c3] = [archive.messages[1] as MessageMeta, archive.messages[2] as MessageMeta];
      expect(c1.flags).toEqual(['\\Seen', 'Tag']);
      expect(c1.internalDate.getTime()).toBe(dates[0]?.getTime());
      expect(c3.internalDate.getTime()).toBe(dates[2]?.getTime());
      expect((await body(u, 'Archive', 2)).toString()).toBe(message('m1'));
      expect(archive).toMatchObject({ exists: 3, unseen: 2, uidNext: 4 });
      expect(await backend.folderInfo(u, 'INBOX')).toMatchObject({ exists: 3 });

      const inboxBefore = await backend.folderInfo(u, 'INBOX');
      const move = await backend.move(u, 'INBOX', [2, 3], 'Trash');
      const trash = await backend.snapshot(u, 'Trash');
      expect(move).toEqual({ uidValidity: trash.uidValidity, sourceUids: [2, 3], destinationUids: [1, 2] });
      expect((await body(u, 'Trash', 1)).toString()).toBe(message('m2'));
      const inbox = await backend.snapshot(u, 'INBOX');
      expect(uidsOf(inbox.messages)).toEqual([1]);
      expect(await backend.expungedSince(u, 'INBOX', inboxBefore.highestModSeq)).toEqual([2, 3]);

      expect(await backend.copy(u, 'INBOX', [50], 'Trash')).toEqual({
        uidValidity: trash.uidValidity,
        sourceUids: [],
        destinationUids: [],
      });
      await rejectsWith(backend.copy(u, 'INBOX', [1], 'Nope'), 'no-such-folder');
      await rejectsWith(backend.move(u, 'Nope', [1], 'INBOX'), 'no-such-folder');
      expect(uidsOf((await backend.snapshot(u, 'INBOX')).messages)).toEqual([1]);

      // Copy into the same folder: new UIDs, same body.
      const self = await backend.copy(u, 'INBOX', [1], 'INBOX');
      expect(self.destinationUids).toEqual([4]);
      expect((await body(u, 'INBOX', 4)).toString()).toBe(message('m1'));
    });

    it('expunges only messages with \\Deleted, and only the given UIDs', async () => {
      const u = await user('u');
      for (let i = 1; i <= 4; i++) await deliver([u], message(`m${i}`));
      await backend.storeFlags(u, 'INBOX', [1, 2, 3], 'add', ['\\Deleted']);
      expect(await backend.expunge(u, 'INBOX', [2, 3, 4])).toEqual([2, 3]);
      expect(uidsOf((await backend.snapshot(u, 'INBOX')).messages)).toEqual([1, 4]);
      expect(await backend.expunge(u, 'INBOX')).toEqual([1]);
      expect(await backend.expunge(u, 'INBOX')).toEqual([]);
      const snap = await backend.snapshot(u, 'INBOX');
      expect(uidsOf(snap.messages)).toEqual([4]);
      expect(snap).toMatchObject({ exists: 1, size: Buffer.byteLength(message('m4')) });
      await rejectsWith(backend.openMessage(u, 'INBOX', 1), 'no-such-message');
    });

    it('reports expunged UIDs after a MODSEQ (QRESYNC)', async () => {
      const u = await user('u');
      for (let i = 1; i <= 5; i++) await deliver([u], message(`m${i}`));
      const m0 = (await backend.folderInfo(u, 'INBOX')).highestModSeq;
      await backend.storeFlags(u, 'INBOX', [2, 4], 'add', ['\\Deleted']);
      await backend.expunge(u, 'INBOX', [4]);
      const m1 = (await backend.folderInfo(u, 'INBOX')).highestModSeq;
      expect(m1).toBeGreaterThan(m0);
      await backend.expunge(u, 'INBOX');
      const m2 = (await backend.folderInfo(u, 'INBOX')).highestModSeq;
      expect(m2).toBeGreaterThan(m1);
      expect(await backend.expungedSince(u, 'INBOX', 0)).toEqual([2, 4]);
      expect(await backend.expungedSince(u, 'INBOX', m0)).toEqual([2, 4]);
      expect(await backend.expungedSince(u, 'INBOX', m1)).toEqual([2]);
      expect(await backend.expungedSince(u, 'INBOX', m2)).toEqual([]);
      await rejectsWith(backend.expungedSince(u, 'Nope', 0), 'no-such-folder');
    });

    it('renames INBOX by moving its messages and leaving it empty', async () => {
      const u = await user('u');
      for (let i = 1; i <= 2; i++) await deliver([u], message(`m${i}`));
      await backend.storeFlags(u, 'INBOX', [2], 'add', ['\\Seen']);
      await backend.createFolder(u, 'INBOX/Sub');
      const before = await backend.folderInfo(u, 'INBOX');
      await backend.renameFolder(u, 'inbox', 'Old Mail');
      const old = await backend.snapshot(u, 'Old Mail');
      expect(uidsOf(old.messages)).toEqual([1, 2]);
      expect(old.messages[1]?.flags).toEqual(['\\Seen']);
      expect((await body(u, 'Old Mail', 1)).toString()).toBe(message('m1'));
      const inbox = await backend.folderInfo(u, 'INBOX');
      expect(inbox).toMatchObject({ exists: 0, uidNext: before.uidNext, uidValidity: before.uidValidity });
      expect(await backend.expungedSince(u, 'INBOX', before.highestModSeq)).toEqual([1, 2]);
      expect((await deliver([u], message('m3'))).uids.get(u)).toBe(3);
      expect((await backend.listFolders(u)).map((f) => f.name)).toContain('INBOX/Sub');
      await rejectsWith(backend.renameFolder(u, 'INBOX', 'Old Mail'), 'folder-exists');
    });

    it('renames a folder with its inferiors', async () => {
      const u = await user('u');
      for (const f of ['a', 'a/b', 'a/b/c', 'ab', 'p/q', 'p/q/q']) await backend.createFolder(u, f);
      await backend.append(u, 'a/b', source(message('in a/b')));
      const ab = await backend.folderInfo(u, 'a/b');
      await backend.renameFolder(u, 'a', 'x');
      const names = (await backend.listFolders(u)).map((f) => f.name);
      expect(names).toEqual(expect.arrayContaining(['x', 'x/b', 'x/b/c', 'ab']));
      for (const gone of ['a', 'a/b', 'a/b/c']) expect(names).not.toContain(gone);
      const xb = await backend.snapshot(u, 'x/b');
      expect(xb.uidValidity).toBe(ab.uidValidity);
      expect((await body(u, 'x/b', 1)).toString()).toBe(message('in a/b'));

      // The new name of one moving folder is the old name of another.
      await backend.renameFolder(u, 'p/q', 'p');
      const after = (await backend.listFolders(u)).map((f) => f.name);
      expect(after).toEqual(expect.arrayContaining(['p', 'p/q']));
      expect(after).not.toContain('p/q/q');

      await rejectsWith(backend.renameFolder(u, 'x', 'ab'), 'folder-exists');
      await rejectsWith(backend.renameFolder(u, 'x', 'inbox'), 'folder-exists');
      await rejectsWith(backend.renameFolder(u, 'nope', 'y'), 'no-such-folder');
      await rejectsWith(backend.renameFolder(u, 'x', 'y//z'), 'invalid-name');
      await expect(backend.renameFolder(u, 'x', 'x/inner')).rejects.toMatchObject({ name: 'StoreError' });
    });

    it('validates folder names', async () => {
      const u = await user('u');
      for (const bad of ['', '/a', 'a/', 'a//b', 'a*', 'a%b', 'a\u0000b', 'tab\there', 'del\u007f', '/']) {
        await rejectsWith(backend.createFolder(u, bad), 'invalid-name');
      }
      await rejectsWith(backend.createFolder(u, 'Sent'), 'folder-exists');
      await rejectsWith(backend.createFolder(u, 'inbox'), 'folder-exists');
      await rejectsWith(backend.deleteFolder(u, 'INBOX'), 'cannot');
      await rejectsWith(backend.deleteFolder(u, 'Inbox'), 'cannot');
      await rejectsWith(backend.deleteFolder(u, 'Nope'), 'no-such-folder');
      await rejectsWith(backend.folderInfo(u, 'Nope'), 'no-such-folder');
      await rejectsWith(backend.snapshot(u, 'Nope'), 'no-such-folder');
      await rejectsWith(backend.setSubscribed(u, 'Nope', true), 'no-such-folder');
      await backend.createFolder(u, 'inbox/Sub');
      expect((await backend.folderInfo(u, 'INBOX/Sub')).subscribed).toBe(false);
      await backend.createFolder(u, 'Caf\u00e9 & Co/2024');
      const names = (await backend.listFolders(u)).map((f) => f.name);
      expect(names).toEqual(expect.arrayContaining(['INBOX/Sub', 'Caf\u00e9 & Co/2024']));
      await rejectsWith(backend.createFolder(u, 'INBOX/Sub'), 'folder-exists');
      await backend.setSubscribed(u, 'INBOX/Sub', true);
      expect((await backend.folderInfo(u, 'INBOX/Sub')).subscribed).toBe(true);
    });

    it('keeps a subscription when its folder is deleted (RFC 3501 §6.3.6); a special use at creation', async () => {
      const u = await user('u');
      await backend.createFolder(u, 'Projects/Old');
      await backend.setSubscribed(u, 'Projects/Old', true);
      await backend.deleteFolder(u, 'Projects/Old');
      expect(await backend.subscriptionsWithoutFolder(u)).toEqual(['Projects/Old']);
      // A folder of that name is subscribed again, and the name is no longer listed apart.
      await backend.createFolder(u, 'Projects/Old');
      expect((await backend.folderInfo(u, 'Projects/Old')).subscribed).toBe(true);
      expect(await backend.subscriptionsWithoutFolder(u)).toEqual([]);
      await backend.deleteFolder(u, 'Projects/Old');
      await backend.setSubscribed(u, 'Projects/Old', false);
      expect(await backend.subscriptionsWithoutFolder(u)).toEqual([]);
      await rejectsWith(backend.setSubscribed(u, 'Projects/Old', false), 'no-such-folder');
      // An unsubscribed folder leaves nothing behind.
      await backend.createFolder(u, 'Scratch');
      await backend.deleteFolder(u, 'Scratch');
      expect(await backend.subscriptionsWithoutFolder(u)).toEqual([]);
      await backend.createFolder(u, 'Rubbish', { specialUse: '\\Trash' });
      expect((await backend.folderInfo(u, 'Rubbish')).specialUse).toBe('\\Trash');
    });

    it('reports quota usage over every folder', async () => {
      const u = await user('u');
      const other = await user('other');
      const m1 = message('one');
      const m2 = message('two', 'x'.repeat(1000));
      await deliver([u, other], m1);
      await deliver([u], m2);
      await backend.append(u, 'Sent', source(m1));
      await backend.copy(u, 'INBOX', [2], 'Trash');
      const size = (s: string) => Buffer.byteLength(s);
      expect(await backend.quota(u)).toEqual({
        usedBytes: size(m1) * 2 + size(m2) * 2,
        messages: 4,
        limitBytes: null,
      });
      expect(await backend.quota(other)).toMatchObject({ usedBytes: size(m1), messages: 1 });
      await backend.storeFlags(u, 'Trash', [1], 'add', ['\\Deleted']);
      await backend.expunge(u, 'Trash');
      expect((await backend.quota(u)).usedBytes).toBe(size(m1) * 2 + size(m2));
      const sum = (await backend.listFolders(u)).reduce((s, f) => s + f.size, 0);
      expect(sum).toBe(size(m1) * 2 + size(m2));
    });

    it('publishes events to the subscribers of the user', async () => {
      const [a, b] = [await user('a'), await user('b')];
      const got: StoreEvent[] = [];
      const gotB: StoreEvent[] = [];
      const off = backend.subscribe(a, (e) => got.push(e));
      backend.subscribe(b, (e) => gotB.push(e));
      await deliver([a], message('m1'));
      await backend.storeFlags(a, 'INBOX', [1], 'add', ['\\Deleted']);
      await backend.expunge(a, 'INBOX');
      await backend.createFolder(a, 'New');
      await backend.renameFolder(a, 'New', 'Newer');
      await backend.deleteFolder(a, 'Newer');
      expect(got.map((e) => e.kind)).toEqual(['exists', 'flags', 'expunge', 'folder', 'folder', 'folder']);
      expect(got[0]).toMatchObject({ kind: 'exists', userId: a, folder: 'INBOX', uid: 1 });
      expect(got[1]).toMatchObject({ kind: 'flags', folder: 'INBOX', uid: 1, flags: ['\\Deleted'] });
      expect(got[2]).toMatchObject({ kind: 'expunge', folder: 'INBOX', uid: 1 });
      expect(got.slice(3)).toEqual([
        { kind: 'folder', userId: a, folder: 'New', change: 'created' },
        { kind: 'folder', userId: a, folder: 'New', change: 'renamed', to: 'Newer' },
        { kind: 'folder', userId: a, folder: 'Newer', change: 'deleted' },
      ]);
      const mods = got.slice(0, 3).map((e) => ('modSeq' in e ? e.modSeq : 0));
      expect(mods[0]).toBeLessThan(mods[1] as number);
      expect(mods[1]).toBeLessThan(mods[2] as number);
      expect(gotB).toEqual([]);
      off();
      await deliver([a, b], message('m2'));
      expect(got).toHaveLength(6);
      expect(gotB).toEqual([
        { kind: 'exists', userId: b, folder: 'INBOX', uid: 1, modSeq: expect.any(Number) },
      ]);
    });

    it('appends with flags and internal date', async () => {
      const u = await user('u');
      const date = new Date('2020-01-02T03:04:05Z');
      const r = await backend.append(u, 'Drafts', source(message('draft')), {
        flags: ['\\Draft', '\\seen', '$Label1', '\\Recent'],
        internalDate: date,
      });
      const drafts = await backend.snapshot(u, 'Drafts');
      expect(r).toEqual({ uidValidity: drafts.uidValidity, uid: 1 });
      expect(drafts.messages[0]).toMatchObject({
        uid: 1,
        flags: ['\\Draft', '\\Seen', '$Label1'],
        size: Buffer.byteLength(message('draft')),
      });
      expect(drafts.messages[0]?.internalDate.getTime()).toBe(date.getTime());
      expect(drafts).toMatchObject({ exists: 1, unseen: 0, uidNext: 2 });
      const second = await backend.append(u, 'Drafts', source(message('2')));
      expect(second.uid).toBe(2);
      await rejectsWith(backend.append(u, 'Nope', source(message('x'))), 'no-such-folder');
      await rejectsWith(
        backend.append(u, 'Drafts', source(message('x')), { flags: ['\\Nope'] }),
        'invalid-flag',
      );
      expect((await backend.folderInfo(u, 'Drafts')).exists).toBe(2);
    });

    it('opens a body by its id: reads at any position, byte-exact; unknown ids are no-such-message', async () => {
      const u = await user('u');
      const data = randomBytes(3 * 1024 * 1024 + 5);
      const small = Buffer.from('Subject: small\r\n\r\ncaf\u00e9\r\n', 'utf8');
      await backend.deliver({ users: [u], source: source(data, 65_536 + 3) });
      await deliver([u], small);
      const [big, little] = await backend.listMessages(u, 'INBOX');
      const reader = await backend.openBody(u, (big as MessageMeta).blobId);
      try {
        const parts: Buffer[] = [];
        for (let pos = 0; pos < data.length; pos += 1_000_003) parts.push(await reader.read(pos, 1_000_003));
        expect(sha(Buffer.concat(parts))).toBe(sha(data));
        expect((await reader.read(17, 10)).equals(data.subarray(17, 27))).toBe(true);
        // At the end: what there is, then nothing.
        expect((await reader.read(data.length - 3, 10)).equals(data.subarray(data.length - 3))).toBe(true);
        expect((await reader.read(data.length + 100, 10)).length).toBe(0);
      } finally {
        await reader.close();
      }
      const r2 = await backend.openBody(u, (little as MessageMeta).blobId);
      expect((await r2.read(0, 1000)).equals(small)).toBe(true);
      await r2.close();
      await rejectsWith(backend.openBody(u, '01ARZ3NDEKTSV4RRFFQ69G5FAV'), 'no-such-message');
      await rejectsWith(backend.openBody(u, '../../mailstore.db'), 'no-such-message');
      await rejectsWith(backend.openBody(u, ''), 'no-such-message');
    });

    it('reads the start of many bodies at once (readBody), byte-exact', async () => {
      const u = await user('u');
      const datas = Array.from({ length: 150 }, (_, i) => randomBytes(1 + ((i * 7919) % 40_000)));
      for (const d of datas) await backend.deliver({ users: [u], source: source(d) });
      const metas = await backend.listMessages(u, 'INBOX');
      // All at once (an implementation may serve them in one batch), whole and cut short.
      const whole = await Promise.all(metas.map((m) => backend.readBody(u, m.blobId, m.size + 1)));
      const heads = await Promise.all(metas.map((m) => backend.readBody(u, m.blobId, 100)));
      whole.forEach((b, i) => {
        expect(sha(b)).toBe(sha(datas[i] as Buffer));
      });
      heads.forEach((b, i) => {
        expect(b.equals((datas[i] as Buffer).subarray(0, 100))).toBe(true);
      });
      expect((await backend.readBody(u, (metas[0] as MessageMeta).blobId, 0)).length).toBe(0);
      const results = await Promise.allSettled([
        backend.readBody(u, '01ARZ3NDEKTSV4RRFFQ69G5FAV', 10),
        backend.readBody(u, '../mailstore.db', 10),
        backend.readBody(u, (metas[1] as MessageMeta).blobId, 10),
      ]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
      await rejectsWith(backend.readBody(u, '01ARZ3NDEKTSV4RRFFQ69G5FAV', 10), 'no-such-message');
      await rejectsWith(backend.readBody(u, '../mailstore.db', 10), 'no-such-message');
      await backend.storeFlags(u, 'INBOX', [1], 'add', ['\\Deleted']);
      await backend.expunge(u, 'INBOX');
      await rejectsWith(backend.readBody(u, (metas[0] as MessageMeta).blobId, 10), 'no-such-message');
    });

    it('reads many bodies in one call (readBodies): in order, byte-exact, null for missing ones', async () => {
      const u = await user('u');
      // Some over 256 KiB (an implementation may read those apart), the rest small.
      const datas = Array.from({ length: 300 }, (_, i) =>
        randomBytes(i % 97 === 5 ? 300_000 + i : 1 + ((i * 7919) % 20_000)),
      );
      for (const d of datas) await backend.deliver({ users: [u], source: source(d) });
      const metas = await backend.listMessages(u, 'INBOX');
      const whole = await backend.readBodies(
        u,
        metas.map((m) => ({ blobId: m.blobId, length: m.size + 1 })),
      );
      expect(whole.length).toBe(datas.length);
      whole.forEach((b, i) => {
        expect(b && sha(b)).toBe(sha(datas[i] as Buffer));
      });
      // Cut short, an empty read, unknown and invalid ids, alongside good ones; two calls at once.
      const [mixed, again] = await Promise.all([
        backend.readBodies(u, [
          { blobId: (metas[0] as MessageMeta).blobId, length: 100 },
          { blobId: '01ARZ3NDEKTSV4RRFFQ69G5FAV', length: 10 },
          { blobId: '../mailstore.db', length: 10 },
          { blobId: (metas[1] as MessageMeta).blobId, length: 0 },
          { blobId: (metas[2] as MessageMeta).blobId, length: 10 },
        ]),
        backend.readBodies(u, [{ blobId: (metas[3] as MessageMeta).blobId, length: 5 }]),
      ]);
      expect(mixed[0]?.equals((datas[0] as Buffer).subarray(0, 100))).toBe(true);
      expect(mixed[1]).toBeNull();
      expect(mixed[2]).toBeNull();
      expect(mixed[3]?.length).toBe(0);
      expect(mixed[4]?.equals((datas[2] as Buffer).subarray(0, 10))).toBe(true);
      expect(again[0]?.equals((datas[3] as Buffer).subarray(0, 5))).toBe(true);
      expect(await backend.readBodies(u, [])).toEqual([]);
      // Into a caller's buffer, as far as it goes (here 50,000 octets): the same bytes either way.
      const into = new SharedArrayBuffer(50_000);
      const reads = metas.slice(0, 20).map((m) => ({ blobId: m.blobId, length: m.size + 1 }));
      const inSlab = await backend.readBodies(u, reads, { into });
      inSlab.forEach((b, i) => {
        expect(b && sha(b)).toBe(sha(datas[i] as Buffer));
      });
      // Reused for another read: what is read now is right (the earlier results are the caller's concern).
      const again2 = await backend.readBodies(u, reads.slice(5, 10), { into });
      again2.forEach((b, i) => {
        expect(b && sha(b)).toBe(sha(datas[i + 5] as Buffer));
      });
      await rejectsWith(
        backend.readBodies(u, [{ blobId: (metas[0] as MessageMeta).blobId, length: -1 }]),
        'cannot',
      );
      // Gone after the expunge.
      await backend.storeFlags(u, 'INBOX', [1], 'add', ['\\Deleted']);
      await backend.expunge(u, 'INBOX');
      const after = await backend.readBodies(u, [
        { blobId: (metas[0] as MessageMeta).blobId, length: 10 },
        { blobId: (metas[1] as MessageMeta).blobId, length: 10 },
      ]);
      expect(after[0]).toBeNull();
      expect(after[1]?.equals((datas[1] as Buffer).subarray(0, 10))).toBe(true);
    });

    it('gives the folder as columns (folderView), as snapshot sees it', async () => {
      const u = await user('u');
      const empty = await backend.folderView(u, 'INBOX');
      expect(empty).toMatchObject({ name: 'INBOX', exists: 0, uids: [], modSeqs: [], firstUnseen: 0 });
      expect(empty.flagsInUse).toEqual((await backend.snapshot(u, 'INBOX')).flagsInUse);
      for (let i = 0; i < 6; i++) await deliver([u], message(`m${i}`));
      await backend.storeFlags(u, 'INBOX', [1, 2, 4], 'add', ['\\Seen']);
      await backend.storeFlags(u, 'INBOX', [5], 'add', ['$Label1', 'Work']);
      await backend.storeFlags(u, 'INBOX', [2], 'add', ['\\Deleted']);
      await backend.expunge(u, 'INBOX');
      const view = await backend.folderView(u, 'inbox');
      const snap = await backend.snapshot(u, 'INBOX');
      expect(view.uids).toEqual(uidsOf(snap.messages));
      expect(view.uids).toEqual([1, 3, 4, 5, 6]);
      expect(view.modSeqs).toEqual(snap.messages.map((m) => m.modSeq));
      expect(view.firstUnseen).toBe(2);
      expect(view.flagsInUse).toEqual(snap.flagsInUse);
      expect(view.flagsInUse).toEqual(expect.arrayContaining(['$Label1', 'Work']));
      const { messages: _m, flagsInUse: _f, ...info } = snap;
      expect(view).toMatchObject(info);
      await backend.storeFlags(u, 'INBOX', [3, 5, 6], 'add', ['\\Seen']);
      expect((await backend.folderView(u, 'INBOX')).firstUnseen).toBe(0);
      await rejectsWith(backend.folderView(u, 'Nope'), 'no-such-folder');
    });

    it('keeps an opened body readable after its expunge; a removed body cannot be opened', async () => {
      const u = await user('u');
      await deliver([u], message('going'));
      const [meta] = await backend.listMessages(u, 'INBOX');
      const blobId = (meta as MessageMeta).blobId;
      const reader = await backend.openBody(u, blobId);
      await backend.storeFlags(u, 'INBOX', [1], 'add', ['\\Deleted']);
      expect(await backend.expunge(u, 'INBOX')).toEqual([1]);
      expect((await reader.read(0, 1000)).toString('latin1')).toBe(message('going'));
      await reader.close();
      await rejectsWith(backend.openBody(u, blobId), 'no-such-message');
    });

    it('keeps annotations of bodies: per name, per folder and UID range, shared by copies', async () => {
      const [u, v] = [await user('u'), await user('v')];
      for (let i = 1; i <= 4; i++) await deliver([u], message(`m${i}`));
      await deliver([v], message('other'));
      const metas = await backend.listMessages(u, 'INBOX');
      const ids = metas.map((m) => m.blobId);
      const [vMeta] = await backend.listMessages(v, 'INBOX');
      expect(await backend.blobAnnotations(u, 'INBOX', 'sum')).toEqual(new Map());
      await backend.setBlobAnnotations(u, 'INBOX', 'sum', [
        { blobId: ids[0] as string, value: 'one \u00e9\u2603\u{1f600} "quoted" \\ \n\0' },
        { blobId: ids[1] as string, value: '' },
        { blobId: ids[2] as string, value: 'three' },
        // Not in this folder (another user's body), unknown, too long: ignored.
        { blobId: (vMeta as MessageMeta).blobId, value: 'stolen' },
        { blobId: '01ARZ3NDEKTSV4RRFFQ69G5FAV', value: 'unknown' },
        { blobId: ids[3] as string, value: 'x'.repeat(MAX_ANNOTATION_LENGTH + 1) },
      ]);
      await backend.setBlobAnnotations(u, 'INBOX', 'other', [
        { blobId: ids[0] as string, value: 'other name' },
      ]);
      expect(await backend.blobAnnotations(u, 'INBOX', 'sum')).toEqual(
        new Map([
          [ids[0] as string, 'one \u00e9\u2603\u{1f600} "quoted" \\ \n\0'],
          [ids[1] as string, ''],
          [ids[2] as string, 'three'],
        ]),
      );
      expect(await backend.blobAnnotations(u, 'INBOX', 'sum', { fromUid: 2, toUid: 2 })).toEqual(
        new Map([[ids[1] as string, '']]),
      );
      expect([
        ...(await backend.blobAnnotations(u, 'INBOX', 'sum', { fromUid: 3, toUid: null })).keys(),
      ]).toEqual([ids[2]]);
      expect(await backend.blobAnnotations(u, 'INBOX', 'other')).toEqual(
        new Map([[ids[0] as string, 'other name']]),
      );
      expect(await backend.blobAnnotations(v, 'INBOX', 'sum')).toEqual(new Map());
      // Replaced; a copy elsewhere shares its body's values.
      await backend.setBlobAnnotations(u, 'INBOX', 'sum', [{ blobId: ids[2] as string, value: 'THREE' }]);
      await backend.copy(u, 'INBOX', [3], 'Trash');
      expect(await backend.blobAnnotations(u, 'Trash', 'sum')).toEqual(
        new Map([[ids[2] as string, 'THREE']]),
      );
      // Setting and reading annotations is no change of the mailbox.
      const info = await backend.folderInfo(u, 'INBOX');
      await backend.setBlobAnnotations(u, 'INBOX', 'sum', [{ blobId: ids[0] as string, value: 'again' }]);
      expect((await backend.folderInfo(u, 'INBOX')).highestModSeq).toBe(info.highestModSeq);
      await rejectsWith(backend.blobAnnotations(u, 'Nope', 'sum'), 'no-such-folder');
      await rejectsWith(backend.setBlobAnnotations(u, 'Nope', 'sum', []), 'no-such-folder');
    });

    it('drops annotations with their body, not while a copy keeps it', async () => {
      const u = await user('u');
      await deliver([u], message('annotated'));
      const [meta] = await backend.listMessages(u, 'INBOX');
      const blobId = (meta as MessageMeta).blobId;
      await backend.setBlobAnnotations(u, 'INBOX', 'sum', [{ blobId, value: 'v' }]);
      await backend.copy(u, 'INBOX', [1], 'Trash');
      await backend.storeFlags(u, 'INBOX', [1], 'add', ['\\Deleted']);
      await backend.expunge(u, 'INBOX');
      expect(await backend.blobAnnotations(u, 'Trash', 'sum')).toEqual(new Map([[blobId, 'v']]));
      // Gone with the last copy: a value set for it now is ignored, and none is left.
      await backend.storeFlags(u, 'Trash', [1], 'add', ['\\Deleted']);
      await backend.expunge(u, 'Trash');
      await backend.setBlobAnnotations(u, 'Trash', 'sum', [{ blobId, value: 'late' }]);
      expect(await backend.blobAnnotations(u, 'Trash', 'sum')).toEqual(new Map());
    });

    it('purges a user and nothing else', async () => {
      const [a, b] = [await user('a'), await user('b')];
      await deliver([a, b], message('shared'));
      await deliver([a], message('only a'));
      await backend.createFolder(a, 'Stuff');
      await backend.copy(a, 'INBOX', [1, 2], 'Stuff');
      await backend.purgeUser(a);
      await rejectsWith(backend.listFolders(a), 'no-such-user');
      await rejectsWith(deliver([a], message('late')), 'no-such-user');
      expect((await body(b, 'INBOX', 1)).toString()).toBe(message('shared'));
      await backend.purgeUser(a);
      await backend.ensureUser(a);
      const inbox = await backend.snapshot(a, 'INBOX');
      expect(inbox).toMatchObject({ exists: 0, uidNext: 1, messages: [] });
      expect((await backend.listFolders(a)).map((f) => f.name)).not.toContain('Stuff');
    });
  });
}
