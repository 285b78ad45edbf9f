/**
 * The whole path: two @tursodatabase/sync replicas, each with its region certificate, through the mTLS
 * sync gateway, to a real tursodb hub under the supervisor.
 */
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '@delegato/testkit';
import { connect, type Database } from '@tursodatabase/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HubSupervisor,
  type RegionTls,
  type SyncGateway,
  startSyncGateway,
  syncConnectOptions,
} from '../src/index.js';
import { capturingLogger, type LogLine, testFederation } from './support.js';

let dir: { path: string; remove: () => void };
let hub: HubSupervisor;
let gateway: SyncGateway;
let lines: LogLine[];
let north: RegionTls;
let south: RegionTls;
let central: RegionTls;
let foreign: RegionTls;
const closers: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  dir = tempDir('delegato-sync-');
  const captured = capturingLogger();
  lines = captured.lines;
  const federation = await testFederation(join(dir.path, 'north'));
  north = await federation.region('north', ['north.mail.example']);
  south = await federation.region('south');
  central = await federation.region('central');
  foreign = await (await testFederation(join(dir.path, 'elsewhere'), 'Foreign CA')).region('south');
  hub = new HubSupervisor({ dir: join(dir.path, 'north', 'hub'), logger: captured.logger });
  await hub.start();
  gateway = await startSyncGateway({ tls: north, upstream: () => hub.url, logger: captured.logger });
});

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await gateway?.close();
  await hub?.stop();
  dir?.remove();
});

/** A replica of `region` in the temp dir, syncing through the gateway with `tls`. */
async function replica(name: string, tls: RegionTls): Promise<Database> {
  const remote = syncConnectOptions({ kind: 'federation', url: gateway.url, hubRegion: 'north', tls });
  const db = await connect({ path: join(dir.path, `${name}.db`), ...remote.options });
  closers.push(remote.close, () => db.close());
  return db;
}

async function rows(db: Database, sql: string): Promise<unknown[]> {
  return (await db.prepare(sql)).all();
}

/** One HTTPS request to the gateway; resolves with the status or rejects with the TLS/socket error. */
function httpsStatus(opts: RequestOptions): Promise<number> {
  return new Promise((done, fail) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: gateway.port,
        method: 'POST',
        path: '/pull-updates',
        agent: false,
        ca: [north.caCertPem],
        checkServerIdentity: () => undefined,
        ...opts,
      },
      (res) => {
        res.resume();
        done(res.statusCode ?? 0);
      },
    );
    req.on('error', fail);
    req.end();
  });
}

