/**
 * The attachment gateway's directory data (issue 15; migration 0007): registrations (a mailbox, a whole
 * domain, or a sender whose mail to a domain's mailboxes is transformed) and each domain's rules. Domain
 * admins manage their own domains only: every change checks the scope of the domain it touches, and a
 * mailbox registration checks the domain of the mailbox the address leads to, not only the address typed.
 * The gateway store itself (files, links) is local to each region (packages/gateway).
 */
import { and, eq, inArray } from 'drizzle-orm';
import { AddressingError, normaliseDomain, parseAddress } from '../addressing/index.js';
import { invalid, notFound } from '../errors.js';
import { lookupRecipient } from '../lookup.js';
import { domains, gatewayRegistrations, gatewaySettings, mailboxes } from '../schema.js';
import { type Actor, requireDomain, visibleDomains } from '../scope.js';
import { type DirectoryContext, newId, scopedDomain, toInvalid } from './context.js';
import type { ChangeContext } from './writer.js';

export type GatewayRegistrationKind = 'mailbox' | 'domain' | 'sender';

export interface GatewayRules {
  thresholdBytes: number;
  mediaTypes: string[];
  expiryDays: number;
  loginRequired: boolean;
}

/** Parts over 2 MiB, of every media type, kept 30 days, no login (issue 15). */
export const GATEWAY_DEFAULTS: GatewayRules = {
  thresholdBytes: 2 * 1024 * 1024,
  mediaTypes: [],
  expiryDays: 30,
  loginRequired: false,
};

export interface GatewayRegistrationView {
  kind: GatewayRegistrationKind;
  /** The mailbox's official address, the domain, or the sender address or domain. */
  target: string;
  createdBy: string;
  createdAt: string;
}

export interface GatewayDomainView {
  domain: string;
  rules: GatewayRules;
  registrations: GatewayRegistrationView[];
}

/** What the gateway applies to one mailbox at delivery (packages/gateway's RecipientPolicy, structurally). */
export interface GatewayPolicy {
  domain: string;
  always: boolean;
  senders: string[];
  rules: GatewayRules;
}

/** `register` / `unregister` input: a mailbox address or a domain; with `sender`, a sender for `domain`. */
export interface GatewayTargetInput {
  target: string;
  /** The target is a sender (address or domain) whose mail to `domain`'s mailboxes is transformed. */
  sender?: boolean;
  /** The recipients' domain of a sender registration. */
  domain?: string;
}

const MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]+\/(?:[a-z0-9!#$&^_.+-]+|\*)$/;
const MAX_THRESHOLD = 2 * 1024 * 1024 * 1024;

function rulesOf(row: typeof gatewaySettings.$inferSelect | undefined): GatewayRules {
  if (!row) return { ...GATEWAY_DEFAULTS };
  return {
    thresholdBytes: row.thresholdBytes,
    mediaTypes: JSON.parse(row.mediaTypes) as string[],
    expiryDays: row.expiryDays,
    loginRequired: row.loginRequired === 1,
  };
}

/** A sender as registered: an address (lower-cased) or a domain (normalised). */
function senderTarget(input: string): string {
  try {
    const v = input.trim().replace(/^@/, '');
    return v.includes('@') ? parseAddress(v).address.toLowerCase() : normaliseDomain(v);
  } catch (err) {
    if (err instanceof AddressingError) throw invalid(`not a sender address or domain: ${input}`);
    throw err;
  }
}

/** What a target means: the registration row's domain, kind, target and mailbox. Checks the scope. */
async function resolveTarget(
  ctx: DirectoryContext,
  actor: Actor,
  input: GatewayTargetInput,
): Promise<{
  domainId: string;
  domain: string;
  kind: GatewayRegistrationKind;
  target: string;
  mailboxId: string | null;
}> {
  const typed = String(input.target ?? '').trim();
  if (typed.length === 0) throw invalid('a mailbox address, a domain or a sender is needed');
  if (input.sender) {
    if (!input.domain) throw invalid("a sender registration needs the recipients' domain");
    const d = await scopedDomain(ctx.db, actor, input.domain);
    return { domainId: d.id, domain: d.name, kind: 'sender', target: senderTarget(typed), mailboxId: null };
  }
  if (!typed.includes('@')) {
    const d = await scopedDomain(ctx.db, actor, typed);
    return { domainId: d.id, domain: d.name, kind: 'domain', target: d.name, mailboxId: null };
  }
  let parsed: { address: string; domain: string };
  try {
    parsed = parseAddress(typed);
  } catch (err) {
    return toInvalid(err);
  }
  // The domain typed first: another domain's admin learns nothing about its addresses.
  requireDomain(actor, parsed.domain);
  const found = await lookupRecipient(ctx.lookupContext(), parsed.address);
  if (found.kind !== 'mailbox') throw notFound(`${parsed.address} is not a mailbox`);
  const [mb] = await ctx.db.select().from(mailboxes).where(eq(mailboxes.id, found.mailboxId));
  if (!mb) throw notFound(`${parsed.address} is not a mailbox`);
  const [d] = await ctx.db.select().from(domains).where(eq(domains.id, mb.domainId));
  if (!d) throw notFound(`${parsed.address} is not a mailbox`);
  // An address of one's own domain that leads to another domain's mailbox is still that domain's.
  requireDomain(actor, d.name);
  return { domainId: d.id, domain: d.name, kind: 'mailbox', target: mb.address, mailboxId: mb.id };
}

/** `gateway.register`: a mailbox, a domain, or a sender for a domain. */
export async function registerGateway(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: GatewayTargetInput,
): Promise<GatewayRegistrationView & { domain: string }> {
  const t = await resolveTarget(ctx, change.actor, input);
  const createdAt = ctx.nowIso();
  const added = await change.commit(
    { action: 'gateway.register', target: `${t.kind}:${t.target}`, domain: t.domain },
    async (tx) => {
      await tx.insert(gatewayRegistrations).values({
        id: newId(),
        domainId: t.domainId,
        kind: t.kind,
        target: t.target,
        mailboxId: t.mailboxId,
        createdBy: change.actor.name,
        createdAt,
      });
      return {
        result: { domain: t.domain, kind: t.kind, target: t.target, createdBy: change.actor.name, createdAt },
        details: { kind: t.kind },
      };
    },
  );
  anyRegistration.delete(ctx);
  return added;
}

/** `gateway.unregister`: removes a registration made by `gateway.register` with the same input. */
export async function unregisterGateway(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: GatewayTargetInput,
): Promise<void> {
  const t = await resolveTarget(ctx, change.actor, input);
  const where = and(
    eq(gatewayRegistrations.domainId, t.domainId),
    eq(gatewayRegistrations.kind, t.kind),
    eq(gatewayRegistrations.target, t.target),
  );
  const [row] = await ctx.db.select().from(gatewayRegistrations).where(where);
  if (!row) throw notFound(`${t.target} is not registered for the attachment gateway`);
  await change.commit(
    { action: 'gateway.unregister', target: `${t.kind}:${t.target}`, domain: t.domain },
    async (tx) => {
      await tx.delete(gatewayRegistrations).where(eq(gatewayRegistrations.id, row.id));
      return { result: undefined };
    },
  );
  anyRegistration.delete(ctx);
}

/** `gateway.settings`: a domain's rules; fields left out keep their value. */
export async function setGatewaySettings(
  ctx: DirectoryContext,
  change: ChangeContext,
  input: { domain: string } & Partial<GatewayRules>,
): Promise<GatewayRules> {
  const d = await scopedDomain(ctx.db, change.actor, input.domain);
  const [row] = await ctx.db.select().from(gatewaySettings).where(eq(gatewaySettings.domainId, d.id));
  const rules = { ...rulesOf(row) };
  if (input.thresholdBytes !== undefined) {
    const n = Number(input.thresholdBytes);
    if (!Number.isInteger(n) || n < 1024 || n > MAX_THRESHOLD)
      throw invalid('threshold: a whole number of bytes from 1024 (1 KiB) to 2 GiB');
    rules.thresholdBytes = n;
  }
  if (input.mediaTypes !== undefined) {
    if (!Array.isArray(input.mediaTypes) || input.mediaTypes.length > 50)
      throw invalid('media types: a list of at most 50 types');
    const types = [...new Set(input.mediaTypes.map((t) => String(t).trim().toLowerCase()).filter((t) => t))];
    const bad = types.find((t) => !MEDIA_TYPE.test(t));
    if (bad) throw invalid(`not a media type: ${bad} (e.g. application/pdf or image/*)`);
    rules.mediaTypes = types;
  }
  if (input.expiryDays !== undefined) {
    const n = Number(input.expiryDays);
    if (!Number.isInteger(n) || n < 1 || n > 3650)
      throw invalid('expiry: a whole number of days from 1 to 3650');
    rules.expiryDays = n;
  }
  if (input.loginRequired !== undefined) rules.loginRequired = input.loginRequired === true;
  const values = {
    thresholdBytes: rules.thresholdBytes,
    mediaTypes: JSON.stringify(rules.mediaTypes),
    expiryDays: rules.expiryDays,
    loginRequired: rules.loginRequired ? 1 : 0,
    updatedBy: change.actor.name,
    updatedAt: ctx.nowIso(),
  };
  return change.commit({ action: 'gateway.settings', target: d.name, domain: d.name }, async (tx) => {
    if (row) await tx.update(gatewaySettings).set(values).where(eq(gatewaySettings.id, row.id));
    else await tx.insert(gatewaySettings).values({ id: newId(), domainId: d.id, ...values });
    return { result: rules, details: { ...rules } };
  });
}

/** The domains the actor may see (or one of them), with their rules and registrations. */
export async function listGateway(
  ctx: DirectoryContext,
  actor: Actor,
  domain?: string,
): Promise<GatewayDomainView[]> {
  let rows: Array<typeof domains.$inferSelect>;
  if (domain !== undefined) rows = [await scopedDomain(ctx.db, actor, domain)];
  else {
    const scope = visibleDomains(actor);
    if (scope !== null && scope.length === 0) return [];
    rows = await (scope === null
      ? ctx.db.select().from(domains)
      : ctx.db
          .select()
          .from(domains)
          .where(inArray(domains.name, [...scope])));
  }
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const regs = await ctx.db
    .select()
    .from(gatewayRegistrations)
    .where(inArray(gatewayRegistrations.domainId, ids));
  const settings = await ctx.db.select().from(gatewaySettings).where(inArray(gatewaySettings.domainId, ids));
  return rows
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((d) => ({
      domain: d.name,
      rules: rulesOf(settings.find((s) => s.domainId === d.id)),
      registrations: regs
        .filter((r) => r.domainId === d.id)
        .sort((a, b) => a.kind.localeCompare(b.kind) || a.target.localeCompare(b.target))
        .map((r) => ({ kind: r.kind, target: r.target, createdBy: r.createdBy, createdAt: r.createdAt })),
    }));
}

/**
 * Whether any registration exists, remembered for a few seconds per directory: most appliances use the
 * gateway little or not at all, and every delivery asks. A change made here forgets it at once; one
 * replicated from another region is seen within `ANY_TTL_MS`.
 */
const ANY_TTL_MS = 5_000;
const anyRegistration = new WeakMap<DirectoryContext, { at: number; any: boolean }>();

async function registrationsExist(ctx: DirectoryContext): Promise<boolean> {
  const now = Date.now();
  const known = anyRegistration.get(ctx);
  if (known && now - known.at < ANY_TTL_MS) return known.any;
  const [row] = await ctx.db.select({ id: gatewayRegistrations.id }).from(gatewayRegistrations).limit(1);
  anyRegistration.set(ctx, { at: now, any: row !== undefined });
  return row !== undefined;
}

/** The gateway policy of each mailbox (delivery; no actor: the mail system reads it). */
export async function gatewayPolicies(
  ctx: DirectoryContext,
  mailboxIds: readonly string[],
): Promise<Map<string, GatewayPolicy | null>> {
  const out = new Map<string, GatewayPolicy | null>(mailboxIds.map((id) => [id, null]));
  if (mailboxIds.length === 0 || !(await registrationsExist(ctx))) return out;
  const boxes = await ctx.db
    .select({ id: mailboxes.id, domainId: mailboxes.domainId })
    .from(mailboxes)
    .where(inArray(mailboxes.id, [...mailboxIds]));
  const domainIds = [...new Set(boxes.map((b) => b.domainId))];
  if (domainIds.length === 0) return out;
  const regs = await ctx.db
    .select()
    .from(gatewayRegistrations)
    .where(inArray(gatewayRegistrations.domainId, domainIds));
  if (regs.length === 0) return out;
  const settings = await ctx.db
    .select()
    .from(gatewaySettings)
    .where(inArray(gatewaySettings.domainId, domainIds));
  const names = await ctx.db
    .select({ id: domains.id, name: domains.name })
    .from(domains)
    .where(inArray(domains.id, domainIds));
  for (const b of boxes) {
    const mine = regs.filter((r) => r.domainId === b.domainId);
    const always = mine.some((r) => r.kind === 'domain' || (r.kind === 'mailbox' && r.mailboxId === b.id));
    const senders = mine.filter((r) => r.kind === 'sender').map((r) => r.target);
    if (!always && senders.length === 0) continue;
    const domain = names.find((n) => n.id === b.domainId)?.name;
    if (!domain) continue;
    out.set(b.id, {
      domain,
      always,
      senders,
      rules: rulesOf(settings.find((s) => s.domainId === b.domainId)),
    });
  }
  return out;
}
