/**
 * DNS for message authentication (SPF, DKIM, DMARC, ARC, MTA-STS): mailauth's resolver shape,
 * `(name, rrtype) => records`, on a `node:dns` Resolver pointed at the appliance's `dns.servers` (the same
 * servers outbound delivery uses, dns.ts), so that labs and tests answer from a loopback server. Errors keep
 * the resolver's codes (`ENOTFOUND`: NXDOMAIN, `ENODATA`: no records), which mailauth maps to `none` or
 * `temperror` (RFC 7208 §5, RFC 7489 §6.6.3).
 */
import { Resolver } from 'node:dns/promises';

/** What mailauth calls: `resolver(name, 'TXT' | 'A' | 'AAAA' | 'MX' | 'PTR' ...)`. */
export type AuthResolver = (name: string, rrtype: string) => Promise<unknown>;

export function createAuthResolver(
  servers?: readonly string[],
  opts: { timeoutMs?: number; tries?: number } = {},
): AuthResolver {
  const resolver = new Resolver({ timeout: opts.timeoutMs ?? 5_000, tries: opts.tries ?? 2 });
  if (servers && servers.length > 0) resolver.setServers([...servers]);
  return (name, rrtype) => resolver.resolve(name, rrtype as 'TXT');
}

/** TXT records of `name`, each one's strings joined (RFC 7208 §3.3); `[]` for NXDOMAIN and NODATA. */
export async function txtRecords(resolve: AuthResolver, name: string): Promise<string[]> {
  try {
    const records = (await resolve(name, 'TXT')) as string[][];
    return records.map((parts) => parts.join(''));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    throw err;
  }
}
