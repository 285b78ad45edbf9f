/**
 * IMAP dates (RFC 9051 §9): `date` for SEARCH (`1-Feb-1994`), `date-time` for INTERNALDATE and APPEND
 * (`"17-Jul-1996 02:44:25 -0700"`), and the RFC 5322 §3.3 `Date:` header for SENTBEFORE/SENTON/SENTSINCE.
 */

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_INDEX = new Map(MONTHS.map((m, i) => [m.toLowerCase(), i]));

/** A calendar day, compared as yyyymmdd. */
export type Day = number;

export function dayOf(year: number, month0: number, day: number): Day {
  return year * 10000 + (month0 + 1) * 100 + day;
}

/** The UTC calendar day of an instant (internal dates are compared in UTC). */
export function utcDay(date: Date): Day {
  return dayOf(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}

function validDay(year: number, month0: number, day: number): boolean {
  if (year < 1 || year > 9999 || day < 1 || day > 31) return false;
  const d = new Date(Date.UTC(year, month0, day));
  return d.getUTCMonth() === month0 && d.getUTCDate() === day;
}

/** SEARCH `date-text`: `d-Mon-yyyy` (day 1 or 2 digits). */
export function parseSearchDate(text: string): Day | undefined {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (!m) return undefined;
  const month = MONTH_INDEX.get((m[2] as string).toLowerCase());
  const year = Number(m[3]);
  const day = Number(m[1]);
  if (month === undefined || !validDay(year, month, day)) return undefined;
  return dayOf(year, month, day);
}

/** APPEND `date-time` (without its quotes): `dd-Mon-yyyy hh:mm:ss +zzzz`, day space- or zero-padded. */
export function parseDateTime(text: string): Date | undefined {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const month = MONTH_INDEX.get((m[2] as string).toLowerCase());
  const [year, day, hh, mm, ss, zh, zm] = [m[3], m[1], m[4], m[5], m[6], m[8], m[9]].map(Number) as number[];
  if (month === undefined || !validDay(year as number, month, day as number)) return undefined;
  if ((hh as number) > 23 || (mm as number) > 59 || (ss as number) > 60 || (zm as number) > 59)
    return undefined;
  const offset = (m[7] === '-' ? -1 : 1) * ((zh as number) * 60 + (zm as number));
  const utc = Date.UTC(year as number, month, day as number, hh, mm, Math.min(ss as number, 59));
  return new Date(utc - offset * 60_000);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** INTERNALDATE: `"17-Jul-1996 02:44:25 +0000"` (UTC: the store keeps instants, not zones). */
export function formatDateTime(date: Date): string {
  const day = String(date.getUTCDate()).padStart(2, ' ');
  return (
    `"${day}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ` +
    `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} +0000"`
  );
}

/**
 * The calendar day of an RFC 5322 `Date:` header as written (its own zone: "disregarding time and
 * timezone", RFC 9051 §6.4.4 SENTON). Lenient: optional weekday, comments, 2-digit years (RFC 5322 §4.3).
 */
export function parseHeaderDay(value: string): Day | undefined {
  const text = value.replace(/\([^)]*\)/g, ' ').trim();
  const m = /(?:^|[\s,])(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{2,4})\b/.exec(text);
  if (!m) return undefined;
  const month = MONTH_INDEX.get((m[2] as string).toLowerCase());
  let year = Number(m[3]);
  if ((m[3] as string).length === 2) year += year < 50 ? 2000 : 1900;
  else if ((m[3] as string).length === 3) year += 1900;
  const day = Number(m[1]);
  if (month === undefined || !validDay(year, month, day)) return undefined;
  return dayOf(year, month, day);
}
