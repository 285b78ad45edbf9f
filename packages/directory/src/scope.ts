/**
 * Who is acting, and what they may touch. Every mutating directory operation takes an Actor and checks
 * it here, in the layer every interface calls (CLI, admin UI, API): the UI hiding a button is not the check.
 */
import { forbidden } from './errors.js';

export type Actor =
  /** An operator: every region, domain and admin. */
  | { kind: 'operator'; name: string; from: string }
  /** A delegated domain administrator: only `domains` (loaded from the directory when the actor is built). */
  | { kind: 'domain-admin'; name: string; domains: readonly string[]; from: string }
  /** The appliance itself (bootstrap, scheduled jobs). */
  | { kind: 'system'; name: string; from: string };

export function isOperatorLevel(actor: Actor): boolean {
  return actor.kind === 'operator' || actor.kind === 'system';
}

/** Throws unless the actor may manage regions, domains and admins. */
export function requireOperator(actor: Actor, what: string): void {
  if (!isOperatorLevel(actor)) throw forbidden(`${actor.name} may not ${what}: operators only`);
}

/** Throws unless the actor may manage `domain` (a normalised domain name). */
export function requireDomain(actor: Actor, domain: string): void {
  if (isOperatorLevel(actor)) return;
  if (actor.kind === 'domain-admin' && actor.domains.includes(domain)) return;
  throw forbidden(`${actor.name} may not manage ${domain}: not one of their domains`);
}

/** The domains an actor may see; `null` means all of them. */
export function visibleDomains(actor: Actor): readonly string[] | null {
  return actor.kind === 'domain-admin' ? actor.domains : null;
}
