/**
 * CONDSTORE turned on by use (RFC 7162 §3.1: a "CONDSTORE enabling command" — FETCH MODSEQ or CHANGEDSINCE,
 * STORE UNCHANGEDSINCE, SEARCH MODSEQ, STATUS HIGHESTMODSEQ, SELECT (CONDSTORE)).
 */
import type { ImapContext } from '../context.js';

/**
 * Enables CONDSTORE; the first time, with a mailbox selected, announces its HIGHESTMODSEQ
 * (RFC 7162 §3.1.2.1: "the server MUST send the OK untagged response including HIGHESTMODSEQ response code
 * ... as a result of a CONDSTORE enabling command ... when a mailbox is selected").
 */
export async function enableCondstore(ctx: ImapContext): Promise<void> {
  if (ctx.enable('CONDSTORE').length === 0) return;
  const view = ctx.selectedOrNull;
  if (view) await ctx.untagged(`OK [HIGHESTMODSEQ ${view.highestModSeq}] Highest`);
}
