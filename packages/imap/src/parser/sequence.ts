/**
 * Sequence sets (RFC 9051 §9 `sequence-set`): `1`, `2:4`, `7:*`, `*`, comma-separated. The same syntax
 * names message sequence numbers or UIDs; `*` is the largest number in use (RFC 9051 §9 seq-number).
 */

export interface SeqRange {
  /** Inclusive bounds; `*` is null (resolved against the mailbox). */
  from: number | null;
  to: number | null;
}

export type SequenceSet = SeqRange[];

/** `$`: the saved search result (SEARCHRES, RFC 5182 §2.1), usable wherever a sequence set is. */
export const SAVED = '$' as const;
export type SetArg = SequenceSet | typeof SAVED;

/** nz-number: 1..4294967295 without leading zeros (RFC 9051 §9). */
const NUMBER = /^[1-9]\d{0,9}$/;
export const MAX_UINT32 = 4294967295;

function parseNumber(text: string): number | null | undefined {
  if (text === '*') return null;
  if (!NUMBER.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_UINT32 ? n : undefined;
}

/** Parses a sequence set; undefined when the text is not one. */
export function parseSequenceSet(text: string): SequenceSet | undefined {
  if (text.length === 0) return undefined;
  const out: SequenceSet = [];
  for (const part of text.split(',')) {
    const colon = part.indexOf(':');
    if (colon < 0) {
      const n = parseNumber(part);
      if (n === undefined) return undefined;
      out.push({ from: n, to: n });
    } else {
      const a = parseNumber(part.slice(0, colon));
      const b = parseNumber(part.slice(colon + 1));
      if (a === undefined || b === undefined) return undefined;
      out.push({ from: a, to: b });
    }
  }
  return out;
}

/** The ranges as ascending, merged [lo, hi] pairs, `*` standing for `max`. */
function normalize(set: SequenceSet, max: number): Array<[number, number]> {
  const ranges = set.map(({ from, to }): [number, number] => {
    const a = from ?? max;
    const b = to ?? max;
    return a <= b ? [a, b] : [b, a];
  });
  ranges.sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

/** The largest explicit number in a set (to validate message sequence numbers against EXISTS). */
export function maxExplicit(set: SequenceSet): number {
  let max = 0;
  for (const { from, to } of set) max = Math.max(max, from ?? 0, to ?? 0);
  return max;
}

/** Whether the set uses `*`. */
export function usesStar(set: SequenceSet): boolean {
  return set.some((r) => r.from === null || r.to === null);
}

/**
 * The message sequence numbers of a set, ascending, in a mailbox of `count` messages. Numbers above
 * `count` are dropped (the caller decides whether they are an error, see `maxExplicit`).
 */
export function resolveSequenceNumbers(set: SequenceSet, count: number): number[] {
  if (count === 0) return [];
  const out: number[] = [];
  for (const [lo, hi] of normalize(set, count)) {
    for (let n = Math.max(1, lo); n <= Math.min(hi, count); n++) out.push(n);
  }
  return out;
}

/**
 * The UIDs of `uids` (ascending) that a UID set names. RFC 9051 §9: `*` is the largest UID in use, so
 * `559:*` names the last message even when 559 is above every UID.
 */
export function resolveUids(set: SequenceSet, uids: readonly number[]): number[] {
  if (uids.length === 0) return [];
  const max = uids[uids.length - 1] as number;
  const ranges = normalize(set, max);
  const out: number[] = [];
  let r = 0;
  for (const uid of uids) {
    while (r < ranges.length && (ranges[r] as [number, number])[1] < uid) r++;
    if (r >= ranges.length) break;
    if (uid >= (ranges[r] as [number, number])[0]) out.push(uid);
  }
  return out;
}

/** Whether `n` is in the set (`*` = `max`). */
export function inSequenceSet(set: SequenceSet, n: number, max: number): boolean {
  return set.some(({ from, to }) => {
    const a = from ?? max;
    const b = to ?? max;
    return n >= Math.min(a, b) && n <= Math.max(a, b);
  });
}

/** Ascending numbers as a compact sequence set: `1:3,5,8:9`. Empty input gives ''. */
export function formatSequenceSet(numbers: readonly number[]): string {
  const sorted = [...numbers].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i] as number;
    let end = start;
    while (i + 1 < sorted.length && ((sorted[i + 1] as number) === end + 1 || sorted[i + 1] === end)) {
      i++;
      end = sorted[i] as number;
    }
    parts.push(start === end ? String(start) : `${start}:${end}`);
    i++;
  }
  return parts.join(',');
}

/** Numbers in the given order (not sorted) as a set, ranges only for ascending runs (COPYUID pairs). */
export function formatOrderedSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    const start = numbers[i] as number;
    let end = start;
    while (i + 1 < numbers.length && numbers[i + 1] === end + 1) {
      i++;
      end = numbers[i] as number;
    }
    parts.push(start === end ? String(start) : `${start}:${end}`);
    i++;
  }
  return parts.join(',');
}
