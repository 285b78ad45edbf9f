/**
 * The messages a list writes itself: the moderation notice to the owner (its Subject carries the post's id
 * and secret token, which a reply must quote) and the notices to a poster whose post was rejected or
 * expired. Plain text, UTF-8, `Auto-Submitted: auto-generated` (RFC 3834 §5), sent with the null envelope
 * sender so that nothing answers them automatically.
 */
import { randomBytes } from 'node:crypto';
import { rfc5322Date } from '../trace.js';
import { controlAddress, encodeWord } from './headers.js';
import type { MailingList } from './ports.js';
import type { ListPost } from './post-store.js';

export interface Notice {
  to: string;
  text: string;
}

function message(opts: {
  hostname: string;
  from: string;
  to: string;
  subject: string;
  body: string[];
  now: Date;
  replyTo?: string;
}): string {
  const headers = [
    `From: ${opts.from}`,
    `To: <${opts.to}>`,
    ...(opts.replyTo ? [`Reply-To: <${opts.replyTo}>`] : []),
    `Subject: ${encodeWord(opts.subject)}`,
    `Date: ${rfc5322Date(opts.now)}`,
    `Message-ID: <${randomBytes(12).toString('hex')}@${opts.hostname}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    'Auto-Submitted: auto-generated',
  ];
  return `${headers.join('\r\n')}\r\n\r\n${opts.body.join('\r\n')}\r\n`;
}

/** The subject tag a reply must quote: `[moderate <id> <token>]`. */
export function moderationTag(post: Pick<ListPost, 'id' | 'token'>): string {
  return `[moderate ${post.id} ${post.token}]`;
}

export const MODERATION_TAG = /\[moderate ([0-9A-HJKMNP-TV-Z]{26}) ([0-9a-f]{32})\]/i;

export function moderationNotice(list: MailingList, post: ListPost, hostname: string, now: Date): Notice {
  const request = controlAddress(list, 'request');
  return {
    to: list.owner,
    text: message({
      hostname,
      now,
      from: `${list.address} moderation <${request}>`,
      to: list.owner,
      replyTo: request,
      subject: `Approval needed: ${post.subject || '(no subject)'} ${moderationTag(post)}`,
      body: [
        `A message to ${list.address} waits for your approval.`,
        '',
        `  From:     ${post.from || post.sender}`,
        `  Sender:   ${post.sender}`,
        `  Subject:  ${post.subject || '(no subject)'}`,
        `  Size:     ${post.size} bytes`,
        `  Received: ${post.receivedAt}`,
        `  Expires:  ${post.expiresAt ?? ''}`,
        '',
        'To approve it, reply to this message with the word "approve" on the first line;',
        'to reject it, reply with "reject". Keep the subject as it is.',
        'You can also read it and decide on your account page of the web interface ("My account").',
      ],
    }),
  };
}

export function posterNotice(
  list: Pick<MailingList, 'address'>,
  post: ListPost,
  why: 'rejected' | 'expired',
  hostname: string,
  now: Date,
): Notice {
  return {
    to: post.sender,
    text: message({
      hostname,
      now,
      from: `${list.address} <${controlAddress(list, 'bounces')}>`,
      to: post.sender,
      subject: `Not delivered to ${list.address}: ${post.subject || '(no subject)'}`,
      body: [
        why === 'rejected'
          ? `Your message to ${list.address} was rejected by the list's owner.`
          : `Your message to ${list.address} was not approved in time by the list's owner; it was discarded.`,
        '',
        `  Subject:  ${post.subject || '(no subject)'}`,
        `  Received: ${post.receivedAt}`,
        '',
        'It was not sent to the list members.',
      ],
    }),
  };
}
