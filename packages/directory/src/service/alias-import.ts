/**
 * Bulk import of manual aliases (issue 19): rows of `address,target` (csv.ts reads the file; several
 * targets of one alias as several rows, or `;`-separated in one cell), checked one by one against the
 * directory and against each other (`planAliasImport`, the preview and `--dry-run`), then applied all
 * together in one transaction with one audit row (`alias.import`), or not at all when any row is wrong.
 *
 * An address is a local part or a full address of the import's domain (another domain's address is a
 * row error: a domain admin cannot reach another domain through the file). An alias that exists as a
 * manual alias is extended, as `alias add` does; targets it already has are left as they are. Targets
 * are resolved as `alias add` resolves them (aliases.ts `resolveTarget`).
 */
import { eq, inArray } from 'drizzle-orm';
import { parseAddress } from '../addressing/index.js';
import { DirectoryError, invalid } from '../errors.js';
import { addresses, addressTargets } from '../schema.js';
import type { Actor } from '../scope.js';
import { type ResolvedTarget, resolveTarget } from './aliases.js';
import { type DirectoryContext, newId, POSTMASTER, scopedDomain } from './context.js';
import { refuseEmptyImport, refuseUnlessAllRowsGood } from './import-rows.js';
import { MAX_IMPORT_ROWS } from './mailbox-import.js';
import type { ChangeContext } from './writer.js';

/** One data row: its line in the file, the alias (local part or address) and its targets. */
export interface AliasImportRow {
  line: number;
  address: string;
  targets: string[];
}

export interface PlannedAliasRow {
  line: number;
  /** The alias's full address (absent when the row is wrong before one could be worked out). */
  address?: string;
  /** The targets this row adds (resolved: a local address becomes its mailbox's official address). */
  targets?: string[];
  /** True when the alias exists already and this row adds targets to it. */
  extends?: boolean;
  /** Targets the alias has already (nothing to do for them). */
  already?: string[];
  /** Why this row cannot be imported; absent when it can. */
  error?: string;
}

export interface AliasImportPlan {
  domain: string;
  rows: PlannedAliasRow[];
  /** Lines of the rows with errors. */
  errorLines: number[];
}

interface Checked extends PlannedAliasRow {
  resolved?: ResolvedTarget[];
  existingId?: string;
}

const keyOf = (t: { mailboxId: string | null; address: string }) =>
  t.mailboxId ? `mailbox:${t.mailboxId}` : `address:${t.address}`;

async function plan(ctx: DirectoryContext, actor: Actor, domainInput: string, rows: AliasImportRow[]) {
  if (rows.length > MAX_IMPORT_ROWS) throw invalid(`at most ${MAX_IMPORT_ROWS} rows in one import`);
  const domain = await scopedDomain(ctx.db, actor, domainInput);
  const checked: Checked[] = [];
  /** Per alias: the target keys it has (existing and earlier rows), to leave out repeats. */
  const keys = new Map<string, Set<string>>();
  for (const row of rows) {
    const out: Checked = { line: row.line };
    checked.push(out);
    try {
      const typed = row.address.trim();
      if (!typed) throw invalid('the address is empty');
      let address: string;
      try {
        address = parseAddress(typed.includes('@') ? typed : `${typed}@${domain.name}`).address;
      } catch (err) {
        throw invalid(err instanceof Error ? err.message : String(err));
      }
      if (address.slice(address.lastIndexOf('@') + 1) !== domain.name) {
        throw invalid(`${address} is not an address of ${domain.name}`);
      }
      out.address = address;
      const targets = row.targets.map((t) => t.trim()).filter((t) => t.length > 0);
      if (targets.length === 0) throw invalid('no target: give at least one address');
      let known = keys.get(address);
      if (!known) {
        const [existing] = await ctx.db.select().from(addresses).where(eq(addresses.address, address));
        const pointingPostmaster =
          existing?.kind === 'official' && address === `${POSTMASTER}@${domain.name}`;
        if (existing && existing.kind !== 'manual' && !pointingPostmaster) {
          throw invalid(
            `${address} already exists (${existing.kind === 'official' ? 'a mailbox' : `a ${existing.kind} alias`})`,
          );
        }
        known = new Set();
        if (existing) {
          out.existingId = existing.id;
          for (const t of await ctx.db
            .select({ key: addressTargets.targetKey })
            .from(addressTargets)
            .where(eq(addressTargets.addressId, existing.id)))
            known.add(t.key);
        }
        keys.set(address, known);
      }
      const resolved: ResolvedTarget[] = [];
      const already: string[] = [];
      for (const t of targets) {
        let target: ResolvedTarget;
        try {
          target = await resolveTarget(ctx, actor, t);
        } catch (err) {
          if (err instanceof DirectoryError) throw invalid(`target ${t}: ${err.message}`);
          throw err;
        }
        if (target.address === address) throw invalid(`${address} cannot point to itself`);
        if (known.has(keyOf(target))) {
          already.push(target.address);
          continue;
        }
        known.add(keyOf(target));
        resolved.push(target);
      }
      out.resolved = resolved;
      out.targets = resolved.map((t) => t.address);
      if (already.length > 0) out.already = already;
    } catch (err) {
      if (!(err instanceof DirectoryError)) throw err;
      out.error = err.message;
    }
  }
  // Rows of an alias with a wrong row would half-apply that alias: they wait for it.
  const wrong = new Map<string, number>();
  for (const r of checked) if (r.error && r.address && !wrong.has(r.address)) wrong.set(r.address, r.line);
  for (const r of checked) {
    if (!r.error && r.address && wrong.has(r.address)) {
      r.error = `${r.address} also has a wrong row (line ${wrong.get(r.address)})`;
    }
  }
  // Later rows of an alias that is new in this file extend it.
  const seen = new Set<string>();
  for (const r of checked) {
    if (!r.address || r.error) continue;
    r.extends = r.existingId !== undefined || seen.has(r.address);
    seen.add(r.address);
  }
  return { domain, checked };
}

