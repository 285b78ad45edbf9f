/**
 * The mail store's backend interface: what the MTA (delivery), IMAP and POP3 need from storage. The
 * protocol packages depend on this interface only; `MailStore` (store.ts) implements it on libSQL metadata
 * plus one file per message body; `test/contract.ts` is the suite every implementation must pass.
 *
 * Semantics follow IMAP (RFC 9051 §2.3): every folder has a UIDVALIDITY and a UIDNEXT; UIDs are strictly
 * ascending and never reused within a UIDVALIDITY; every change of a message (arrival, flags, expunge)
 * gets a new MODSEQ, strictly ascending per folder (RFC 7162 §3.1).
 */
import type { Readable } from 'node:stream';

/** A user of the store: the directory's mailbox id (stable across renames). */
export type UserId = string;

/** RFC 6154 special-use attributes of the folders created with every user. */
export type SpecialUse = '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk';

export const DEFAULT_FOLDERS: ReadonlyArray<{ name: string; specialUse: SpecialUse | null }> = [
  { name: 'INBOX', specialUse: null },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
];

/** Hierarchy delimiter of folder names (IMAP LIST). */
export const FOLDER_DELIMITER = '/';

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
  /** Messages with \Recent semantics are not kept (IMAP4rev2 dropped \Recent); always 0. */
  recent: number;
  /** Sum of message sizes, bytes. */
  size: number;
}

export interface MessageMeta {
  uid: number;
  /** Flags and keywords, e.g. `\Seen`, `\Flagged`, `$Forwarded` (system flags with their backslash). */
  flags: string[];
  /** Internal date (IMAP INTERNALDATE): arrival time for delivered mail, APPEND's date otherwise. */
  internalDate: Date;
  /** Size in octets of the stored message (RFC822.SIZE), trace headers included. */
  size: number;
  modSeq: number;
  /**
   * Opaque, stable id of the stored body. Copies share it: the recipients of one delivery, COPY/MOVE
   * results and a renamed INBOX's messages keep their body's id, so it is NOT unique within a folder after a
   * COPY into the same folder. POP3 UIDL (RFC 1939 §7: unique, persistent) should use `uidValidity` + `uid`.
   */
  blobId: string;
}

/** A folder snapshot for SELECT/EXAMINE. */
export interface FolderSnapshot extends FolderInfo {
  /** Every message in UID order (sequence number n = messages[n-1]). */
  messages: MessageMeta[];
  /** For the FLAGS response: the five system flags, then every keyword in use in the folder. */
  flagsInUse: string[];
}

/**
 * What IMAP SELECT needs of a folder, as columns rather than one object per message (`folderView`): a
 * 10,000-message folder is two arrays of numbers, not 10,000 objects with their flags and dates.
 */
export interface FolderView extends FolderInfo {
  /** Every message's UID, ascending (sequence number n = uids[n-1]). */
  uids: number[];
  /** The MODSEQ of each message, aligned with `uids`. */
  modSeqs: number[];
  /** Sequence number of the first message without \Seen; 0 when every message has it. */
  firstUnseen: number;
  /** As `FolderSnapshot.flagsInUse`: the five system flags, then every keyword in use in the folder. */
  flagsInUse: string[];
}

export type FlagOperation = 'set' | 'add' | 'remove';

export interface StoreFlagsResult {
  /** Messages whose flags changed, with their new flags and MODSEQ. */
  changed: MessageMeta[];
  /** UIDs not changed because their MODSEQ was above `unchangedSince` (CONDSTORE, RFC 7162 §3.1.3). */
  modified: number[];
}

export interface CopyResult {
  uidValidity: number;
  /** Source UIDs and the destination UIDs they got, in the same order (UIDPLUS, RFC 4315). */
  sourceUids: number[];
  destinationUids: number[];
}

export interface QuotaInfo {
  /** Bytes used over every folder. */
  usedBytes: number;
  /** Limit in bytes from the directory, null when unlimited. */
  limitBytes: number | null;
  messages: number;
}

/** An event published to every session of the same user (IMAP unsolicited responses, IDLE). */
export type StoreEvent =
  | { kind: 'exists'; userId: UserId; folder: string; uid: number; modSeq: number }
  | { kind: 'flags'; userId: UserId; folder: string; uid: number; flags: string[]; modSeq: number }
  | { kind: 'expunge'; userId: UserId; folder: string; uid: number; modSeq: number }
  | {
      kind: 'folder';
      userId: UserId;
      folder: string;
      change: 'created' | 'deleted' | 'renamed';
      to?: string;
    };

