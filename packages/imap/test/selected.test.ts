/**
 * The selected-mailbox view, on its own: snapshot plus events arriving during and after it, updates in
 * a safe order, own changes reported once, expunges held back when not allowed, VANISHED with QRESYNC.
 */
import type { FolderView, MessageMeta, StoreEvent } from '@delegato/mailstore';
import { describe, expect, it } from 'vitest';
import { SelectedMailbox } from '../src/mailbox/selected.js';

const USER = 'u';
const FOLDER = 'INBOX';

function meta(uid: number, modSeq: number, flags: string[] = []): MessageMeta {
  return { uid, modSeq, flags, internalDate: new Date(0), size: 10, blobId: `b${uid}` };
}

function snapshot(messages: MessageMeta[], highestModSeq: number): FolderView {
  return {
    name: FOLDER,
    specialUse: null,
    subscribed: true,
    uidValidity: 7,
    uidNext: (messages[messages.length - 1]?.uid ?? 0) + 1,
    highestModSeq,
    exists: messages.length,
    unseen: 0,
    recent: 0,
    size: 0,
    uids: messages.map((m) => m.uid),
    modSeqs: messages.map((m) => m.modSeq),
    firstUnseen: messages.findIndex((m) => !m.flags.includes('\\Seen')) + 1,
    flagsInUse: ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'],
  };
}

const exists = (uid: number, modSeq: number): StoreEvent => ({
  kind: 'exists',
  userId: USER,
  folder: FOLDER,
  uid,
  modSeq,
});
const flags = (uid: number, modSeq: number, f: string[]): StoreEvent => ({
  kind: 'flags',
  userId: USER,
  folder: FOLDER,
  uid,
  flags: f,
  modSeq,
});
const expunge = (uid: number, modSeq: number): StoreEvent => ({
  kind: 'expunge',
  userId: USER,
  folder: FOLDER,
  uid,
  modSeq,
});
const OPTS = { expunge: true, qresync: false, condstore: false };

describe('SelectedMailbox', () => {
  it('applies only the events newer than the snapshot', () => {
    const v = new SelectedMailbox(FOLDER, false);
    v.onEvent(exists(3, 3)); // already in the snapshot
    v.onEvent(exists(4, 6)); // newer
    v.onEvent(flags(1, 7, ['\\Seen']));
    v.onEvent({ kind: 'exists', userId: USER, folder: 'Other', uid: 9, modSeq: 99 });
    v.load(snapshot([meta(1, 1), meta(2, 2), meta(3, 3)], 5));
    expect(v.count).toBe(3);
    expect(v.takeUpdates(OPTS)).toEqual(['4 EXISTS', '1 FETCH (UID 1 FLAGS (\\Seen))']);
    expect(v.uids).toEqual([1, 2, 3, 4]);
    expect(v.highestModSeq).toBe(7);
  });

  it('reports each flag change once, and not those the session reported itself', () => {
    const v = new SelectedMailbox(FOLDER, false);
    v.load(snapshot([meta(1, 1), meta(2, 2)], 2));
    v.onEvent(flags(1, 3, ['\\Flagged']));
    v.noteReported(1, 3);
    v.onEvent(flags(2, 4, ['\\Seen']));
    v.onEvent(flags(2, 5, ['\\Seen', '\\Answered']));
    expect(v.takeUpdates({ ...OPTS, condstore: true })).toEqual([
      '2 FETCH (UID 2 FLAGS (\\Seen \\Answered) MODSEQ (5))',
    ]);
    expect(v.takeUpdates(OPTS)).toEqual([]);
  });

  it('holds expunges when not allowed, keeping sequence numbers; then sends them highest first', () => {
    const v = new SelectedMailbox(FOLDER, false);
    v.load(snapshot([meta(1, 1), meta(2, 2), meta(3, 3), meta(4, 4)], 4));
    v.onEvent(expunge(2, 5));
    v.onEvent(expunge(4, 6));
    v.onEvent(exists(5, 7));
    expect(v.takeUpdates({ ...OPTS, expunge: false })).toEqual(['5 EXISTS']);
    expect(v.seqOf(4)).toBe(4);
    expect(v.isExpunged(4)).toBe(true);
    v.onEvent(flags(4, 8, ['\\Seen']));
    v.onEvent(flags(3, 9, ['\\Seen']));
    expect(v.takeUpdates(OPTS)).toEqual(['4 EXPUNGE', '2 EXPUNGE', '2 FETCH (UID 3 FLAGS (\\Seen))']);
    expect(v.uids).toEqual([1, 3, 5]);
  });

  it('uses VANISHED with QRESYNC; a message added and expunged before being announced is never mentioned', () => {
    const v = new SelectedMailbox(FOLDER, false);
    v.load(snapshot([meta(10, 1), meta(11, 2), meta(12, 3)], 3));
    v.onEvent(exists(13, 4));
    v.onEvent(expunge(13, 5));
    v.onEvent(expunge(10, 6));
    v.onEvent(expunge(11, 7));
    expect(v.takeUpdates({ ...OPTS, qresync: true })).toEqual(['VANISHED 10:11']);
    expect(v.uids).toEqual([12]);
  });

  it('announces new keywords with FLAGS and follows renames and deletes', () => {
    const v = new SelectedMailbox(FOLDER, false);
    v.load(snapshot([meta(1, 1)], 1));
    v.onEvent(flags(1, 2, ['$New']));
    expect(v.takeUpdates(OPTS)).toEqual([
      'FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $New)',
      'OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $New \\*)] Flags permitted.',
      '1 FETCH (UID 1 FLAGS ($New))',
    ]);
    v.onEvent({ kind: 'folder', userId: USER, folder: FOLDER, change: 'renamed', to: 'Archive' });
    expect(v.folder).toBe('Archive');
    v.onEvent({ kind: 'folder', userId: USER, folder: 'Archive', change: 'deleted' });
    expect(v.deleted).toBe(true);
  });
});

describe('LIST patterns (RFC 9051 §6.3.9)', () => {
  it('matches * across levels, % within one, INBOX in any case', async () => {
    const { patternMatcher } = await import('../src/mailbox/list.js');
    const cases: Array<[string, string, boolean]> = [
      ['*', 'a/b/c', true],
      ['%', 'a/b', false],
      ['%', 'a', true],
      ['a/%', 'a/b', true],
      ['a/%', 'a/b/c', false],
      ['a/*', 'a/b/c', true],
      ['a*c', 'a/b/c', true],
      ['a%c', 'a/b/c', false],
      ['a%c', 'abc', true],
      ['inbox', 'INBOX', true],
      ['Inbox/%', 'INBOX/x', true],
      ['inboxes', 'INBOX', false],
      ['', 'x', false],
      ['x.y', 'xzy', false],
      ['%/%', 'a/b', true],
      ['*%*', '', true],
    ];
    for (const [pattern, name, expected] of cases)
      expect(patternMatcher(pattern)(name), `${pattern} ~ ${name}`).toBe(expected);
  });

  it('stays fast on patterns that make backtracking matchers explode', async () => {
    const { patternMatcher } = await import('../src/mailbox/list.js');
    const match = patternMatcher(`${'*a'.repeat(200)}b`);
    const started = Date.now();
    for (let i = 0; i < 50; i++) expect(match('a'.repeat(1000))).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
