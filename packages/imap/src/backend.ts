/**
 * What the IMAP server needs from storage: the backend interface it is given (`ImapServerOptions.backend`),
 * the values it reads, the events it reports, the error contract it maps to the wire (`toWire`), and the
 * folder-name rules of the protocol. The IMAP package depends on this file only, never on a storage
 * package; the appliance passes the mail store, which implements it structurally (TypeScript checks it in
 * the appliance's wiring), and the tests may pass testkit's in-memory backend.
 *
 * Semantics follow RFC 9051 §2.3: every folder has a UIDVALIDITY and a UIDNEXT; UIDs are strictly
 * ascending and never reused within a UIDVALIDITY; every change of a message (arrival, flags, expunge)
 * gets a new MODSEQ, strictly ascending per folder (RFC 7162 §3.1). Expected failures reject with a
 * `StoreError` (`isStoreError`, `@delegato/mail-core`).
 */
import type { Readable } from 'node:stream';

export { isStoreError, StoreError, type StoreErrorCode } from '@delegato/mail-core';

/** Hierarchy delimiter of folder names (LIST, NAMESPACE); the backend's folder names use it. */
export const FOLDER_DELIMITER = '/';

/**
 * The canonical form of a folder name: `INBOX` in any case, also as the first level of its inferiors
 * (`inbox/x` is `INBOX/x`), is `INBOX` (RFC 9051 §5.1). No validation (the backend refuses bad names).
 */
export function canonicalFolderName(name: string): string {
  return /^inbox(?:\/|$)/i.test(name) ? `INBOX${name.slice(5)}` : name;
}

/** RFC 6154 special-use attributes a folder can carry (CREATE-SPECIAL-USE). */
export type SpecialUse = '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk';

export interface FolderInfo {
  name: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModSeq: number;
  /** Number of messages. */
  exists: number;
  /** Messages without \Seen. */
  unseen: number;
  /** Not kept by the backend (the session tracks \Recent): 0. */
  recent: number;
  /** Sum of message sizes, bytes. */
  size: number;
}

export interface MessageMeta {
  uid: number;
  /** Flags and keywords, e.g. `\Seen`, `$Forwarded` (system flags with their backslash). */
  flags: string[];
  /** INTERNALDATE. */
  internalDate: Date;
  /** RFC822.SIZE: octets of the stored message. */
  size: number;
  modSeq: number;
  /** Opaque, stable id of the stored body; copies share it (not unique within a folder). */
  blobId: string;
}

/** What SELECT needs of a folder, as columns. */
export interface FolderView extends FolderInfo {
  /** Every message's UID, ascending (sequence number n = uids[n-1]). */
  uids: number[];
  /** The MODSEQ of each message, aligned with `uids`. */
  modSeqs: number[];
  /** Sequence number of the first message without \Seen; 0 when every message has it. */
  firstUnseen: number;
  /** For the FLAGS response: the five system flags, then every keyword in use in the folder. */
  flagsInUse: string[];
}

export type FlagOperation = 'set' | 'add' | 'remove';

export interface StoreFlagsResult {
  /** Messages whose flags changed, with their new flags and MODSEQ. */
  changed: MessageMeta[];
  /** UIDs not changed because their MODSEQ was above `unchangedSince` (RFC 7162 §3.1.3). */
  modified: number[];
}

export interface CopyResult {
  uidValidity: number;
  /** Source UIDs and the destination UIDs they got, in the same order (UIDPLUS, RFC 4315). */
  sourceUids: number[];
  destinationUids: number[];
}

export interface QuotaInfo {
  usedBytes: number;
  /** null when unlimited. */
  limitBytes: number | null;
  messages: number;
}

/** A change of one user's mailboxes, published to every session of that user (updates, IDLE). */
export type StoreEvent =
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

/** A stored body opened for reads at any position; it never changes once stored. */
export interface BodyReader {
  /** Up to `length` octets from `position` (fewer at the end, none past it). */
  read(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** The storage an IMAP server works on. `userId` is the authenticated user's id. */
export interface ImapBackend {
  /** Creates the user's default folders (idempotent); called at login. */
  ensureUser(userId: string): Promise<void>;
  listFolders(userId: string): Promise<FolderInfo[]>;
  /** Subscribed names whose folder was deleted (RFC 3501 §6.3.6). */
  subscriptionsWithoutFolder(userId: string): Promise<string[]>;
  folderInfo(userId: string, folder: string): Promise<FolderInfo>;
  createFolder(userId: string, folder: string, opts?: { specialUse?: SpecialUse }): Promise<void>;
  deleteFolder(userId: string, folder: string): Promise<void>;
  /** Renaming INBOX moves its messages and leaves INBOX empty (RFC 9051 §6.3.6). */
  renameFolder(userId: string, from: string, to: string): Promise<void>;
  setSubscribed(userId: string, folder: string, subscribed: boolean): Promise<void>;
  folderView(userId: string, folder: string): Promise<FolderView>;
  /** Messages with uid in [fromUid, toUid] (toUid null = to the end); optionally only those changed after a MODSEQ. */
  listMessages(
    userId: string,
    folder: string,
    range?: { fromUid?: number; toUid?: number | null; changedSince?: number },
  ): Promise<MessageMeta[]>;
  /** UIDs expunged after `modSeq` (QRESYNC VANISHED). */
  expungedSince(userId: string, folder: string, modSeq: number): Promise<number[]>;
  /** A body listed by `listMessages`, for reads at any position. */
  openBody(userId: string, blobId: string): Promise<BodyReader>;
  /** The first `length` octets of a body. */
  readBody(userId: string, blobId: string, length: number): Promise<Buffer>;
  /** `readBody` for many bodies in one call, null for a gone one; with `into`, views of that buffer. */
  readBodies(
    userId: string,
    reads: ReadonlyArray<{ blobId: string; length: number }>,
    opts?: { into?: SharedArrayBuffer },
  ): Promise<Array<Buffer | null>>;
  /** Opaque per-body values (the FETCH summary), body id → value. */
  blobAnnotations(
    userId: string,
    folder: string,
    name: string,
    range?: { fromUid?: number; toUid?: number | null },
  ): Promise<Map<string, string>>;
  setBlobAnnotations(
    userId: string,
    folder: string,
    name: string,
    entries: ReadonlyArray<{ blobId: string; value: string }>,
  ): Promise<void>;
  append(
    userId: string,
    folder: string,
    source: Readable,
    opts?: { flags?: string[]; internalDate?: Date; maxBytes?: number },
  ): Promise<{ uidValidity: number; uid: number }>;
  storeFlags(
    userId: string,
    folder: string,
    uids: number[],
    op: FlagOperation,
    flags: string[],
    opts?: { unchangedSince?: number },
  ): Promise<StoreFlagsResult>;
  copy(userId: string, from: string, uids: number[], to: string): Promise<CopyResult>;
  /** Copy then expunge from the source, atomically (RFC 6851). */
  move(userId: string, from: string, uids: number[], to: string): Promise<CopyResult>;
  /** Removes the messages with \Deleted (only those in `uids` when given); the expunged UIDs. */
  expunge(userId: string, folder: string, uids?: number[]): Promise<number[]>;
  quota(userId: string): Promise<QuotaInfo>;
  /** Changes of one user's store; returns the unsubscribe function. */
  subscribe(userId: string, listener: (event: StoreEvent) => void): () => void;
}