/** One delivery: the same message into the INBOX of several users, stored once per user atomically. */
export interface DeliveryRequest {
  users: UserId[];
  /**
   * The message as it will be stored (trace headers already prepended). The store consumes it; when the
   * delivery fails the stream is destroyed (as `stream.pipeline` does), read to the end or not.
   */
  source: Readable;
  internalDate?: Date;
  /** Refuse (and store nothing) when the message is larger than this many bytes. */
  maxBytes?: number;
}

export interface DeliveryResult {
  size: number;
  /** Per user: the UID given in INBOX. */
  uids: Map<UserId, number>;
  /** Users whose usage reached 90 % of their quota with this message (they get a warning). */
  nearQuota?: UserId[];
}

/**
 * A stored body opened for reading at any position (`MailBackend.openBody`). Bodies never change once
 * stored; a reader opened before an expunge keeps reading the bytes.
 */
export interface BodyReader {
  /** Up to `length` octets from `position` (fewer at the end of the body, none past it). */
  read(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** Longest annotation value kept by `setBlobAnnotations` (longer ones are ignored). */
export const MAX_ANNOTATION_LENGTH = 64 * 1024;

/**
 * The error contract the protocols declare (@delegato/mail-core): the store rejects an expected failure
 * with this `StoreError` and one of its codes.
 */
export { StoreError, type StoreErrorCode } from '@delegato/mail-core';

/** What the protocol servers and the MTA need from storage. */
export interface MailBackend {
  /** Creates the user's default folders (idempotent). */
  ensureUser(userId: UserId): Promise<void>;
  /**
   * Stores one message for every user, durably: when the promise resolves the body file and the
   * metadata are fsynced and committed (the MTA answers 250 only then). All-or-nothing per request.
   * Duplicate users are delivered once. Enforces quota with the message's real size: 'over-quota' when it
   * would take any of the users past their limit (nothing stored; the MTA's RCPT check sees only SIZE=).
   * Errors: 'no-such-user' (a user without `ensureUser`), 'too-large' (`maxBytes`), 'over-quota'.
   */
  deliver(req: DeliveryRequest): Promise<DeliveryResult>;

  listFolders(userId: UserId): Promise<FolderInfo[]>;
  /**
   * Names still subscribed whose folder was deleted (RFC 3501 §6.3.6: a subscription is not removed with
   * its folder; creating a folder of that name makes it subscribed again).
   */
  subscriptionsWithoutFolder(userId: UserId): Promise<string[]>;
  folderInfo(userId: UserId, folder: string): Promise<FolderInfo>;
  /** `specialUse`: the folder's RFC 6154 attribute (IMAP CREATE-SPECIAL-USE). */
  createFolder(userId: UserId, folder: string, opts?: { specialUse?: SpecialUse }): Promise<void>;
  /** INBOX cannot be deleted (RFC 9051 §6.3.5). */
  deleteFolder(userId: UserId, folder: string): Promise<void>;
  /** Renaming INBOX moves its messages to the new folder and leaves INBOX empty (RFC 9051 §6.3.6). */
  renameFolder(userId: UserId, from: string, to: string): Promise<void>;
  setSubscribed(userId: UserId, folder: string, subscribed: boolean): Promise<void>;

  snapshot(userId: UserId, folder: string): Promise<FolderSnapshot>;
  /**
   * The folder as `snapshot` sees it, as columns (UIDs, MODSEQs), with the first unseen message and the
   * flags in use: IMAP SELECT without an object per message. Errors: 'no-such-folder'.
   */
  folderView(userId: UserId, folder: string): Promise<FolderView>;
  /** Messages with uid in [fromUid, toUid] (toUid null = to the end); optionally only those changed after modSeq. */
  listMessages(
    userId: UserId,
    folder: string,
    range?: { fromUid?: number; toUid?: number | null; changedSince?: number },
  ): Promise<MessageMeta[]>;
  /** UIDs expunged after `modSeq` (QRESYNC VANISHED, RFC 7162 §3.2.10). */
  expungedSince(userId: UserId, folder: string, modSeq: number): Promise<number[]>;
  /** The stored bytes of a message, streamed. Errors: 'no-such-folder', 'no-such-message'. */
  openMessage(userId: UserId, folder: string, uid: number): Promise<Readable>;
  /**
   * The stored body `blobId` (a `MessageMeta.blobId` the caller listed for `userId`), for reads at any
   * position, without a metadata query per message: bulk reads (IMAP `FETCH 1:* BODY[]`, SEARCH) after one
   * `listMessages`. Body ids are unguessable and the caller got it from the user's own listing; the store
   * does not check ownership again. Errors: 'no-such-message' (unknown id, or the body is gone).
   */
  openBody(userId: UserId, blobId: string): Promise<BodyReader>;
  /**
   * The first `length` octets of the body `blobId` (all of a shorter one): for many small bodies in a row
   * (IMAP FETCH BODY[] or ENVELOPE over a range, SEARCH), which an implementation may read in bulk (the
   * calls made together are served together). The same rules for `blobId` as `openBody`.
   * Errors: 'no-such-message'.
   */
  readBody(userId: UserId, blobId: string, length: number): Promise<Buffer>;

  /**
   * `readBody` for many bodies in one call (the same rules for each `blobId`): one result per read, in
   * order, null for a body that does not exist (or is gone). For bulk reads of many small bodies (IMAP
   * `FETCH 1:* BODY[]`) without a promise and a call per message; an implementation may answer all of
   * them with one read request. Results may share memory with each other: copy one to keep it for long
   * without the others. With `into`, results are read into that buffer, from its start and in order, as
   * far as they fit (views of it; the rest as without it): a caller that reuses its buffers once it is
   * done with the bytes spares the allocations (and the garbage collection) of a large bulk read; it
   * must not reuse one while a result in it is still in use. Errors: 'cannot' (a negative or huge length).
   */
  readBodies(
    userId: UserId,
    reads: ReadonlyArray<{ blobId: string; length: number }>,
    opts?: { into?: SharedArrayBuffer },
  ): Promise<Array<Buffer | null>>;

  /**
   * Opaque values derived from stored bodies (a protocol's parsed summary, like Dovecot's
   * dovecot.index.cache), keyed by body id and `name`: the values of `name` for the bodies of the messages
   * in `folder` with uid in [fromUid, toUid] (toUid null = to the end), as body id → value. A body never
   * changes, so a value stays valid while the body exists; it is removed with the body. Copies of a message
   * share it. Errors: 'no-such-folder'.
   */
  blobAnnotations(
    userId: UserId,
    folder: string,
    name: string,
    range?: { fromUid?: number; toUid?: number | null },
  ): Promise<Map<string, string>>;
  /**
   * Stores annotation values (replacing earlier ones of the same name). Entries whose body is not (or no
   * longer) in `folder`, and values longer than `MAX_ANNOTATION_LENGTH`, are ignored: a cache fill never
   * fails a read. Not a change of the mailbox: no MODSEQ, no event. Errors: 'no-such-folder'.
   */
  setBlobAnnotations(
    userId: UserId,
    folder: string,
    name: string,
    entries: ReadonlyArray<{ blobId: string; value: string }>,
  ): Promise<void>;

  /**
   * Stores a message in a folder (IMAP APPEND). Refuses with 'over-quota' when the user's usage plus the
   * message would exceed the quota limit, 'too-large' beyond `maxBytes`, 'invalid-flag'.
   */
  append(
    userId: UserId,
    folder: string,
    source: Readable,
    opts?: { flags?: string[]; internalDate?: Date; maxBytes?: number },
  ): Promise<{ uidValidity: number; uid: number }>;
  storeFlags(
    userId: UserId,
    folder: string,
    uids: number[],
    op: FlagOperation,
    flags: string[],
    opts?: { unchangedSince?: number },
  ): Promise<StoreFlagsResult>;
  /** Copies (flags and internal date kept, new UIDs in source UID order); 'over-quota' like `append`. */
  copy(userId: UserId, from: string, uids: number[], to: string): Promise<CopyResult>;
  /** Copy then expunge from the source, atomically (MOVE, RFC 6851). */
  move(userId: UserId, from: string, uids: number[], to: string): Promise<CopyResult>;
  /** Removes the messages with \Deleted (only those in `uids` when given); returns the expunged UIDs. */
  expunge(userId: UserId, folder: string, uids?: number[]): Promise<number[]>;

  quota(userId: UserId): Promise<QuotaInfo>;
  /** Deletes a user's folders and messages (the directory purged the mailbox). */
  purgeUser(userId: UserId): Promise<void>;

  /** Subscribe to changes of one user's store; returns the unsubscribe function. */
  subscribe(userId: UserId, listener: (event: StoreEvent) => void): () => void;
  close(): Promise<void>;
}
