/**
 * What the list expansion needs from the directory (the directory's ListView, structurally): the MTA never
 * imports the directory package; the appliance passes the Directory in.
 */
import type { RecipientDirectory } from '../ports.js';

/** A built-in list as the directory keeps it (packages/directory/src/service/lists.ts). */
export interface MailingList {
  address: string;
  domain: string;
  /** The owner (moderator): a mailbox's official address. */
  owner: string;
  senders: 'members' | 'domain' | 'anyone' | 'listed';
  allowedSenders: string[];
  moderated: boolean;
  members: string[];
}

export interface ListDirectory extends RecipientDirectory {
  /** A built-in list by its address; null when the address is not one. */
  lookupList(address: string): Promise<MailingList | null>;
}
