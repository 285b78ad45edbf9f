/** The statistics as CSV (RFC 4180: CRLF line ends, fields with a comma, quote or line end quoted). */
import type { StatsRow } from './source.js';

export const CSV_COLUMNS: Array<keyof StatsRow> = [
  'day',
  'region',
  'domain',
  'messages_in',
  'messages_out',
  'messages_internal',
  'bytes_in',
  'bytes_out',
  'bytes_internal',
  'rejected',
  'deferred',
  'bounced',
  'gateway',
  'mailboxes',
];

function field(value: string | number): string {
  const s = String(value);
  // A leading =, +, - or @ would be a formula to a spreadsheet (CSV injection): quoted with a '.
  const safe = /^[=+\-@]/.test(s) && typeof value === 'string' ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function statsCsv(rows: StatsRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map((c) => field(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
