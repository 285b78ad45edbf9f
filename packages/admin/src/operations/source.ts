/**
 * What the statistics and health pages read, supplied by the appliance (its operations database, the
 * federation's other regions, its listeners). The appliance checks the actor's scope (a domain admin
 * only ever gets rows of their own domains); the routes ask with the signed-in admin's Actor.
 */
import type { Actor } from '@delegato/directory';

/** One day of one domain in one region (the roll-up job's row). */
export interface StatsRow {
  day: string;
  domain: string;
  region: string;
  messages_in: number;
  messages_out: number;
  messages_internal: number;
  bytes_in: number;
  bytes_out: number;
  bytes_internal: number;
  rejected: number;
  deferred: number;
  bounced: number;
  gateway: number;
  mailboxes: number;
}

export interface StatsQuery {
  /** First and last day, `YYYY-MM-DD`, inclusive. */
  from: string;
  to: string;
  /** One domain; absent: every domain the actor may see. */
  domain?: string;
}

export interface StatsAnswer {
  rows: StatsRow[];
  /** Regions asked that did not answer (the view says so). */
  unreachable: Array<{ region: string; error: string }>;
}

export interface HealthCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface RegionHealth {
  region: string;
  /** Grouped checks: listeners, queue, replication, disk, backup, certificates. */
  sections: Array<{ title: string; checks: HealthCheck[] }>;
  error?: string;
}

export interface OperationsSource {
  /** The day the appliance considers today (its time zone): the default end of a period. */
  today(): string;
  stats(actor: Actor, q: StatsQuery): Promise<StatsAnswer>;
  /** Operators only (the appliance refuses anyone else). */
  health(actor: Actor): Promise<RegionHealth[]>;
}
