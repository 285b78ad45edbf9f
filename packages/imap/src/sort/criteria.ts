/**
 * SORT criteria (RFC 5256 §3, RFC 5957 DISPLAYFROM / DISPLAYTO) and the comparison they define: strings
 * by i;ascii-casemap, dates and sizes numerically, REVERSE per key; messages equal on every key stay in
 * mailbox order (RFC 5256 §3: "sorted according to the order in which they appear in the mailbox").
 */
import { badCommand } from '../errors.js';
import type { Arg } from '../parser/types.js';
import type { SortValues } from './values.js';

export const SORT_KEYS = [
  'ARRIVAL',
  'CC',
  'DATE',
  'FROM',
  'SIZE',
  'SUBJECT',
  'TO',
  'DISPLAYFROM',
  'DISPLAYTO',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface SortCriterion {
  key: SortKey;
  reverse: boolean;
}

export function parseSortCriteria(items: readonly Arg[]): SortCriterion[] {
  const out: SortCriterion[] = [];
  let reverse = false;
  for (const a of items) {
    const name = a.kind === 'atom' ? a.value.toUpperCase() : '';
    if (name === 'REVERSE') {
      if (reverse) throw badCommand('REVERSE twice');
      reverse = true;
      continue;
    }
    if (!(SORT_KEYS as readonly string[]).includes(name)) throw badCommand('Invalid sort criterion');
    out.push({ key: name as SortKey, reverse });
    reverse = false;
  }
  if (reverse || out.length === 0) throw badCommand('Invalid sort criteria');
  return out;
}

/** Whether the criteria need the address headers (FROM, TO, CC and the DISPLAY keys). */
export function needsAddresses(criteria: readonly SortCriterion[]): boolean {
  return criteria.some((c) => !['ARRIVAL', 'DATE', 'SIZE', 'SUBJECT'].includes(c.key));
}

function compareKey(key: SortKey, a: SortValues, b: SortValues): number {
  switch (key) {
    case 'ARRIVAL':
      return a.meta.internalDate.getTime() - b.meta.internalDate.getTime();
    case 'DATE':
      return a.date - b.date;
    case 'SIZE':
      return a.meta.size - b.meta.size;
    case 'SUBJECT':
      return compareStrings(a.subject, b.subject);
    case 'FROM':
      return compareStrings(a.from, b.from);
    case 'TO':
      return compareStrings(a.to, b.to);
    case 'CC':
      return compareStrings(a.cc, b.cc);
    case 'DISPLAYFROM':
      return compareStrings(a.displayFrom, b.displayFrom);
    case 'DISPLAYTO':
      return compareStrings(a.displayTo, b.displayTo);
  }
}

/** Octet order of the (case-mapped) strings. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortMessages(values: SortValues[], criteria: readonly SortCriterion[]): SortValues[] {
  return values.sort((a, b) => {
    for (const c of criteria) {
      const d = compareKey(c.key, a, b);
      if (d !== 0) return c.reverse ? -d : d;
    }
    return a.seq - b.seq;
  });
}
