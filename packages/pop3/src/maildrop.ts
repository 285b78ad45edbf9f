/**
 * The maildrop of one POP3 session: the INBOX snapshot taken at login (RFC 1939 §8: messages arriving
 * during the session are not shown before the next one), message numbers 1..n, deletion marks (DELE,
 * RSET), and what QUIT's UPDATE state must do. Pure: the session applies the result to the store.
 */
import type { FolderSnapshot } from './backend.js';
import { pop3Error } from './replies.js';

export interface DropMessage {
  /** Message number, 1-based (RFC 1939 §3). */
  number: number;
  uid: number;
  /** The stored body (read by id: no query per RETR). */
  blobId: string;
  /** Octets of the stored message (RFC 1939 §5: LIST and STAT sizes). */
  size: number;
  deleted: boolean;
  retrieved: boolean;
  /** \Seen already at login: UPDATE need not set it again. */
  seenAtLogin: boolean;
}

export class Maildrop {
  readonly uidValidity: number;
  readonly #messages: DropMessage[];

  constructor(snapshot: Pick<FolderSnapshot, 'uidValidity' | 'messages'>) {
    this.uidValidity = snapshot.uidValidity;
    this.#messages = snapshot.messages.map((m, i) => ({
      number: i + 1,
      uid: m.uid,
      blobId: m.blobId,
      size: m.size,
      deleted: false,
      retrieved: false,
      seenAtLogin: m.flags.includes('\\Seen'),
    }));
  }

  /** The message with this number; -ERR when it does not exist or is marked as deleted (RFC 1939 §5). */
  get(n: number): DropMessage {
    const m = this.#messages[n - 1];
    if (!m || m.deleted) throw pop3Error('noSuchMessage');
    return m;
  }

  /** Messages not marked as deleted, in order. */
  live(): DropMessage[] {
    return this.#messages.filter((m) => !m.deleted);
  }

  /** STAT: count and octets of the messages not marked as deleted. */
  stat(): { count: number; size: number } {
    let count = 0;
    let size = 0;
    for (const m of this.#messages) {
      if (m.deleted) continue;
      count++;
      size += m.size;
    }
    return { count, size };
  }

  /** RFC 1939 §5 DELE: marks; a message already marked gives -ERR. */
  dele(n: number): void {
    const m = this.#messages[n - 1];
    if (m?.deleted) throw pop3Error('alreadyDeleted');
    this.get(n).deleted = true;
  }

  /** RETR sent the whole message: UPDATE will set \Seen on it. */
  markRetrieved(n: number): void {
    this.get(n).retrieved = true;
  }

  /** RFC 1939 §5 RSET: unmarks every message. */
  rset(): void {
    for (const m of this.#messages) m.deleted = false;
  }

  /** RFC 1939 §7 UIDL: unique and persistent; `uidValidity.uid` (never the blob id: copies share it). */
  uidl(m: DropMessage): string {
    return `${this.uidValidity}.${m.uid}`;
  }

  /** UIDs marked as deleted: what UPDATE removes. */
  deletedUids(): number[] {
    return this.#messages.filter((m) => m.deleted).map((m) => m.uid);
  }

  /**
   * UIDs retrieved in full (RETR), not deleted and not \Seen at login: UPDATE sets \Seen on them, as IMAP
   * would show. (One an IMAP client marked unread meanwhile stays unread: that was the later choice.)
   */
  retrievedUids(): number[] {
    return this.#messages.filter((m) => m.retrieved && !m.deleted && !m.seenAtLogin).map((m) => m.uid);
  }
}
