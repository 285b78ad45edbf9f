/**
 * Mail the appliance itself writes (expiry warnings, certificate warnings): a short plain-text message
 * with the null reverse-path and `Auto-Submitted: auto-generated` (RFC 3834 §5), delivered like any
 * other mail: into a mailbox here, or through the outbound queue.
 */
import { Readable } from 'node:stream';
import type { MailStore } from '@delegato/mailstore';
import {
  deliverWithNullSender,
  type OutboundQueue,
  type RecipientDirectory,
  rfc5322Date,
} from '@delegato/mta';
import { ulid } from 'ulid';

export interface SystemMailer {
  send(mail: { from: string; to: string; subject: string; text: string }): Promise<void>;
}

/** A header value without line ends (RFC 5322 §2.2: a header field is one logical line). */
const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ').trim();

export function systemMailer(opts: {
  hostname: string;
  region: string;
  directory: RecipientDirectory;
  store: Pick<MailStore, 'ensureUser' | 'deliver'>;
  queue: OutboundQueue;
  now?: () => Date;
}): SystemMailer {
  return {
    async send(mail) {
      const now = opts.now?.() ?? new Date();
      const body = mail.text.replace(/\r?\n/g, '\r\n');
      const message = [
        `From: Delegato <${oneLine(mail.from)}>`,
        `To: <${oneLine(mail.to)}>`,
        `Subject: ${oneLine(mail.subject)}`,
        `Date: ${rfc5322Date(now)}`,
        `Message-ID: <${ulid()}@${opts.hostname}>`,
        'Auto-Submitted: auto-generated',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        body,
        '',
      ].join('\r\n');
      await deliverWithNullSender(opts, mail.to, () => Readable.from([Buffer.from(message, 'utf8')]), now);
    },
  };
}
