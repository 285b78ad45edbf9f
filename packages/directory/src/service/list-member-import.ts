/**
 * Bulk import of a built-in list's members (issue 19): rows of one column, `address` (csv.ts reads the
 * file), checked one by one (`planMemberImport`, the preview and `--dry-run`), then added all together in
 * one transaction with one audit row (`mailing-list.import`), or not at all when any row is wrong. An
 * address that is a member already is shown as such and left alone, so a file imports again harmlessly.
 * The list is scoped like every list change (lists.ts `scopedList`): a domain admin reaches only their
 * domains' lists. Members may be any address (as `list member add`).
 */
import { eq } from 'drizzle-orm';
import { parseAddress } from '../addressing/index.js';
import { DirectoryError, invalid } from '../errors.js';
import { mailingListMembers, mailingLists } from '../schema.js';
import type { Actor } from '../scope.js';
import { type DirectoryContext, newId } from './context.js';
import { refuseEmptyImport, refuseUnlessAllRowsGood } from './import-rows.js';
import { scopedList } from './lists.js';
import { MAX_IMPORT_ROWS } from './mailbox-import.js';
import type { ChangeContext } from './writer.js';

/** One data row: its line in the file and the member's address as written. */
export interface MemberImportRow {
  line: number;
  address: string;
}

export interface PlannedMemberRow {
  line: number;
  /** The member's address, normalised (absent when it is not an address). */
  address?: string;
  /** True when the address is a member already (nothing to do). */
  already?: boolean;
  /** Why this row cannot be imported; absent when it can. */
  error?: string;
}

export interface MemberImportPlan {
  list: string;
  rows: PlannedMemberRow[];
  /** Lines of the rows with errors. */
  errorLines: number[];
}

async function plan(ctx: DirectoryContext, actor: Actor, listInput: string, rows: MemberImportRow[]) {
  if (rows.length > MAX_IMPORT_ROWS) throw invalid(`at most ${MAX_IMPORT_ROWS} rows in one import`);
  const { row, domainRow } = await scopedList(ctx, actor, listInput);
  const current = new Set(
    (
      await ctx.db
        .select({ address: mailingListMembers.address })
        .from(mailingListMembers)
        .where(eq(mailingListMembers.listId, row.id))
    ).map((m) => m.address),
  );
  const inFile = new Map<string, number>();
  const checked: PlannedMemberRow[] = rows.map((r) => {
    const out: PlannedMemberRow = { line: r.line };
    try {
      const typed = r.address.trim();
      if (!typed) throw invalid('the address is empty');
      try {
        out.address = parseAddress(typed).address;
      } catch (err) {
        throw invalid(err instanceof Error ? err.message : String(err));
      }
      if (out.address === row.address) throw invalid(`${row.address} cannot be a member of itself`);
      const earlier = inFile.get(out.address);
      if (earlier !== undefined) throw invalid(`${out.address} is also on line ${earlier}`);
      inFile.set(out.address, r.line);
      if (current.has(out.address)) out.already = true;
    } catch (err) {
      if (!(err instanceof DirectoryError)) throw err;
      out.error = err.message;
    }
    return out;
  });
  return { row, domainRow, checked };
}

/** The preview (and `--dry-run`): every row checked, nothing written. */
export async function planMemberImport(
  ctx: DirectoryContext,
  actor: Actor,
  listInput: string,
  rows: MemberImportRow[],
): Promise<MemberImportPlan> {
  const p = await plan(ctx, actor, listInput, rows);
  return {
    list: p.row.address,
    rows: p.checked,
    errorLines: p.checked.filter((r) => r.error).map((r) => r.line),
  };
}

/** `mailing-list.import`: every new member, or none. Refused (`invalid`, naming the lines) when any row is wrong. */
export async function importListMembers(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { address: string; rows: MemberImportRow[] },
): Promise<{ list: string; added: string[]; already: string[] }> {
  const p = await plan(ctx, change.actor, input.address, input.rows);
  refuseUnlessAllRowsGood(p.checked);
  refuseEmptyImport(p.checked);
  const added = p.checked.filter((r) => !r.already).map((r) => r.address as string);
  const already = p.checked.filter((r) => r.already).map((r) => r.address as string);
  const { row, domainRow } = p;
  return change.commit(
    { action: 'mailing-list.import', target: row.address, domain: domainRow.name },
    async (tx) => {
      const now = ctx.nowIso();
      for (const m of added) {
        await tx
          .insert(mailingListMembers)
          .values({ id: newId(), listId: row.id, address: m, createdAt: now });
      }
      await tx.update(mailingLists).set({ updatedAt: now }).where(eq(mailingLists.id, row.id));
      return { result: { list: row.address, added, already }, details: { count: added.length } };
    },
  );
}
