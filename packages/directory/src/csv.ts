/**
 * CSV for bulk import and export (RFC 4180: comma-separated, fields with commas, quotes or line breaks
 * in double quotes, `""` for a quote; CRLF or LF line ends; a UTF-8 byte-order mark is skipped).
 *
 * The mailbox file (service/mailbox-import.ts): a header row naming columns after `delegato mailbox add`'s
 * options, any subset in any order; an unknown column is an error naming it, so a typo never silently
 * drops data. Exported cells that a spreadsheet would run as a formula get a leading `'`. The alias file
 * (`address,target`, service/alias-import.ts) and the list member file (`address`,
 * service/list-member-import.ts) are read the same way.
 */
import { invalid } from './errors.js';
import type { AliasImportRow } from './service/alias-import.js';
import type { AliasView } from './service/aliases.js';
import type { MemberImportRow } from './service/list-member-import.js';
import {
  IMPORT_COLUMNS,
  type ImportColumn,
  type ImportRow,
  MAX_IMPORT_ROWS,
} from './service/mailbox-import.js';
import type { MailboxView } from './service/mailboxes.js';

/** Largest file accepted (bytes of text). */
export const MAX_CSV_BYTES = 5 * 1024 * 1024;

/** Parses CSV text into records with the line each starts on (1-based). */
export function parseCsv(text: string): Array<{ line: number; cells: string[] }> {
  if (text.length > MAX_CSV_BYTES) throw invalid(`the file is larger than ${MAX_CSV_BYTES} bytes`);
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: Array<{ line: number; cells: string[] }> = [];
  let line = 1;
  let i = 0;
  while (i < s.length) {
    const start = line;
    const cells: string[] = [];
    for (;;) {
      let cell = '';
      if (s[i] === '"') {
        i++;
        for (;;) {
          if (i >= s.length) throw invalid(`line ${start}: a quoted field is not closed`);
          const ch = s[i] as string;
          if (ch === '"') {
            if (s[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          cell += ch;
          i++;
        }
        if (i < s.length && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') {
          throw invalid(`line ${line}: text after a closing quote`);
        }
      } else {
        while (i < s.length && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') cell += s[i++];
      }
      cells.push(cell);
      if (s[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (s[i] === '\r') i++;
    if (s[i] === '\n') i++;
    line++;
    if (!(cells.length === 1 && cells[0] === '')) out.push({ line: start, cells });
  }
  return out;
}

/** One cell, quoted when it must be, formula starts neutralised. */
export function csvCell(value: string | number | null | undefined): string {
  let v = value === null || value === undefined ? '' : String(value);
  if (/^[=+@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvLine(cells: Array<string | number | null | undefined>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** A mailbox import file: the header checked, the rows as `ImportRow`s (a row with too many cells is an error). */
export function readMailboxCsv(text: string): ImportRow[] {
  const records = parseCsv(text);
  const [header, ...data] = records;
  if (!header) throw invalid('the file is empty: it needs a header row, e.g. first,last,group');
  const columns = header.cells.map((c) => c.trim().toLowerCase());
  const known = new Set<string>(IMPORT_COLUMNS);
  const unknown = columns.filter((c) => !known.has(c));
  if (unknown.length > 0) {
    throw invalid(
      `unknown column${unknown.length === 1 ? '' : 's'} ${unknown.map((c) => `"${c}"`).join(', ')} in the header; use ${IMPORT_COLUMNS.join(', ')}`,
    );
  }
  const twice = columns.filter((c, i) => columns.indexOf(c) !== i);
  if (twice.length > 0) throw invalid(`column "${twice[0]}" appears twice in the header`);
  if (data.length > MAX_IMPORT_ROWS) throw invalid(`at most ${MAX_IMPORT_ROWS} rows in one file`);
  return data.map((r) => {
    if (r.cells.length > columns.length) {
      throw invalid(`line ${r.line}: ${r.cells.length} fields, the header has ${columns.length}`);
    }
    const values: Partial<Record<ImportColumn, string>> = {};
    columns.forEach((c, i) => {
      const v = r.cells[i];
      if (v !== undefined && v.trim() !== '') values[c as ImportColumn] = v;
    });
    return { line: r.line, values };
  });
}

/**
 * A domain's mailboxes as an import file (the same columns, so an export imports again elsewhere); removed
 * mailboxes are left out. Quotas in bytes.
 */
export function mailboxesCsv(list: readonly MailboxView[]): string {
  let out = csvLine([...IMPORT_COLUMNS]);
  for (const m of list) {
    if (m.state !== 'active') continue;
    const local = m.address.slice(0, m.address.lastIndexOf('@'));
    const role = m.kind === 'role';
    const row: Record<ImportColumn, string | number | null> = {
      first: role ? null : m.firstName,
      last: role ? null : m.lastName,
      address: role ? null : local,
      username: m.username,
      group: m.group,
      contact: m.contact,
      quota: m.quotaBytes,
      expires: m.expiresOn,
      role: role ? local : null,
    };
    out += csvLine(IMPORT_COLUMNS.map((c) => row[c]));
  }
  return out;
}

/**
 * A domain's hand-made aliases in the alias import's columns (`address,target`, the targets of one alias
 * separated by `;`), so that an export imports again as is. Generated and legacy aliases come with their
 * mailboxes (the mailbox export), forwards and list aliases have pages of their own.
 */
export function aliasesCsv(list: readonly AliasView[]): string {
  let out = csvLine(['address', 'target']);
  for (const a of list) if (a.kind === 'manual') out += csvLine([a.address, a.targets.join(';')]);
  return out;
}

/** The header as lower-case names, checked against `allowed` (unknown or repeated: an error), and `required`. */
function headerColumns(
  header: { cells: string[] } | undefined,
  allowed: readonly string[],
  required: readonly string[],
): string[] {
  if (!header) throw invalid(`the file is empty: it needs a header row, e.g. ${allowed.join(',')}`);
  const columns = header.cells.map((c) => c.trim().toLowerCase());
  const unknown = columns.filter((c) => !allowed.includes(c));
  if (unknown.length > 0) {
    throw invalid(
      `unknown column${unknown.length === 1 ? '' : 's'} ${unknown.map((c) => `"${c}"`).join(', ')} in the header; use ${allowed.join(', ')}`,
    );
  }
  const twice = columns.filter((c, i) => columns.indexOf(c) !== i);
  if (twice.length > 0) throw invalid(`column "${twice[0]}" appears twice in the header`);
  const missing = required.filter((c) => !columns.includes(c));
  if (missing.length > 0)
    throw invalid(`the header needs the column${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`);
  return columns;
}

/** The data records as values by column (a record with more cells than the header is an error). */
function records(text: string, allowed: readonly string[], required: readonly string[]) {
  const [header, ...data] = parseCsv(text);
  const columns = headerColumns(header, allowed, required);
  if (data.length > MAX_IMPORT_ROWS) throw invalid(`at most ${MAX_IMPORT_ROWS} rows in one file`);
  return data.map((r) => {
    if (r.cells.length > columns.length) {
      throw invalid(`line ${r.line}: ${r.cells.length} fields, the header has ${columns.length}`);
    }
    const values: Record<string, string> = {};
    columns.forEach((c, i) => {
      values[c] = r.cells[i] ?? '';
    });
    return { line: r.line, values };
  });
}

/**
 * An alias import file: columns `address` (a local part or an address of the domain) and `target`, in
 * any order. Several targets of one alias: several rows, or `;` between them in one cell.
 */
export function readAliasCsv(text: string): AliasImportRow[] {
  return records(text, ['address', 'target'], ['address', 'target']).map((r) => ({
    line: r.line,
    address: r.values.address ?? '',
    targets: (r.values.target ?? '')
      .split(';')
      .map((t) => t.trim())
      .filter((t) => t.length > 0),
  }));
}

/** A list member import file: one column, `address`. */
export function readMemberCsv(text: string): MemberImportRow[] {
  return records(text, ['address'], ['address']).map((r) => ({
    line: r.line,
    address: r.values.address ?? '',
  }));
}

/** A list's members as an import file (`address`). */
export function membersCsv(members: readonly string[]): string {
  let out = csvLine(['address']);
  for (const m of members) out += csvLine([m]);
  return out;
}
