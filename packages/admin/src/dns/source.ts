/**
 * What the DNS records page of a domain (issue 18) needs from the appliance: the records the domain
 * publishes (packages/mta/src/auth/records.ts computes them from the configuration and the directory's DKIM
 * keys) and a look-up of them through the appliance's resolver. Structural, so that the admin package
 * imports no MTA code; the appliance wires it (services/message-auth.ts).
 */
import type { Actor } from '@delegato/directory';

export interface DnsRecordRow {
  name: string;
  type: string;
  value: string;
  purpose: string;
}

export interface DnsCheckRow extends DnsRecordRow {
  ok: boolean;
  /** What DNS answered, or why the lookup failed. */
  found: string;
}

export interface DnsRecordSource {
  /** The records of `domain`; the directory checks that `actor` may manage it. */
  records(actor: Actor, domain: string): Promise<DnsRecordRow[]>;
  check(records: DnsRecordRow[]): Promise<DnsCheckRow[]>;
}