function quantile(samples: number[], q: number): number {
  const sorted = [...samples].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function stats(samples: number[]): string {
  return `p50 ${quantile(samples, 0.5).toFixed(1)} / p95 ${quantile(samples, 0.95).toFixed(1)}`;
}

describe('directory sync through the federation gateway', () => {
  it('a row written and pushed in replica A is visible in replica B after a pull', async () => {
    const a = await replica('a', north);
    const b = await replica('b', south);
    await a.exec('CREATE TABLE mailbox (id TEXT PRIMARY KEY, address TEXT NOT NULL UNIQUE)');
    await a.exec("INSERT INTO mailbox VALUES ('01J00000000000000000000001', 'rose@iat.example')");
    await a.push();
    expect(await b.pull()).toBe(true);
    expect(await rows(b, 'SELECT address FROM mailbox')).toEqual([{ address: 'rose@iat.example' }]);

    // And back: B writes, A reads.
    await b.exec("INSERT INTO mailbox VALUES ('01J00000000000000000000002', 'lily@iat.example')");
    await b.push();
    await a.pull();
    expect(await rows(a, 'SELECT address FROM mailbox ORDER BY address')).toEqual([
      { address: 'lily@iat.example' },
      { address: 'rose@iat.example' },
    ]);

    // The gateway logged each request with the verified peer region, at debug level.
    const requests = lines.filter((l) => l.event === 'federation.gateway_request');
    expect(requests.some((l) => l.region === 'north' && l.path === '/v2/pipeline' && l.status === 200)).toBe(
      true,
    );
    expect(requests.some((l) => l.region === 'south' && l.path === '/pull-updates' && l.status === 200)).toBe(
      true,
    );
    expect(requests.every((l) => l.level === 20)).toBe(true);
  });

  it('push + pull through the gateway: timing (and straight to the hub, for comparison)', async () => {
    const direct = async (name: string) => {
      const db = await connect({ path: join(dir.path, `${name}.db`), url: hub.url });
      closers.push(() => db.close());
      return db;
    };
    const report: string[] = [];
    for (const [how, a, b] of [
      ['gateway (mTLS)', await replica('timing-a', north), await replica('timing-b', central)],
      ['hub on loopback', await direct('direct-a'), await direct('direct-b')],
    ] as const) {
      const table = how.startsWith('gateway') ? 'probe_gw' : 'probe_direct';
      await a.exec(`CREATE TABLE IF NOT EXISTS ${table} (id TEXT PRIMARY KEY, n INTEGER NOT NULL)`);
      await a.push();
      await b.pull();
      const push: number[] = [];
      const pull: number[] = [];
      const both: number[] = [];
      for (let n = 0; n < 30; n++) {
        await a.exec(`INSERT INTO ${table} VALUES ('probe-${n}', ${n})`);
        const began = performance.now();
        await a.push();
        const pushed = performance.now();
        await b.pull();
        const pulled = performance.now();
        push.push(pushed - began);
        pull.push(pulled - pushed);
        both.push(pulled - began);
        expect(await rows(b, `SELECT n FROM ${table} WHERE id = 'probe-${n}'`)).toEqual([{ n }]);
      }
      report.push(`${how}: push ${stats(push)}; pull ${stats(pull)}; push+pull ${stats(both)}`);
      expect(quantile(both, 0.5)).toBeLessThan(1_000);
    }
    console.log(`30 single-row changes, ms\n${report.join('\n')}`);
  });

  it('refuses clear text, a client without a certificate, and a certificate of another CA', async () => {
    // A client that trusts the CA but presents no certificate.
    await expect(httpsStatus({})).rejects.toThrow();
    // A certificate of another federation's CA, for a region name that exists here.
    await expect(httpsStatus({ cert: foreign.certPem, key: foreign.keyPem })).rejects.toThrow();
    // Clear-text HTTP on the same port.
    await expect(
      new Promise((done, fail) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: gateway.port, method: 'POST', path: '/pull-updates', agent: false },
          (res) => done(res.statusCode),
        );
        req.on('error', fail);
        req.end();
      }),
    ).rejects.toThrow();
    // The sync client with the foreign certificate gets nothing either.
    const remote = syncConnectOptions({
      kind: 'federation',
      url: gateway.url,
      hubRegion: 'north',
      tls: foreign,
    });
    closers.push(remote.close);
    await expect(connect({ path: join(dir.path, 'foreign.db'), ...remote.options })).rejects.toThrow(/fetch/);

    const refused = lines.filter((l) => l.event === 'federation.gateway_refused').map((l) => l.reason);
    expect(refused).toEqual(
      expect.arrayContaining(['no client certificate', 'certificate not trusted', 'clear text']),
    );
    // A valid region certificate passes (and only sync paths are forwarded).
    expect(await httpsStatus({ cert: south.certPem, key: south.keyPem })).toBe(200);
    expect(await httpsStatus({ cert: south.certPem, key: south.keyPem, method: 'GET', path: '/' })).toBe(404);
  });

  it('the transport accepts only the hub region as the server', async () => {
    // The gateway presents north's certificate; a client told the hub is central refuses it.
    const remote = syncConnectOptions({
      kind: 'federation',
      url: gateway.url,
      hubRegion: 'central',
      tls: south,
    });
    closers.push(remote.close);
    await expect(connect({ path: join(dir.path, 'wrong-hub.db'), ...remote.options })).rejects.toThrow(
      /fetch/,
    );
    await expect(
      remote.options.fetch?.(`${gateway.url}/pull-updates`, { method: 'POST' }),
    ).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/region north's certificate, not the hub region central's/) },
    });
    // Clear-text URLs are not sent at all.
    await expect(remote.options.fetch?.(`http://127.0.0.1:${gateway.port}/pull-updates`)).rejects.toThrow(
      /https/,
    );
  });

  it('hub down: reads and local writes go on, push fails with 502; hub back: the write goes out', async () => {
    const a = await replica('down-a', north);
    const b = await replica('down-b', south);
    await a.exec('CREATE TABLE IF NOT EXISTS note (id TEXT PRIMARY KEY, text TEXT)');
    await a.push();
    await b.pull();
    await hub.stop();
    await a.exec("INSERT INTO note VALUES ('n1', 'written while the hub was down')");
    await expect(a.push()).rejects.toThrow(/502|status/);
    expect(await rows(a, 'SELECT text FROM note')).toEqual([{ text: 'written while the hub was down' }]);
    await hub.start();
    await a.push();
    await b.pull();
    expect(await rows(b, 'SELECT text FROM note')).toEqual([{ text: 'written while the hub was down' }]);
  });
});

describe('Turso Cloud remote', () => {
  it('is a URL and an auth token over the platform fetch', () => {
    const remote = syncConnectOptions({
      kind: 'turso-cloud',
      url: 'libsql://directory-acme.turso.io',
      authToken: 'token',
    });
    expect(remote.options).toEqual({ url: 'libsql://directory-acme.turso.io', authToken: 'token' });
    remote.close();
  });
});

describe('sync gateway streaming', () => {
  it('streams both ways: the answer starts before the request body has ended', async () => {
    const { logger } = capturingLogger();
    // A stand-in hub that echoes each request chunk as soon as it arrives.
    const echo = createHttpServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.on('data', (chunk: Buffer) => res.write(chunk));
      req.on('end', () => res.end());
    });
    await new Promise<void>((done) => echo.listen(0, '127.0.0.1', done));
    const echoPort = (echo.address() as AddressInfo).port;
    const streaming = await startSyncGateway({
      tls: north,
      upstream: `http://127.0.0.1:${echoPort}`,
      logger,
    });
    try {
      const received: string[] = [];
      await new Promise<void>((done, fail) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: streaming.port,
            method: 'POST',
            path: '/v2/pipeline',
            agent: false,
            ca: [north.caCertPem],
            cert: south.certPem,
            key: south.keyPem,
            checkServerIdentity: () => undefined,
          },
          (res) => {
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              received.push(chunk);
              // Only once the first chunk came back do we send the rest: a buffering proxy would hang here.
              if (received.join('') === 'first;') req.end('second;');
            });
            res.on('end', done);
            res.on('error', fail);
          },
        );
        req.on('error', fail);
        req.flushHeaders();
        req.write('first;');
      });
      expect(received.join('')).toBe('first;second;');
    } finally {
      await streaming.close();
      await new Promise<void>((done) => echo.close(() => done()));
    }
  });
});
