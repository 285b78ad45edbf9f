/**
 * Per-admin access restrictions: the networks an admin may connect from (CIDR allow-list) and the TLS
 * client certificate they must present (SHA-256 fingerprint). Both are checked by `actorForAdmin`, so at
 * sign-in and on every request of a session or API token.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { invalid } from './errors.js';

/** At most this many networks per admin (a form field, not a routing table). */
export const MAX_ADMIN_NETWORKS = 64;

/**
 * Validates and normalises a list of networks: `10.0.0.0/8`, `2001:db8::/32`, or a single address (a /32
 * or /128). Host bits are cleared (`10.1.2.3/8` becomes `10.0.0.0/8`); duplicates are dropped.
 */
export function normaliseNetworks(input: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of input) {
    const item = raw.trim();
    if (item === '') continue;
    let cidr: [ipaddr.IPv4 | ipaddr.IPv6, number];
    try {
      // Only the usual notations: ipaddr.js alone would also take `10.0.0` or `0x0a.0.0.1`.
      if (isIP(item.split('/')[0] ?? '') === 0) throw new Error('not an address');
      cidr = item.includes('/') ? ipaddr.parseCIDR(item) : singleHost(item);
    } catch {
      throw invalid(`"${item}" is not a network: use an address or a CIDR range such as 10.0.0.0/8`);
    }
    const [addr, bits] = cidr;
    const network =
      addr.kind() === 'ipv4'
        ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${bits}`)
        : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${bits}`);
    const text = `${network.toString()}/${bits}`;
    if (!out.includes(text)) out.push(text);
  }
  if (out.length > MAX_ADMIN_NETWORKS) throw invalid(`at most ${MAX_ADMIN_NETWORKS} networks per admin`);
  return out;
}

function singleHost(item: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  const addr = ipaddr.parse(item);
  return [addr, addr.kind() === 'ipv4' ? 32 : 128];
}

/**
 * True when `ip` is inside one of `networks` (normalised CIDRs). An IPv4-mapped IPv6 address
 * (`::ffff:10.1.2.3`, what a dual-stack socket reports) counts as its IPv4 address. An unparseable
 * address is in no network.
 */
export function inNetworks(ip: string, networks: readonly string[]): boolean {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.process(ip.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  } catch {
    return false;
  }
  return networks.some((n) => {
    const range = ipaddr.parseCIDR(n);
    return range[0].kind() === addr.kind() && addr.match(range);
  });
}

/**
 * A certificate's SHA-256 fingerprint as stored: 64 lowercase hex digits. Accepts what people copy from
 * `openssl x509 -fingerprint -sha256` (`AB:CD:...`, with or without the `sha256 Fingerprint=` prefix) and
 * Node's `fingerprint256`.
 */
export function normaliseFingerprint(input: string): string {
  const hex = input
    .trim()
    .replace(/^sha-?256\s*fingerprint\s*=\s*/i, '')
    .replace(/[:\s]/g, '')
    .toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw invalid('a certificate fingerprint is 64 hexadecimal digits (SHA-256), colons allowed');
  }
  return hex;
}
