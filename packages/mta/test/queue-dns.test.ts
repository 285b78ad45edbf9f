/** MX lookup (RFC 5321 §5.1, RFC 7505) with the real resolver against the loopback DNS server. */
import { type RunningDnsServer, startDnsServer } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addressLiteral,
  createResolver,
  DnsError,
  lookupMx,
  type MxResolver,
  parseDnsServers,
} from '../src/dns.js';

let dns: RunningDnsServer;
let resolver: MxResolver;

beforeAll(async () => {
  dns = await startDnsServer({
    'prio.example': {
      MX: [
        { priority: 30, exchange: 'c.prio.example' },
        { priority: 10, exchange: 'A.prio.example.' },
        { priority: 20, exchange: 'b.prio.example' },
        { priority: 10, exchange: 'a2.prio.example' },
      ],
    },
    'a.prio.example': { A: ['127.0.3.1', '127.0.3.2'], AAAA: ['::1', 'fe80::1:2'] },
    'implicit.example': { A: ['127.0.3.3'] },
    'null.example': { MX: [{ priority: 0, exchange: '.' }] },
    'nothing.example': {},
    'servfail.example': { rcode: 'SERVFAIL' },
    'refused.example': { rcode: 'REFUSED' },
    'silent.example': { drop: true },
    // A answered, AAAA refused or failed: what dnsmasq does for names it is not authoritative for.
    'v4only-refused.example': { A: ['127.0.3.4'], rcodeFor: { AAAA: 'REFUSED' } },
    'v4only-servfail.example': { A: ['127.0.3.5'], rcodeFor: { AAAA: 'SERVFAIL' } },
    'v6only-refused.example': { AAAA: ['::1'], rcodeFor: { A: 'REFUSED' } },
    'none-refused.example': { rcodeFor: { AAAA: 'REFUSED' } },
    'both-refused.example': { rcodeFor: { A: 'REFUSED', AAAA: 'SERVFAIL' } },
    'xn--bcher-kva.example': { MX: [{ priority: 5, exchange: 'mx.xn--bcher-kva.example' }] },
  });
  resolver = createResolver([dns.server], { timeoutMs: 300, tries: 1 });
});

afterAll(() => dns.close());

async function failure(domain: string): Promise<DnsError> {
  const err = await lookupMx(resolver, domain).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DnsError);
  return err as DnsError;
}

describe('lookupMx', () => {
  it('orders hosts by preference, lowercases and drops the root dot; equal preferences are shuffled', async () => {
    const keep = <T>(x: T[]) => x;
    const reverse = <T>(x: T[]) => [...x].reverse();
    expect(await lookupMx(resolver, 'prio.example', keep)).toEqual({
      implicit: false,
      hosts: [
        { exchange: 'a.prio.example', priority: 10 },
        { exchange: 'a2.prio.example', priority: 10 },
        { exchange: 'b.prio.example', priority: 20 },
        { exchange: 'c.prio.example', priority: 30 },
      ],
    });
    const shuffled = await lookupMx(resolver, 'prio.example', reverse);
    expect(shuffled.hosts.map((h) => h.exchange)).toEqual([
      'a2.prio.example',
      'a.prio.example',
      'b.prio.example',
      'c.prio.example',
    ]);
  });

  it('uses the domain itself when it has no MX (implicit MX)', async () => {
    expect(await lookupMx(resolver, 'implicit.example')).toEqual({
      implicit: true,
      hosts: [{ exchange: 'implicit.example', priority: 0 }],
    });
    // Whether it has addresses is found when connecting.
    expect(await lookupMx(resolver, 'nothing.example')).toMatchObject({ implicit: true });
    expect(await resolver.resolveAddresses('nothing.example')).toEqual([]);
  });

  it('null MX and NXDOMAIN are permanent; SERVFAIL, REFUSED and timeouts are temporary', async () => {
    expect(await failure('null.example')).toMatchObject({ permanent: true, code: 'NULLMX' });
    expect(await failure('unknown.example')).toMatchObject({ permanent: true, code: 'NXDOMAIN' });
    expect(await failure('servfail.example')).toMatchObject({ permanent: false });
    expect(await failure('refused.example')).toMatchObject({ permanent: false });
    expect(await failure('silent.example')).toMatchObject({ permanent: false, code: 'ETIMEOUT' });
  });

  it('looks up internationalized domains in their A-label form', async () => {
    expect((await lookupMx(resolver, 'bücher.example')).hosts).toEqual([
      { exchange: 'mx.xn--bcher-kva.example', priority: 5 },
    ]);
  });

  it('takes address literals as they are', async () => {
    expect(addressLiteral('[127.0.0.1]')).toBe('127.0.0.1');
    expect(addressLiteral('[IPv6:::1]')).toBe('::1');
    expect(addressLiteral('[not.an.ip]')).toBeNull();
    expect(await lookupMx(resolver, '[127.0.3.9]')).toEqual({
      implicit: true,
      hosts: [{ exchange: '127.0.3.9', priority: 0 }],
    });
  });
});

