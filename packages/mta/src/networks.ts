/** Client address classification: the internal networks (DELEGATO_INTERNAL_NETWORKS) may relay. */
import ipaddr from 'ipaddr.js';

export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parses CIDRs (`10.0.0.0/8`, `2001:db8::/32`, or a bare address); throws on a malformed one. */
export function parseNetworks(list: readonly string[]): Cidr[] {
  return list
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      if (s.includes('/')) return ipaddr.parseCIDR(s);
      const addr = ipaddr.parse(s);
      return [addr, addr.kind() === 'ipv4' ? 32 : 128] as Cidr;
    });
}

/** True when `address` (IPv4, IPv6, or IPv4-mapped IPv6) is inside one of `networks`. */
export function inNetworks(address: string | undefined, networks: readonly Cidr[]): boolean {
  if (!address || networks.length === 0 || !ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address); // unwraps ::ffff:a.b.c.d
  return networks.some(([net, bits]) => parsed.kind() === net.kind() && parsed.match(net, bits));
}
