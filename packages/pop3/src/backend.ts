/**
 * What the POP3 server needs from storage: the user's INBOX as a snapshot, its messages' bytes, and the
 * UPDATE state's flag change and expunge (RFC 1939 §6). The POP3 package depends on this file only, never
 * on a storage package; the appliance passes the mail store, which implements it structurally (TypeScript
 * checks it in the appliance's wiring), and the tests may pass testkit's in-memory backend. Expected
 * failures reject with a `StoreError` (`isStoreError`, `@delegato/mail-core`): `toWire` maps
 * 'no-such-message' (expunged by another client since the snapshot).
 */
import type { Readable } from 'node:stream';

export { isStoreError, StoreError, type StoreErrorCode } from '@delegato/mail-core';

/** One message of a snapshot. */
export interface MessageMeta {
  uid: number;
  /** Flags and keywords (`\Seen` decides what UPDATE marks as seen). */
  flags: string[];
  /** Octets of the stored message (LIST, STAT). */
  size: number;
  /** Opaque id of the stored body (for `readBody`; copies share it, so never a UIDL). */
  blobId: string;
}

/** A folder at one moment: the maildrop of a session (RFC 1939 §8). */
export interface FolderSnapshot {
  /** UIDL is `uidValidity.uid`. */
  uidValidity: number;
  /** Every message in UID order. */
  messages: MessageMeta[];
}

/** The storage a POP3 server works on; the folder is always `INBOX`. */
export interface Pop3Backend {
  /** Creates the user's default folders (idempotent); called at login. */
  ensureUser(userId: string): Promise<void>;
  snapshot(userId: string, folder: string): Promise<FolderSnapshot>;
  /** The stored bytes, streamed (RETR, TOP). Errors: 'no-such-message'. */
  openMessage(userId: string, folder: string, uid: number): Promise<Readable>;
  /** The first `length` octets of a body (small messages in one read). */
  readBody(userId: string, blobId: string, length: number): Promise<Buffer>;
  /** UPDATE: `\Deleted` on the DELEted messages, `\Seen` on the retrieved ones. */
  storeFlags(userId: string, folder: string, uids: number[], op: 'add', flags: string[]): Promise<unknown>;
  /** UPDATE: removes exactly these UIDs (when they carry `\Deleted`). */
  expunge(userId: string, folder: string, uids: number[]): Promise<unknown>;
}
