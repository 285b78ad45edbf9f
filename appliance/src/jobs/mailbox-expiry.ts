/**
 * Job `mailbox-expiry`: the mailboxes with an expiration date (the add-user form's expiration field).
 *
 * - Before the date: `operations.expiryWarningDays` days ahead (default 14), the mailbox's contact person
 *   gets one warning mail per expiration date (remembered in stats.db `expiry_warnings`); the contact is
 *   the first address in the mailbox's contact field, else postmaster@ of its domain. Only the mailbox's
 *   home region warns (each region runs this job).
 * - From the day after it: the mailbox is refused at RCPT (550 5.2.1) and at login by the directory's
 *   lookups (packages/directory/src/expiry.ts); the job ends its open IMAP/POP3 sessions at once through
 *   the session sweep, and reports how many mailboxes are expired.
 */
import { type Actor, type Directory, isExpired, todayIn } from '@delegato/directory';
import type { OperationsDb } from '@delegato/mailstore';
import { type Logger, logEvent } from '@delegato/observability';
import type { SystemMailer } from './system-mail.js';

const JOB: Actor = { kind: 'system', name: 'job:mailbox-expiry', from: 'local' };
const ADDRESS = /[^\s<>@,;"()]+@[^\s<>@,;"()]+\.[^\s<>@,;"()]+/;

/** The address to warn for a mailbox: the first address in its contact field, else postmaster@domain. */
export function contactAddress(contact: string | null, domain: string): string {
  const m = contact ? ADDRESS.exec(contact) : null;
  return m ? m[0].toLowerCase() : `postmaster@${domain}`;
}

interface Expiring {
  id: string;
  address: string;
  contact: string | null;
  expiresOn: string;
  domain: string;
}

async function expiringMailboxes(directory: Directory): Promise<Expiring[]> {
  const stmt = await directory.engine.raw.prepare(
    `SELECT m.id AS id, m.address AS address, m.contact AS contact, m.expires_on AS expires_on, d.name AS domain
       FROM mailboxes m JOIN domains d ON d.id = m.domain_id
      WHERE m.state = 'active' AND m.expires_on IS NOT NULL`,
  );
  const rows = (await stmt.all()) as Array<Record<string, unknown>>;
  return rows.map((r) => ({
    id: String(r.id),
    address: String(r.address),
    contact: r.contact === null || r.contact === undefined ? null : String(r.contact),
    expiresOn: String(r.expires_on),
    domain: String(r.domain),
  }));
}

function daysUntil(today: string, day: string): number {
  return Math.round((Date.parse(`${day}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000);
}

export async function runMailboxExpiry(opts: {
  directory: Directory;
  db: OperationsDb;
  mailer: SystemMailer;
  region: string;
  timezone: string;
  warningDays: number;
  logger: Logger;
  /** Ends the sessions of mailboxes that may no longer log in (the session sweep). */
  endSessions: () => Promise<void>;
  now?: () => Date;
}): Promise<{ warned: number; expired: number }> {
  const now = opts.now?.() ?? new Date();
  const today = todayIn(opts.timezone, now);
  const homes = new Map((await opts.directory.listDomains(JOB)).map((d) => [d.name, d.region]));
  let warned = 0;
  let expired = 0;
  for (const mb of await expiringMailboxes(opts.directory)) {
    if (homes.get(mb.domain) !== opts.region) continue;
    if (isExpired(mb.expiresOn, opts.timezone, now)) {
      expired++;
      continue;
    }
    const left = daysUntil(today, mb.expiresOn);
    if (left > opts.warningDays || (await opts.db.expiryWarned(mb.id, mb.expiresOn))) continue;
    const to = contactAddress(mb.contact, mb.domain);
    await opts.mailer.send({
      from: `postmaster@${mb.domain}`,
      to,
      subject: `Mailbox ${mb.address} expires on ${mb.expiresOn}`,
      text: [
        `The mailbox ${mb.address} can be used until the end of ${mb.expiresOn}`,
        `(${left === 0 ? 'today' : `${left} day${left === 1 ? '' : 's'} from now`}).`,
        '',
        'From the next day on, mail to it is refused and its owner can no longer sign in.',
        `You get this message as its contact person. To keep the mailbox, ask an administrator of`,
        `${mb.domain} to change or clear its expiration date.`,
      ].join('\n'),
    });
    await opts.db.recordExpiryWarning({
      mailboxId: mb.id,
      expiresOn: mb.expiresOn,
      address: mb.address,
      sentTo: to,
      at: now,
    });
    logEvent(opts.logger, 'mailbox.expiry_warning', { mailbox: mb.address, expiresOn: mb.expiresOn, to });
    warned++;
  }
  if (expired > 0) await opts.endSessions();
  return { warned, expired };
}
