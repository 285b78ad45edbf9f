/**
 * What every CSV import (mailboxes, aliases, list members) does with its checked rows before it writes:
 * any row with an error refuses the whole import, naming the lines (the first three with their errors),
 * and an empty file is refused too. Nothing is half-applied.
 */
import { invalid } from '../errors.js';

export function refuseUnlessAllRowsGood(
  checked: ReadonlyArray<{ line: number; error?: string | null }>,
): void {
  const bad = checked.filter((r) => r.error);
  if (bad.length > 0) {
    const s = bad.length === 1 ? '' : 's';
    throw invalid(
      `nothing imported: ${bad.length} row${s} with errors (line${s} ${bad.map((r) => r.line).join(', ')}): ${bad
        .slice(0, 3)
        .map((r) => `line ${r.line}: ${r.error}`)
        .join('; ')}`,
    );
  }
}

export function refuseEmptyImport(checked: ReadonlyArray<unknown>): void {
  if (checked.length === 0) throw invalid('nothing to import: the file has no rows');
}
