/**
 * DNS for outbound delivery: MX lookup with RFC 5321 §5.1 (implicit MX, preference order) and RFC 7505 (null
 * MX) semantics. The resolver is injected (CONVENTIONS "inject the world"); `createResolver` is the real one,
 * built on `node:dns/promises` and pointed at other servers by the `servers` it is given (the appliance's
 * `dns.servers`, DELEGATO_DNS_SERVERS: `ip[:port]`, comma separated) for labs and tests.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

export interface MxRecord {
  exchange: string;
  priority: number;
}

/**
 * What delivery needs from DNS.
 *
 * - `resolveMx`: the MX records as published; `[]` when the name exists but has no MX (NODATA). Throws a
 *   `DnsError`: permanent for NXDOMAIN, temporary for SERVFAIL, timeouts, refusals.
 * - `resolveAddresses`: A and AAAA addresses; `[]` when the name does not exist or has none. An address
 *   family whose lookup fails (SERVFAIL, REFUSED, timeout) while the other one answers with addresses is
 *   skipped, as Postfix does: many servers (dnsmasq for names it is not authoritative for, some
 *   middleboxes) refuse AAAA but answer A. `skipped` is told about it. Throws a temporary `DnsError` only
 *   when no address could be had and a lookup failed (the failed family may hold the only addresses).
 */
export interface MxResolver {
  resolveMx(domain: string): Promise<MxRecord[]>;
  resolveAddresses(host: string, skipped?: (failure: DnsError) => void): Promise<string[]>;
}

export class DnsError extends Error {
  constructor(
    message: string,
    /** True when retrying cannot help (NXDOMAIN, null MX, a domain without MX and without addresses). */
    readonly permanent: boolean,
    /** `NXDOMAIN`, `NULLMX`, `NOADDRESS`, or the resolver's code (`ESERVFAIL`, `ETIMEOUT`, ...). */
    readonly code: string,
  ) {
    super(message);
    this.name = 'DnsError';
  }
}

/**
 * Parses a `dns.servers` value (DELEGATO_DNS_SERVERS): `ip`, `ip:port`, `[ipv6]:port` or a bare IPv6 address, comma separated.
 * Returns the entries in the form `Resolver#setServers` takes; throws on anything else.
 */
export function parseDnsServers(value: string): string[] {
  const out: string[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    let host = entry;
    let port: string | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      host = bracketed[1] ?? '';
      port = bracketed[2];
    } else if (isIP(entry) !== 6) {
      const m = /^([^:]+):(\d+)$/.exec(entry);
      if (m) {
        host = m[1] ?? '';
        port = m[2];
      }
    }
    const family = isIP(host);
    if (family === 0) throw new Error(`DNS server ${JSON.stringify(entry)} is not an ip or ip:port`);
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535))
      throw new Error(`DNS server ${JSON.stringify(entry)} has an invalid port`);
    if (port === undefined) out.push(host);
    else out.push(family === 6 ? `[${host}]:${port}` : `${host}:${port}`);
  }
  return out;
}

const PERMANENT_CODES = new Set(['ENOTFOUND']);
const EMPTY_CODES = new Set(['ENODATA']);

function classify(err: unknown, what: string): DnsError {
  const code = String((err as { code?: unknown }).code ?? 'EUNKNOWN');
  if (PERMANENT_CODES.has(code)) return new DnsError(`${what}: no such domain (NXDOMAIN)`, true, 'NXDOMAIN');
  return new DnsError(`${what}: DNS lookup failed (${code})`, false, code);
}

/**
 * The real resolver. `servers` (ip[:port]) replaces the system resolvers; without it (or empty) the
 * system's are used. The package reads no environment: the appliance passes its `dns.servers` in.
 */
