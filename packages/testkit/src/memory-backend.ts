/**
 * `MemoryBackend`: a mail backend held in memory, for protocol tests that are not about storage (no files,
 * no database). It implements the mail store's interface (what IMAP's `ImapBackend` and POP3's
 * `Pop3Backend` ask for, plus delivery and purge) and passes the same contract suite as the mail store
 * (`packages/mailstore/test/contract.ts`). No durability, no quota limit, nothing tuned for size.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { StoreError } from '@delegato/mail-core';

type SpecialUse = '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk';
type FlagOperation = 'set' | 'add' | 'remove';

export interface MemoryMessage {
  uid: number;
  flags: string[];
  internalDate: Date;
  size: number;
  modSeq: number;
  blobId: string;
}

export type MemoryStoreEvent =
  | { kind: 'exists'; userId: string; folder: string; uid: number; modSeq: number }
  | { kind: 'flags'; userId: string; folder: string; uid: number; flags: string[]; modSeq: number }
  | { kind: 'expunge'; userId: string; folder: string; uid: number; modSeq: number }
  | {
      kind: 'folder';
      userId: string;
      folder: string;
      change: 'created' | 'deleted' | 'renamed';
      to?: string;
    };

interface Folder {
  name: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModSeq: number;
  messages: MemoryMessage[];
  expunged: Array<{ uid: number; modSeq: number }>;
}

interface User {
  folders: Map<string, Folder>;
  /** Subscribed names whose folder was deleted (RFC 3501 §6.3.6). */
  orphans: Set<string>;
}

const DEFAULT_FOLDERS: ReadonlyArray<[string, SpecialUse | null]> = [
  ['INBOX', null],
  ['Sent', '\\Sent'],
  ['Drafts', '\\Drafts'],
  ['Trash', '\\Trash'],
  ['Junk', '\\Junk'],
];
const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'];
const KEYWORD = /^[\x21\x23\x24\x26\x27\x2b-\x5b\x5e-\x7a\x7c-\x7e]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const MAX_ANNOTATION_LENGTH = 64 * 1024;
const MAX_READ = 2 ** 31;

const fail = (code: ConstructorParameters<typeof StoreError>[0], message: string): never => {
  throw new StoreError(code, message);
};
const canonical = (name: string) => (/^inbox(?:\/|$)/i.test(name) ? `INBOX${name.slice(5)}` : name);

function validName(name: string): string {
  const bad =
    name.length === 0 ||
    name.length > 1024 ||
    CONTROL.test(name) ||
    name.startsWith('/') ||
    name.endsWith('/') ||
    name.includes('//') ||
    /[*%]/.test(name);
  if (bad) fail('invalid-name', `invalid folder name ${JSON.stringify(name)}`);
  return canonical(name);
}

function normalizeFlags(flags: readonly string[]): string[] {
  const out = new Map<string, string>();
  for (const flag of flags) {
    const key = flag.toLowerCase();
    if (key === '\\recent') continue;
    const system = SYSTEM_FLAGS.find((f) => f.toLowerCase() === key);
    if (flag.startsWith('\\') ? !system : !KEYWORD.test(flag)) fail('invalid-flag', `invalid flag ${flag}`);
    if (!out.has(key)) out.set(key, system ?? flag);
  }
  return [...out.values()];
}

function applyFlags(current: string[], op: FlagOperation, flags: string[]): string[] | null {
  const has = new Map(current.map((f) => [f.toLowerCase(), f]));
  if (op === 'add') {
    const added = flags.filter((f) => !has.has(f.toLowerCase()));
    return added.length ? [...current, ...added] : null;
  }
  if (op === 'remove') {
    const gone = new Set(flags.map((f) => f.toLowerCase()));
    const kept = current.filter((f) => !gone.has(f.toLowerCase()));
    return kept.length === current.length ? null : kept;
  }
  const next = flags.map((f) => has.get(f.toLowerCase()) ?? f);
  return next.length === current.length && next.every((f) => has.has(f.toLowerCase())) ? null : next;
}

