/**
 * The quota warning (issue 19): when a delivery brings a mailbox to 90 % of its quota (the mail store
 * reports it, packages/mailstore/src/group-commit.ts), its user finds a short message from postmaster@ of
 * their domain in the INBOX, in their interface language. One per crossing: usage must fall below 90 % and
 * reach it again for another. Stored directly in the mailbox (never queued): nothing leaves the appliance.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Directory } from '@delegato/directory';
import type { MailStore } from '@delegato/mailstore';
import { type Logger, logEventAt } from '@delegato/observability';

const MB = 1024 * 1024;

/** A size for people: KB below a megabyte, MB with one decimal above. */
export function humanSize(bytes: number): string {
  if (bytes < MB) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `${(bytes / MB).toFixed(bytes < 10 * MB ? 1 : 0)} MB`;
}

const TEXTS = {
  en: {
    subject: 'Your mailbox is almost full',
    body: (used: string, limit: string, pct: number) =>
      [
        `Your mailbox uses ${used} of its ${limit} (${pct} %).`,
        '',
        'When it is full, new mail to you is refused and the senders are told so.',
        'Delete messages you no longer need (and empty the Trash), or ask your',
        'administrator for a larger quota.',
      ].join('\r\n'),
  },
  it: {
    subject: 'La tua casella è quasi piena',
    body: (used: string, limit: string, pct: number) =>
      [
        `La tua casella usa ${used} dei suoi ${limit} (${pct} %).`,
        '',
        'Quando sarà piena, i nuovi messaggi per te saranno rifiutati e i mittenti',
        'ne saranno avvisati. Cancella i messaggi che non ti servono più (e svuota il',
        'Cestino), oppure chiedi al tuo amministratore una quota più ampia.',
      ].join('\r\n'),
  },
} as const;

/** The warning message, RFC 5322, UTF-8 (RFC 2047 encoded subject, 8bit body). */
export function warningMessage(opts: {
  to: string;
  usedBytes: number;
  limitBytes: number;
  language: string | null;
  now: Date;
}): string {
  const domain = opts.to.slice(opts.to.lastIndexOf('@') + 1);
  const t = opts.language === 'it' ? TEXTS.it : TEXTS.en;
  const pct = Math.floor((opts.usedBytes / opts.limitBytes) * 100);
  const subject = `=?UTF-8?B?${Buffer.from(t.subject, 'utf8').toString('base64')}?=`;
  return [
    `From: Postmaster <postmaster@${domain}>`,
    `To: <${opts.to}>`,
    `Subject: ${subject}`,
    `Date: ${opts.now.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <quota-${randomUUID()}@${domain}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    'Auto-Submitted: auto-generated',
    '',
    t.body(humanSize(opts.usedBytes), humanSize(opts.limitBytes), pct),
    '',
  ].join('\r\n');
}

/** What the mail store calls (`onNearQuota`): one warning per mailbox named; failures are logged only. */
export function quotaWarner(opts: {
  directory: Directory;
  store: () => MailStore | undefined;
  logger: Logger;
  now?: () => Date;
}): (userIds: string[]) => void {
  const warn = async (id: string) => {
    const store = opts.store();
    const mb = await opts.directory.mailboxById(id);
    if (!store || !mb || mb.state !== 'active' || mb.quotaBytes === null) return;
    const { usedBytes } = await store.quota(id);
    const message = warningMessage({
      to: mb.address,
      usedBytes,
      limitBytes: mb.quotaBytes,
      language: mb.language,
      now: opts.now?.() ?? new Date(),
    });
    await store.deliver({ users: [id], source: Readable.from([Buffer.from(message, 'utf8')]) });
    logEventAt(opts.logger, 'info', 'mailbox.quota_warning', {
      mailbox: mb.address,
      usedBytes,
      limitBytes: mb.quotaBytes,
    });
  };
  return (ids) => {
    for (const id of ids) {
      warn(id).catch((err: unknown) =>
        logEventAt(opts.logger, 'warn', 'mailbox.quota_warning', {
          mailboxId: id,
          err: (err as Error).message,
        }),
      );
    }
  };
}