export function createResolver(
  servers?: string[],
  opts: { timeoutMs?: number; tries?: number } = {},
): MxResolver {
  const resolver = new Resolver({ timeout: opts.timeoutMs ?? 5_000, tries: opts.tries ?? 3 });
  if (servers && servers.length > 0) resolver.setServers(servers);

  const addresses = async (host: string, family: 4 | 6): Promise<string[]> => {
    try {
      return family === 4 ? await resolver.resolve4(host) : await resolver.resolve6(host);
    } catch (err) {
      const code = String((err as { code?: unknown }).code ?? '');
      if (EMPTY_CODES.has(code) || PERMANENT_CODES.has(code)) return [];
      throw classify(err, `${host} ${family === 4 ? 'A' : 'AAAA'}`);
    }
  };

  return {
    async resolveMx(domain) {
      try {
        return await resolver.resolveMx(domain);
      } catch (err) {
        if (EMPTY_CODES.has(String((err as { code?: unknown }).code ?? ''))) return [];
        throw classify(err, `${domain} MX`);
      }
    },
    async resolveAddresses(host, skipped) {
      if (isIP(host)) return [host];
      const answers = await Promise.allSettled([addresses(host, 4), addresses(host, 6)]);
      const found = answers.flatMap((a) => (a.status === 'fulfilled' ? a.value : []));
      const failures = answers.flatMap((a) => (a.status === 'rejected' ? [a.reason as DnsError] : []));
      if (failures.length === 0) return found;
      if (found.length === 0) {
        const [first] = failures;
        if (failures.length === 1 && first) throw first;
        throw new DnsError(failures.map((f) => f.message).join('; '), false, first?.code ?? 'EUNKNOWN');
      }
      for (const f of failures) skipped?.(f);
      return found;
    },
  };
}

export interface MxHosts {
  /** Hosts in the order to try them (RFC 5321 §5.1: lowest preference first, equal ones shuffled). */
  hosts: MxRecord[];
  /** No MX records: the domain itself is the one host (RFC 5321 §5.1 "implicit MX"). */
  implicit: boolean;
}

/** `[192.0.2.1]` / `[IPv6:2001:db8::1]` (RFC 5321 §4.1.3 address literals) → the address, else null. */
export function addressLiteral(domain: string): string | null {
  const m = /^\[(?:IPv6:)?([^\]]+)\]$/i.exec(domain);
  if (!m?.[1]) return null;
  return isIP(m[1]) ? m[1] : null;
}

/**
 * The hosts to try for a mail domain (RFC 5321 §5.1):
 * - MX records sorted by preference, equal preferences in random order (`shuffle` for tests);
 * - no MX records: the domain itself ("implicit MX"; whether it has addresses is found when connecting);
 * - a null MX (RFC 7505: a single `.` exchange): permanent failure, the domain accepts no mail;
 * - NXDOMAIN: permanent failure; SERVFAIL and timeouts: temporary.
 */
export async function lookupMx(
  resolver: MxResolver,
  domain: string,
  shuffle: <T>(items: T[]) => T[] = shuffled,
): Promise<MxHosts> {
  const literal = addressLiteral(domain);
  if (literal) return { hosts: [{ exchange: literal, priority: 0 }], implicit: true };
  const ascii = domainToASCII(domain.replace(/\.$/, ''));
  if (ascii === '') throw new DnsError(`${domain}: not a valid domain name`, true, 'BADNAME');
  const records = await resolver.resolveMx(ascii);
  const isNull = (r: MxRecord) => r.exchange === '' || r.exchange === '.';
  const usable = records.filter((r) => !isNull(r));
  if (records.length > 0 && usable.length === 0)
    throw new DnsError(`${domain} does not accept mail (null MX, RFC 7505)`, true, 'NULLMX');
  if (usable.length === 0) return { hosts: [{ exchange: ascii, priority: 0 }], implicit: true };
  const byPriority = new Map<number, MxRecord[]>();
  for (const r of usable) {
    const exchange = r.exchange.replace(/\.$/, '').toLowerCase();
    byPriority.set(r.priority, [...(byPriority.get(r.priority) ?? []), { exchange, priority: r.priority }]);
  }
  const hosts = [...byPriority.keys()].sort((a, b) => a - b).flatMap((p) => shuffle(byPriority.get(p) ?? []));
  return { hosts, implicit: false };
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