const publicRow = ({ resolved: _r, existingId: _e, ...rest }: Checked): PlannedAliasRow => rest;

/** The preview (and `--dry-run`): every row checked, nothing written. */
export async function planAliasImport(
  ctx: DirectoryContext,
  actor: Actor,
  domainInput: string,
  rows: AliasImportRow[],
): Promise<AliasImportPlan> {
  const p = await plan(ctx, actor, domainInput, rows);
  return {
    domain: p.domain.name,
    rows: p.checked.map(publicRow),
    errorLines: p.checked.filter((r) => r.error).map((r) => r.line),
  };
}

/** `alias.import`: every row, or none. Refused (`invalid`, naming the lines) when any row is wrong. */
export async function importAliases(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { domain: string; rows: AliasImportRow[] },
): Promise<{ domain: string; aliases: Array<{ address: string; added: string[] }> }> {
  const p = await plan(ctx, change.actor, input.domain, input.rows);
  refuseUnlessAllRowsGood(p.checked);
  refuseEmptyImport(p.checked);
  const domain = p.domain;
  return change.commit({ action: 'alias.import', target: domain.name, domain: domain.name }, async (tx) => {
    const now = ctx.nowIso();
    const ids = new Map<string, string>();
    const added = new Map<string, string[]>();
    const names = [...new Set(p.checked.map((r) => r.address as string))];
    for (let i = 0; i < names.length; i += 500) {
      for (const a of await tx
        .select({ id: addresses.id, address: addresses.address })
        .from(addresses)
        .where(inArray(addresses.address, names.slice(i, i + 500))))
        ids.set(a.address, a.id);
    }
    for (const r of p.checked) {
      const address = r.address as string;
      let addressId = ids.get(address);
      if (!addressId) {
        addressId = newId();
        await tx.insert(addresses).values({
          id: addressId,
          address,
          domainId: domain.id,
          kind: 'manual',
          mailboxId: null,
          createdAt: now,
        });
        ids.set(address, addressId);
      }
      const list = added.get(address) ?? [];
      added.set(address, list);
      for (const t of r.resolved ?? []) {
        await tx.insert(addressTargets).values({
          id: newId(),
          addressId,
          targetMailboxId: t.mailboxId,
          targetAddress: t.mailboxId ? null : t.address,
          targetKey: keyOf(t),
          createdAt: now,
        });
        list.push(t.address);
      }
    }
    const aliases = [...added].map(([address, targets]) => ({ address, added: targets }));
    return {
      result: { domain: domain.name, aliases },
      details: { count: aliases.length, addresses: aliases.map((a) => a.address) },
    };
  });
}
