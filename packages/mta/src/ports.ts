/**
 * What the MTA needs from the rest of the appliance. The MTA depends on these small interfaces, never on
 * the directory or the mail store packages themselves; the appliance wires the real implementations.
 */
import type { Readable } from 'node:stream';

/** What mail to an address becomes (the directory's RecipientLookup, structurally). */
export type RecipientLookup =
  | { kind: 'invalid'; reason: string }
  | { kind: 'not-hosted'; domain: string }
  | { kind: 'unknown'; domain: string; region: string }
  | { kind: 'mailbox'; address: string; mailboxId: string; region: string; quotaBytes: number | null }
  | { kind: 'disabled'; address: string; reason: 'expired' | 'removed'; region: string }
  | { kind: 'ambiguous'; address: string; candidates: string[]; region: string }
  | {
      kind: 'alias';
      address: string;
      targets: Array<
        { kind: 'mailbox'; address: string; mailboxId: string } | { kind: 'address'; address: string }
      >;
      region: string;
    }
  | { kind: 'forward'; address: string; target: string; region: string }
  | { kind: 'list'; address: string; target: string; region: string }
  /** A built-in list: expanded in its domain's region (lists/). */
  | { kind: 'mailing-list'; address: string; region: string };

export interface RecipientDirectory {
  lookupRecipient(address: string): Promise<RecipientLookup>;
}

/** The part of the mail store the MTA delivers into. */
export interface DeliveryStore {
  ensureUser(userId: string): Promise<void>;
  deliver(req: {
    users: string[];
    source: Readable;
    internalDate?: Date;
    maxBytes?: number;
  }): Promise<{ size: number; uids: Map<string, number> }>;
  quota(userId: string): Promise<{ usedBytes: number; limitBytes: number | null }>;
  /** The stored bytes of a delivered message (to return it in a success DSN). */
  openMessage(userId: string, folder: string, uid: number): Promise<Readable>;
}
