/**
 * STATUS data items (RFC 9051 §6.3.11, RFC 7162 §3.1.3 HIGHESTMODSEQ, RFC 8438 SIZE), shared by STATUS
 * and LIST-STATUS (RFC 5819).
 */
import type { FolderInfo, ImapBackend } from '../backend.js';
import { badCommand } from '../errors.js';
import type { Arg } from '../parser/types.js';
import type { RecentTracker } from './recent.js';

export const STATUS_ITEMS = [
  'MESSAGES',
  'UIDNEXT',
  'UIDVALIDITY',
  'UNSEEN',
  'RECENT',
  'HIGHESTMODSEQ',
  'SIZE',
  'DELETED',
] as const;
export type StatusItem = (typeof STATUS_ITEMS)[number];

export function parseStatusItems(items: readonly Arg[]): StatusItem[] {
  if (items.length === 0) throw badCommand('Empty status item list');
  return items.map((a) => {
    const name = a.kind === 'atom' ? a.value.toUpperCase() : '';
    if (!(STATUS_ITEMS as readonly string[]).includes(name)) throw badCommand('Invalid status item');
    return name as StatusItem;
  });
}

/** `MESSAGES 3 UIDNEXT 5 ...` for a folder. */
export async function statusValues(
  backend: ImapBackend,
  userId: string,
  info: FolderInfo,
  items: readonly StatusItem[],
  recentTracker?: RecentTracker,
): Promise<string> {
  let deleted: number | undefined;
  let recent = 0;
  if (items.includes('RECENT') && recentTracker) {
    // RFC 3501 §6.3.10: the messages with \Recent — here those no session has claimed yet.
    const from = recentTracker.unclaimedFrom(userId, info.uidValidity);
    if (from <= 1) recent = info.exists;
    else if (from < info.uidNext)
      recent = (await backend.listMessages(userId, info.name, { fromUid: from })).length;
  }
  if (items.includes('DELETED')) {
    const msgs = await backend.listMessages(userId, info.name);
    deleted = msgs.filter((m) => m.flags.includes('\\Deleted')).length;
  }
  const value = (item: StatusItem): number => {
    switch (item) {
      case 'MESSAGES':
        return info.exists;
      case 'UIDNEXT':
        return info.uidNext;
      case 'UIDVALIDITY':
        return info.uidValidity;
      case 'UNSEEN':
        return info.unseen;
      case 'RECENT':
        return recent;
      case 'HIGHESTMODSEQ':
        return info.highestModSeq;
      case 'SIZE':
        return info.size;
      case 'DELETED':
        return deleted ?? 0;
    }
  };
  return [...new Set(items)].map((i) => `${i} ${value(i)}`).join(' ');
}
