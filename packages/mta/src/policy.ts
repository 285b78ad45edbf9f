/**
 * Recipient policy at RCPT time (RFC 5321 §3.3, §4.1.1.3), from the local directory replica:
 *
 * | recipient                                         | answer                      |
 * | ------------------------------------------------- | --------------------------- |
 * | hosted here, mailbox or alias                      | accept (deliver / expand)   |
 * | hosted, unknown local part                         | 550 5.1.1                   |
 * | ambiguous generated alias                          | 550 5.1.4 + candidates      |
 * | expired or removed (retained) mailbox              | 550 5.2.1                   |
 * | mailbox over quota                                 | 452 4.2.2                   |
 * | hosted in another region                           | accept, queue for the region|
 * | forward to a remote mailbox, distribution list     | accept, queue to its target |
 * | not hosted, client may relay (internal/AUTH)       | accept, queue (remote)      |
 * | not hosted, anyone else                            | 554 5.7.1 relay denied      |
 * | bad syntax, source routes, %-hacks, `!`, literals  | 553 5.1.3 (never relayed)   |
 */
import type { RecipientDirectory, RecipientLookup } from './ports.js';
import { replyError } from './replies.js';

export type Destination =
  | { kind: 'local'; mailboxId: string; address: string }
  | { kind: 'queue'; route: 'remote' | 'region'; address: string; region?: string };

export interface PolicyContext {
  /** This appliance's region. */
  region: string;
  /** The client may relay to domains we do not host (internal network, or authenticated). */
  relayAllowed: boolean;
  directory: RecipientDirectory;
  quota(mailboxId: string): Promise<{ usedBytes: number }>;
  /** SIZE= from MAIL FROM (RFC 1870), for the quota check. */
  declaredSize?: number;
}

/** Alias chains longer than this are a loop or a mistake (RFC 5321 §6.3 asks for loop detection). */
export const MAX_ALIAS_DEPTH = 5;

async function expand(
  address: string,
  ctx: PolicyContext,
  depth: number,
  seen: Set<string>,
): Promise<Destination[]> {
  const lookup: RecipientLookup = await ctx.directory.lookupRecipient(address);
  switch (lookup.kind) {
    case 'invalid':
      throw replyError('badRecipientSyntax');
    case 'not-hosted':
      if (!ctx.relayAllowed) throw replyError('relayDenied');
      return [{ kind: 'queue', route: 'remote', address }];
    case 'unknown':
      throw replyError('unknownUser');
    case 'disabled':
      throw replyError('mailboxDisabled');
    case 'ambiguous':
      throw replyError('ambiguous', lookup.candidates.join(', '));
    case 'mailbox': {
      if (lookup.region !== ctx.region) {
        return [{ kind: 'queue', route: 'region', address: lookup.address, region: lookup.region }];
      }
      if (lookup.quotaBytes !== null) {
        const { usedBytes } = await ctx.quota(lookup.mailboxId);
        if (usedBytes + (ctx.declaredSize ?? 0) > lookup.quotaBytes) throw replyError('mailboxFull');
      }
      return [{ kind: 'local', mailboxId: lookup.mailboxId, address: lookup.address }];
    }
    case 'mailing-list':
      // A built-in list is expanded in its home region (lists/, before this policy); reached through an
      // alias it is refused: an alias leads to addresses, a list's members are its own.
      if (lookup.region !== ctx.region) {
        return [{ kind: 'queue', route: 'region', address: lookup.address, region: lookup.region }];
      }
      throw replyError('unknownUser', '(a mailing list behind an alias)');
    case 'forward':
    case 'list':
      return expandTargets([lookup.target], ctx, depth, seen);
    case 'alias':
      return expandTargets(
        lookup.targets.map((t) => t.address),
        ctx,
        depth,
        seen,
      );
  }
}

/** Alias targets were configured by an admin: relaying to them is authorized whoever sends. */
async function expandTargets(targets: string[], ctx: PolicyContext, depth: number, seen: Set<string>) {
  if (depth >= MAX_ALIAS_DEPTH) throw replyError('unknownUser', '(alias loop)');
  const out: Destination[] = [];
  let lastError: unknown;
  for (const t of targets) {
    if (seen.has(t)) continue;
    seen.add(t);
    try {
      out.push(...(await expand(t, { ...ctx, relayAllowed: true }, depth + 1, seen)));
    } catch (err) {
      lastError = err;
    }
  }
  if (out.length === 0) throw lastError ?? replyError('unknownUser');
  return out;
}

/** Where mail to `address` goes; throws an SmtpReplyError with the refusal. */
export function resolveRecipient(address: string, ctx: PolicyContext): Promise<Destination[]> {
  return expand(address.toLowerCase(), ctx, 0, new Set([address.toLowerCase()]));
}
