/**
 * Mail-side reads: what a recipient address means (every SMTP RCPT; cached briefly), the addresses a
 * mailbox may send as, a mailbox by id. No actor: the mail servers ask on behalf of the mail, and the
 * answers come from the local replica. The resolution rules themselves are in ../lookup.ts.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { todayIn } from '../expiry.js';
import { lookupRecipient, type MailboxRow, type RecipientLookup } from '../lookup.js';
import { addresses, addressTargets, mailboxes } from '../schema.js';
import type { DirectoryContext } from './context.js';

/**
 * Recipient lookups are cached briefly: the MX asks for every RCPT, and the answer only changes when the
 * directory does (every change through this instance invalidates the cache at once) or when the day
 * changes (expiration dates; an entry is only valid on the day it was made). The TTL bounds staleness for
 * anything else. A replica that pulls changes must call `invalidate()` (`Directory.invalidateCaches`).
 */
const LOOKUP_CACHE_TTL_MS = 5_000;
const LOOKUP_CACHE_MAX = 10_000;

export class RecipientCache {
  #generation = 0;
  readonly #entries = new Map<
    string,
    { generation: number; day: string; at: number; result: Promise<RecipientLookup> }
  >();

  constructor(readonly ctx: DirectoryContext) {}

  /** Forgets every cached answer (a change was made, or a replication pull brought changes). */
  invalidate(): void {
    this.#generation++;
  }

  /** What mail to `address` becomes (SMTP RCPT policy reads this). */
  lookup(address: string): Promise<RecipientLookup> {
    const key = address.toLowerCase();
    const now = this.ctx.now();
    // Expiry is by calendar day in the appliance's zone: an entry never outlives its day.
    const day = todayIn(this.ctx.options.timezone, now);
    const hit = this.#entries.get(key);
    if (
      hit &&
      hit.generation === this.#generation &&
      hit.day === day &&
      now.getTime() - hit.at < LOOKUP_CACHE_TTL_MS
    ) {
      return hit.result;
    }
    const result = lookupRecipient(this.ctx.lookupContext(), address);
    if (this.#entries.size >= LOOKUP_CACHE_MAX) this.#entries.clear();
    this.#entries.set(key, { generation: this.#generation, day, at: now.getTime(), result });
    result.catch(() => this.#entries.delete(key));
    return result;
  }
}

/**
 * The addresses a mailbox may send as (SMTP submission): its official address, its legacy addresses and
 * the generated aliases that lead to it alone (an ambiguous alias belongs to nobody).
 */
export async function sendersOf(ctx: DirectoryContext, mailboxId: string): Promise<string[]> {
  const own = await ctx.db
    .select({ address: addresses.address })
    .from(addresses)
    .where(and(eq(addresses.mailboxId, mailboxId), inArray(addresses.kind, ['official', 'legacy'])));
  const generated = await ctx.db
    .select({ id: addresses.id, address: addresses.address })
    .from(addressTargets)
    .innerJoin(addresses, eq(addresses.id, addressTargets.addressId))
    .where(and(eq(addressTargets.targetMailboxId, mailboxId), eq(addresses.kind, 'generated')));
  const out = own.map((r) => r.address);
  for (const g of generated) {
    const targets = await ctx.db.select().from(addressTargets).where(eq(addressTargets.addressId, g.id));
    if (targets.length === 1) out.push(g.address);
  }
  return out.sort();
}

/** A mailbox by its id (the mail store's user id), or null. */
export async function mailboxById(ctx: DirectoryContext, id: string): Promise<MailboxRow | null> {
  const [mb] = await ctx.db.select().from(mailboxes).where(eq(mailboxes.id, id));
  return mb ?? null;
}
