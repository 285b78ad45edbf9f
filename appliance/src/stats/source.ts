/**
 * The statistics the admin UI shows (`OperationsSource` of @delegato/admin): this region's rolled-up rows
 * from stats.db, and with the federation every other region's (federation.ts). The scope is checked here
 * with the asking admin's Actor: a domain admin gets rows of their own domains only, whatever the page
 * asked for (requireDomain throws 403 for another domain).
 */

import type { OperationsSource, RegionHealth, StatsAnswer } from '@delegato/admin';
import { type Actor, requireDomain, requireOperator, todayIn } from '@delegato/directory';
import type { OperationsDb } from '@delegato/mailstore';

export type PeerStats = (q: {
  from: string;
  to: string;
  domains: readonly string[] | null;
}) => Promise<StatsAnswer>;

export function operationsSource(opts: {
  db: OperationsDb;
  timezone: string;
  /** Other regions' rows (federation.ts); absent: standalone. */
  peers?: PeerStats;
  health: () => Promise<RegionHealth[]>;
  now?: () => Date;
}): OperationsSource {
  return {
    today: () => todayIn(opts.timezone, opts.now?.() ?? new Date()),
    async stats(actor: Actor, q) {
      let domains: readonly string[] | null;
      if (q.domain !== undefined) {
        requireDomain(actor, q.domain);
        domains = [q.domain];
      } else domains = actor.kind === 'domain-admin' ? actor.domains : null;
      const local = await opts.db.daily({ from: q.from, to: q.to, domains });
      if (!opts.peers) return { rows: local, unreachable: [] };
      const remote = await opts.peers({ from: q.from, to: q.to, domains });
      return { rows: [...local, ...remote.rows], unreachable: remote.unreachable };
    },
    async health(actor: Actor) {
      requireOperator(actor, 'see the health of the regions');
      return opts.health();
    },
  };
}
