/**
 * MTA-STS policies for outbound delivery (RFC 8461; src/auth/mta-sts.ts): discovered through the
 * `_mta-sts` TXT record served by dnsmasq, fetched over verified HTTPS from `mta-sts.<domain>`, cached for
 * max_age and across restarts (a file), refetched when the record's id changes, kept when the policy host
 * is down, dropped once expired; MX names matched as §4.1 says.
 */
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { type RunningDnsmasq, selfSignedCert, startDnsmasq, tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MtaSts } from '../src/auth/mta-sts.js';
import { createAuthResolver } from '../src/auth/resolver.js';

const CERT = selfSignedCert(['mta-sts.sts.example', 'mta-sts.other.example']);
const dir = tempDir('delegato-mta-sts-');
let dns: RunningDnsmasq;
let server: Server;
let port = 0;
let fetches = 0;
let body =
  'version: STSv1\r\nmode: enforce\r\nmx: mx.sts.example\r\nmx: *.backup.sts.example\r\nmax_age: 3600\r\n';

const records = (id: string) => ({
  local: ['example'],
  A: { 'mta-sts.sts.example': '127.0.0.1', 'mta-sts.other.example': '127.0.0.1' },
  TXT: { '_mta-sts.sts.example': `v=STSv1; id=${id}`, '_mta-sts.other.example': 'v=STSv1; id=x1' },
});

function listen(): Promise<void> {
  server = createServer({ key: CERT.key, cert: CERT.cert }, (req, res) => {
    fetches++;
    if (req.url !== '/.well-known/mta-sts.txt') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  });
  return new Promise((r) => server.listen(port, '127.0.0.1', () => r()));
}

beforeAll(async () => {
  dns = await startDnsmasq(records('a1'));
  await listen();
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await dns.close();
  dir.remove();
});

describe('MTA-STS policies', () => {
  let now = new Date('2026-12-06T05:00:00Z');
  const file = join(dir.path, 'mta-sts.json');
  const make = (opts: { ca?: string } = { ca: CERT.cert }) =>
    new MtaSts({
      resolver: createAuthResolver([dns.server]),
      port,
      ...(opts.ca ? { ca: opts.ca } : {}),
      file,
      now: () => now,
    });

  it('fetches once, caches while the id stays, matches MX names as RFC 8461 §4.1 says', async () => {
    const sts = make();
    const p = await sts.policy('STS.example.');
    expect(p).toMatchObject({
      id: 'a1',
      mode: 'enforce',
      maxAge: 3600,
      mx: ['mx.sts.example', '*.backup.sts.example'],
    });
    expect(await sts.policy('sts.example')).toEqual(p);
    expect(fetches).toBe(1);
    if (!p) throw new Error('no policy');
    expect(MtaSts.allows(p, 'mx.sts.example')).toBe(true);
    expect(MtaSts.allows(p, 'MX.STS.EXAMPLE.')).toBe(true);
    expect(MtaSts.allows(p, 'a.backup.sts.example')).toBe(true);
    expect(MtaSts.allows(p, 'a.b.backup.sts.example')).toBe(false);
    expect(MtaSts.allows(p, 'mx.evil.example')).toBe(false);
    expect(await sts.policy('nosts.example')).toBeNull();
  });

  it('refetches when the id changes; keeps the cached policy while the host is down, across a restart', async () => {
    body = body.replace('mode: enforce', 'mode: testing');
    await dns.restart(records('a2'));
    const sts = make();
    expect(await sts.policy('sts.example')).toMatchObject({ id: 'a2', mode: 'testing' });
    expect(fetches).toBe(2);
    await new Promise((r) => server.close(r));
    await dns.restart(records('a3'));
    expect(await sts.policy('sts.example')).toMatchObject({ id: 'a2', mode: 'testing' });
    // A new instance (the appliance restarted) reads the cache file.
    expect(await make().policy('sts.example')).toMatchObject({ id: 'a2', mode: 'testing' });
    // Past max_age, with the host still down: no policy any more.
    now = new Date(now.getTime() + 3601_000);
    expect(await make().policy('sts.example')).toBeNull();
    await listen();
  });

  it('refuses a policy host whose certificate it cannot verify', async () => {
    const sts = make({});
    const before = fetches;
    expect(await sts.policy('other.example')).toBeNull();
    expect(fetches).toBe(before);
    expect(await make().policy('other.example')).toMatchObject({ id: 'x1', mode: 'testing' });
  });
});