describe('resolveAddresses', () => {
  it('returns A then AAAA records; [] for unknown names; IPs as they are', async () => {
    expect(await resolver.resolveAddresses('a.prio.example')).toEqual([
      '127.0.3.1',
      '127.0.3.2',
      '::1',
      'fe80::1:2',
    ]);
    expect(await resolver.resolveAddresses('unknown.example')).toEqual([]);
    expect(await resolver.resolveAddresses('127.0.0.5')).toEqual(['127.0.0.5']);
    await expect(resolver.resolveAddresses('servfail.example')).rejects.toMatchObject({ permanent: false });
  });

  it('skips an address family whose lookup fails while the other answers, and says so', async () => {
    const skipped: string[] = [];
    const note = (f: DnsError) => skipped.push(`${f.code} ${f.message}`);
    expect(await resolver.resolveAddresses('v4only-refused.example', note)).toEqual(['127.0.3.4']);
    expect(await resolver.resolveAddresses('v4only-servfail.example', note)).toEqual(['127.0.3.5']);
    expect(await resolver.resolveAddresses('v6only-refused.example', note)).toEqual(['::1']);
    expect(skipped).toEqual([
      'EREFUSED v4only-refused.example AAAA: DNS lookup failed (EREFUSED)',
      'ESERVFAIL v4only-servfail.example AAAA: DNS lookup failed (ESERVFAIL)',
      'EREFUSED v6only-refused.example A: DNS lookup failed (EREFUSED)',
    ]);
  });

  it('fails (temporarily) when no address was found and a family failed, or both failed', async () => {
    // A answered with no records, AAAA refused: the refused family may hold the only address.
    await expect(resolver.resolveAddresses('none-refused.example')).rejects.toMatchObject({
      permanent: false,
      code: 'EREFUSED',
      message: 'none-refused.example AAAA: DNS lookup failed (EREFUSED)',
    });
    await expect(resolver.resolveAddresses('both-refused.example')).rejects.toMatchObject({
      permanent: false,
      message:
        'both-refused.example A: DNS lookup failed (EREFUSED); both-refused.example AAAA: DNS lookup failed (ESERVFAIL)',
    });
  });
});

describe('DELEGATO_DNS_SERVERS', () => {
  it('parses ip, ip:port, [ipv6]:port and bare IPv6', () => {
    expect(parseDnsServers('127.0.0.1, 127.0.0.2:5353,[::1]:53,::1')).toEqual([
      '127.0.0.1',
      '127.0.0.2:5353',
      '[::1]:53',
      '::1',
    ]);
    expect(() => parseDnsServers('dns.example')).toThrow(/not an ip/);
    expect(() => parseDnsServers('127.0.0.1:70000')).toThrow(/invalid port/);
  });
  // The package reads no environment: DELEGATO_DNS_SERVERS reaches createResolver through the appliance's
  // `dns.servers` (appliance/test/queue-config.test.ts, moved from here with its assertion).
});
