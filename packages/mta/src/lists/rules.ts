/**
 * Who may post to a built-in list: checked on the envelope sender at RCPT and on the From: address at DATA
 * (both must pass), so that the refusal is a 550 5.7.1 in the SMTP transaction, not a bounce later. The
 * owner may always post. The null sender never posts: bounces and notices are not list traffic.
 */
import type { MailingList } from './ports.js';

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** Null when `sender` may post to `list`; otherwise the reason, for the 550 reply. */
export function refusalFor(list: MailingList, sender: string): string | null {
  const who = sender.toLowerCase();
  if (who === '') return `${list.address} takes no mail from the null sender`;
  if (who === list.owner) return null;
  switch (list.senders) {
    case 'anyone':
      return null;
    case 'domain':
      return domainOf(who) === list.domain
        ? null
        : `only senders of ${list.domain} may post to ${list.address}`;
    case 'members':
      return list.members.includes(who) ? null : `only members may post to ${list.address}`;
    case 'listed':
      return list.allowedSenders.includes(who) ? null : `${who} may not post to ${list.address}`;
  }
}

/** RFC 2919 §3: the list identifier, `<local.domain>` (the list address with its `@` as a dot). */
export function listId(list: Pick<MailingList, 'address'>): string {
  return list.address.replace('@', '.');
}
