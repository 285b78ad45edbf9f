/**
 * Expiration dates are calendar days, inclusive, in the appliance's time zone (config
 * `directory.timezone`, default UTC): a mailbox that expires on 2026-12-31 works until 23:59:59 of that
 * day there, and is expired from 00:00 of the next.
 */
import { invalid } from './errors.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Validates a `YYYY-MM-DD` calendar date (a real day: no 2026-02-30). */
export function parseIsoDate(input: string): string {
  const m = DATE.exec(input);
  if (!m) throw invalid(`invalid date "${input}": expected YYYY-MM-DD`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) {
    throw invalid(`invalid date "${input}": no such day`);
  }
  return input;
}

/**
 * One formatter per time zone: building an Intl.DateTimeFormat costs ~0.15 ms, and every recipient
 * lookup asks for today's date (the MX's profile had this as 5% of its time).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Today's date (`YYYY-MM-DD`) in `timeZone`. */
export function todayIn(timeZone: string, now: Date): string {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    // en-CA formats as YYYY-MM-DD.
    formatter = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter.format(now);
}

/** True when a mailbox with this expiration date may no longer be used at `now`. */
export function isExpired(expiresOn: string | null, timeZone: string, now: Date): boolean {
  if (expiresOn === null) return false;
  return todayIn(timeZone, now) > expiresOn;
}
