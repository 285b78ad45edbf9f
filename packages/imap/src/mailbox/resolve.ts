/**
 * Sequence sets against the selected mailbox: message sequence numbers (RFC 9051 §2.3.1.2) or UIDs
 * (§2.3.1.1) → the messages they name, in ascending order.
 */
import { badCommand } from '../errors.js';
import { maxExplicit, resolveSequenceNumbers, resolveUids, SAVED, type SetArg } from '../parser/sequence.js';
import type { SelectedMailbox } from './selected.js';

export interface Target {
  seq: number;
  uid: number;
}

/**
 * The messages a set names. A sequence number above the number of messages is an error (BAD, as
 * Dovecot: "Invalid messageset"); UIDs that do not exist are ignored (RFC 9051 §6.4.9).
 */
export function resolveTargets(
  view: SelectedMailbox,
  set: SetArg,
  byUid: boolean,
  saved: readonly number[],
): Target[] {
  if (set === SAVED) {
    // RFC 5182 §2.1: `$` names the same messages in UID and non-UID commands.
    return [...saved]
      .sort((a, b) => a - b)
      .map((uid) => ({ seq: view.seqOf(uid), uid }))
      .filter((t) => t.seq > 0);
  }
  if (byUid) {
    return resolveUids(set, view.uids).map((uid) => ({ seq: view.seqOf(uid), uid }));
  }
  if (maxExplicit(set) > view.count) throw badCommand('Invalid messageset');
  return resolveSequenceNumbers(set, view.count).map((seq) => ({ seq, uid: view.uidAt(seq) as number }));
}