async function readSource(source: Readable, maxBytes: number | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += b.length;
    if (maxBytes !== undefined && size > maxBytes) {
      source.destroy();
      fail('too-large', `message over ${maxBytes} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export class MemoryBackend {
  readonly #users = new Map<string, User>();
  /** Bodies by id, with the number of messages that hold them (copies share one) and their annotations. */
  readonly #bodies = new Map<string, { bytes: Buffer; refs: number; notes: Map<string, string> }>();
  readonly #listeners = new Map<string, Set<(event: MemoryStoreEvent) => void>>();
  #modSeq = 0;
  #uidValidity = Math.floor(Date.now() / 1000) % 0x7fffffff;

  async ensureUser(userId: string): Promise<void> {
    if (this.#users.has(userId)) return;
    const user: User = { folders: new Map(), orphans: new Set() };
    for (const [name, use] of DEFAULT_FOLDERS) user.folders.set(name, this.#newFolder(name, use, true));
    this.#users.set(userId, user);
  }

  async deliver(req: {
    users: string[];
    source: Readable;
    internalDate?: Date;
    maxBytes?: number;
  }): Promise<{ size: number; uids: Map<string, number> }> {
    const users = [...new Set(req.users)];
    if (users.length === 0 || users.some((u) => !this.#users.has(u))) {
      req.source.destroy();
      if (users.length === 0) fail('cannot', 'no recipients');
      fail('no-such-user', 'unknown user');
    }
    const bytes = await readSource(req.source, req.maxBytes);
    const uids = new Map<string, number>();
    const blobId = this.#addBody(bytes);
    for (const u of users) {
      uids.set(u, this.#add(u, this.#folder(u, 'INBOX'), blobId, bytes.length, [], req.internalDate).uid);
    }
    return { size: bytes.length, uids };
  }

  async listFolders(userId: string) {
    return [...this.#user(userId).folders.values()].map((f) => this.#info(f));
  }

  async subscriptionsWithoutFolder(userId: string): Promise<string[]> {
    return [...this.#user(userId).orphans].sort();
  }

  async folderInfo(userId: string, folder: string) {
    return this.#info(this.#folder(userId, folder));
  }

  async createFolder(userId: string, folder: string, opts: { specialUse?: SpecialUse } = {}): Promise<void> {
    const user = this.#user(userId);
    const name = validName(folder);
    if (user.folders.has(name)) fail('folder-exists', `${name} exists`);
    const subscribed = user.orphans.delete(name);
    user.folders.set(name, this.#newFolder(name, opts.specialUse ?? null, subscribed));
    this.#emit(userId, { kind: 'folder', userId, folder: name, change: 'created' });
  }

  async deleteFolder(userId: string, folder: string): Promise<void> {
    const user = this.#user(userId);
    const f = this.#folder(userId, folder);
    if (f.name === 'INBOX') fail('cannot', 'INBOX cannot be deleted');
    for (const m of f.messages) this.#release(m.blobId);
    user.folders.delete(f.name);
    if (f.subscribed) user.orphans.add(f.name);
    this.#emit(userId, { kind: 'folder', userId, folder: f.name, change: 'deleted' });
  }

  async renameFolder(userId: string, from: string, to: string): Promise<void> {
    const user = this.#user(userId);
    const source = this.#folder(userId, from);
    const target = validName(to);
    if (source.name === 'INBOX') {
      if (user.folders.has(target)) fail('folder-exists', `${target} exists`);
      const moved = this.#newFolder(target, null, false);
      user.folders.set(target, moved);
      for (const m of source.messages) moved.messages.push({ ...m, modSeq: this.#bump(moved) });
      moved.uidNext = source.uidNext;
      const uids = source.messages.map((m) => m.uid);
      source.messages = [];
      for (const uid of uids) this.#expunged(userId, source, uid);
      this.#emit(userId, { kind: 'folder', userId, folder: target, change: 'created' });
      return;
    }
    const old = source.name;
    if (target === old || target.startsWith(`${old}/`)) fail('cannot', 'into itself');
    const moving = [...user.folders.values()].filter(
      (f) => f.name === source.name || f.name.startsWith(`${source.name}/`),
    );
    const renamed = moving.map((f) => [f, target + f.name.slice(source.name.length)] as const);
    for (const [, name] of renamed) {
      if (user.folders.has(name) && !moving.some((f) => f.name === name))
        fail('folder-exists', `${name} exists`);
    }
    for (const [f] of renamed) user.folders.delete(f.name);
    for (const [f, name] of renamed) {
      f.name = name;
      user.folders.set(name, f);
    }
    this.#emit(userId, { kind: 'folder', userId, folder: old, change: 'renamed', to: target });
  }

  async setSubscribed(userId: string, folder: string, subscribed: boolean): Promise<void> {
    const user = this.#user(userId);
    const name = canonical(folder);
    const f = user.folders.get(name);
    if (f) f.subscribed = subscribed;
    else if (!subscribed && user.orphans.delete(name)) return;
    else fail('no-such-folder', `no folder ${name}`);
  }

  async snapshot(userId: string, folder: string) {
    const f = this.#folder(userId, folder);
    return {
      ...this.#info(f),
      messages: f.messages.map((m) => ({ ...m, flags: [...m.flags] })),
      flagsInUse: flagsInUse(f),
    };
  }

  async folderView(userId: string, folder: string) {
    const f = this.#folder(userId, folder);
    const unseen = f.messages.findIndex((m) => !m.flags.includes('\\Seen'));
    return {
      ...this.#info(f),
      uids: f.messages.map((m) => m.uid),
      modSeqs: f.messages.map((m) => m.modSeq),
      firstUnseen: unseen + 1,
      flagsInUse: flagsInUse(f),
    };
  }

  async listMessages(
    userId: string,
    folder: string,
    range: { fromUid?: number; toUid?: number | null; changedSince?: number } = {},
  ): Promise<MemoryMessage[]> {
    const { fromUid = 1, toUid = null, changedSince } = range;
    return this.#folder(userId, folder)
      .messages.filter(
        (m) =>
          m.uid >= fromUid &&
          (toUid === null || m.uid <= toUid) &&
          (changedSince === undefined || m.modSeq > changedSince),
      )
      .map((m) => ({ ...m, flags: [...m.flags] }));
  }

  async expungedSince(userId: string, folder: string, modSeq: number): Promise<number[]> {
    return this.#folder(userId, folder)
      .expunged.filter((e) => e.modSeq > modSeq)
      .map((e) => e.uid)
      .sort((a, b) => a - b);
  }

  async openMessage(userId: string, folder: string, uid: number): Promise<Readable> {
    const m = this.#folder(userId, folder).messages.find((x) => x.uid === uid);
    if (!m) fail('no-such-message', `no message ${uid}`);
    return Readable.from([this.#body((m as MemoryMessage).blobId)]);
  }

  async openBody(_userId: string, blobId: string) {
    const bytes = this.#body(blobId);
    return {
      read: async (position: number, length: number) => bytes.subarray(position, position + length),
      close: async () => {},
    };
  }

  async readBody(_userId: string, blobId: string, length: number): Promise<Buffer> {
    return this.#body(blobId).subarray(0, length);
  }

  async readBodies(
    _userId: string,
    reads: ReadonlyArray<{ blobId: string; length: number }>,
    opts: { into?: SharedArrayBuffer } = {},
  ): Promise<Array<Buffer | null>> {
    if (reads.some((r) => !(r.length >= 0 && r.length <= MAX_READ))) fail('cannot', 'bad length');
    const into = opts.into ? Buffer.from(opts.into) : null;
    let at = 0;
    return reads.map((r) => {
      const bytes = this.#bodies.get(r.blobId)?.bytes.subarray(0, r.length);
      if (!bytes) return null;
      if (!into || at + bytes.length > into.length) return Buffer.from(bytes);
      bytes.copy(into, at);
      at += bytes.length;
      return into.subarray(at - bytes.length, at);
    });
  }

  async blobAnnotations(
    userId: string,
    folder: string,
    name: string,
    range: { fromUid?: number; toUid?: number | null } = {},
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const m of await this.listMessages(userId, folder, range)) {
      const value = this.#bodies.get(m.blobId)?.notes.get(name);
      if (value !== undefined) out.set(m.blobId, value);
    }
    return out;
  }

  async setBlobAnnotations(
    userId: string,
    folder: string,
    name: string,
    entries: ReadonlyArray<{ blobId: string; value: string }>,
  ): Promise<void> {
    const f = this.#folder(userId, folder);
    for (const { blobId, value } of entries) {
      if (value.length > MAX_ANNOTATION_LENGTH || !f.messages.some((m) => m.blobId === blobId)) continue;
      this.#bodies.get(blobId)?.notes.set(name, value);
    }
  }

  async append(
    userId: string,
    folder: string,
    source: Readable,
    opts: { flags?: string[]; internalDate?: Date; maxBytes?: number } = {},
  ): Promise<{ uidValidity: number; uid: number }> {
    const f = this.#folder(userId, folder);
    const flags = normalizeFlags(opts.flags ?? []);
    const bytes = await readSource(source, opts.maxBytes);
    const blobId = this.#addBody(bytes);
    const m = this.#add(userId, f, blobId, bytes.length, flags, opts.internalDate);
    return { uidValidity: f.uidValidity, uid: m.uid };
  }

  async storeFlags(
    userId: string,
    folder: string,
    uids: number[],
    op: FlagOperation,
    flags: string[],
    opts: { unchangedSince?: number } = {},
  ): Promise<{ changed: MemoryMessage[]; modified: number[] }> {
    const f = this.#folder(userId, folder);
    const wanted = normalizeFlags(flags);
    const set = new Set(uids);
    const result = { changed: [] as MemoryMessage[], modified: [] as number[] };
    for (const m of f.messages) {
      if (!set.has(m.uid)) continue;
      if (opts.unchangedSince !== undefined && m.modSeq > opts.unchangedSince) {
        result.modified.push(m.uid);
        continue;
      }
      const next = applyFlags(m.flags, op, wanted);
      if (!next) continue;
      m.flags = next;
      m.modSeq = this.#bump(f);
      result.changed.push({ ...m, flags: [...next] });
      this.#emit(userId, {
        kind: 'flags',
        userId,
        folder: f.name,
        uid: m.uid,
        flags: [...next],
        modSeq: m.modSeq,
      });
    }
    return result;
  }

  async copy(userId: string, from: string, uids: number[], to: string) {
    const source = this.#folder(userId, from);
    const target = this.#folder(userId, to);
    const set = new Set(uids);
    const picked = source.messages.filter((m) => set.has(m.uid));
    const result = {
      uidValidity: target.uidValidity,
      sourceUids: [] as number[],
      destinationUids: [] as number[],
    };
    for (const m of picked) {
      const copy = this.#add(userId, target, m.blobId, m.size, [...m.flags], m.internalDate);
      result.sourceUids.push(m.uid);
      result.destinationUids.push(copy.uid);
    }
    return result;
  }

  async move(userId: string, from: string, uids: number[], to: string) {
    const result = await this.copy(userId, from, uids, to);
    this.#remove(userId, this.#folder(userId, from), new Set(result.sourceUids));
    return result;
  }

  async expunge(userId: string, folder: string, uids?: number[]): Promise<number[]> {
    const f = this.#folder(userId, folder);
    const only = uids && new Set(uids);
    const gone = f.messages.filter((m) => m.flags.includes('\\Deleted') && (!only || only.has(m.uid)));
    return this.#remove(userId, f, new Set(gone.map((m) => m.uid)));
  }

  async quota(userId: string) {
    let usedBytes = 0;
    let messages = 0;
    for (const f of this.#user(userId).folders.values()) {
      for (const m of f.messages) {
        usedBytes += m.size;
        messages++;
      }
    }
    return { usedBytes, limitBytes: null, messages };
  }

  async purgeUser(userId: string): Promise<void> {
    const user = this.#users.get(userId);
    if (!user) return;
    for (const f of user.folders.values()) for (const m of f.messages) this.#release(m.blobId);
    this.#users.delete(userId);
  }

  subscribe(userId: string, listener: (event: MemoryStoreEvent) => void): () => void {
    const listeners = this.#listeners.get(userId) ?? new Set();
    this.#listeners.set(userId, listeners.add(listener));
    return () => listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#users.clear();
    this.#bodies.clear();
    this.#listeners.clear();
  }

  #user(userId: string): User {
    const user = this.#users.get(userId);
    if (!user) fail('no-such-user', `no user ${userId}`);
    return user as User;
  }

  #folder(userId: string, name: string): Folder {
    const f = this.#user(userId).folders.get(canonical(name));
    if (!f) fail('no-such-folder', `no folder ${name}`);
    return f as Folder;
  }

  #newFolder(name: string, specialUse: SpecialUse | null, subscribed: boolean): Folder {
    this.#uidValidity = (this.#uidValidity % 0xfffffffe) + 1;
    const f: Folder = {
      name,
      specialUse,
      subscribed,
      uidValidity: this.#uidValidity,
      uidNext: 1,
      highestModSeq: 0,
      messages: [],
      expunged: [],
    };
    this.#bump(f);
    return f;
  }

  #bump(f: Folder): number {
    f.highestModSeq = ++this.#modSeq;
    return f.highestModSeq;
  }

  #info(f: Folder) {
    const size = f.messages.reduce((s, m) => s + m.size, 0);
    const unseen = f.messages.filter((m) => !m.flags.includes('\\Seen')).length;
    const { name, specialUse, subscribed, uidValidity, uidNext, highestModSeq } = f;
    return {
      name,
      specialUse,
      subscribed,
      uidValidity,
      uidNext,
      highestModSeq,
      exists: f.messages.length,
      unseen,
      recent: 0,
      size,
    };
  }

  #addBody(bytes: Buffer): string {
    const blobId = randomUUID();
    this.#bodies.set(blobId, { bytes, refs: 0, notes: new Map() });
    return blobId;
  }

  /** A message no longer holds the body: gone with its last one (an opened reader keeps its bytes). */
  #release(blobId: string): void {
    const body = this.#bodies.get(blobId);
    if (body && --body.refs <= 0) this.#bodies.delete(blobId);
  }

  #body(blobId: string): Buffer {
    const body = this.#bodies.get(blobId);
    if (!body) fail('no-such-message', 'no such body');
    return (body as { bytes: Buffer }).bytes;
  }

  #add(userId: string, f: Folder, blobId: string, size: number, flags: string[], date?: Date): MemoryMessage {
    const body = this.#bodies.get(blobId);
    if (body) body.refs++;
    const m: MemoryMessage = {
      uid: f.uidNext++,
      flags,
      internalDate: date ?? new Date(),
      size,
      modSeq: this.#bump(f),
      blobId,
    };
    f.messages.push(m);
    this.#emit(userId, { kind: 'exists', userId, folder: f.name, uid: m.uid, modSeq: m.modSeq });
    return m;
  }

  #remove(userId: string, f: Folder, uids: Set<number>): number[] {
    const gone = f.messages.filter((m) => uids.has(m.uid));
    f.messages = f.messages.filter((m) => !uids.has(m.uid));
    for (const m of gone) {
      this.#release(m.blobId);
      this.#expunged(userId, f, m.uid);
    }
    return gone.map((m) => m.uid);
  }

  #expunged(userId: string, f: Folder, uid: number): void {
    const modSeq = this.#bump(f);
    f.expunged.push({ uid, modSeq });
    this.#emit(userId, { kind: 'expunge', userId, folder: f.name, uid, modSeq });
  }

  #emit(userId: string, event: MemoryStoreEvent): void {
    for (const listener of this.#listeners.get(userId) ?? []) listener(event);
  }
}

function flagsInUse(f: Folder): string[] {
  const keywords = new Set<string>();
  for (const m of f.messages) for (const flag of m.flags) if (!flag.startsWith('\\')) keywords.add(flag);
  return [...SYSTEM_FLAGS, ...keywords];
}
