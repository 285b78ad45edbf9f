/**
 * The outbound queue's settings reach @delegato/mta through the configuration (the package reads no
 * environment): DELEGATO_DNS_SERVERS → `dns.servers` → the MX resolver; DELEGATO_SMTP_OUTBOUND_PORT →
 * `smtp.outboundPort` → the worker's `port`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningDnsServer, startDnsServer } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { queueResolver } from '../src/services/queue.js';

let dns: RunningDnsServer;
const work = mkdtempSync(join(tmpdir(), 'delegato-queue-config-'));

beforeAll(async () => {
  dns = await startDnsServer({ 'implicit.example': { A: ['127.0.3.3'] } });
});

afterAll(async () => {
  await dns.close();
  rmSync(work, { recursive: true, force: true });
});

describe('DELEGATO_DNS_SERVERS', () => {
  // Moved from packages/mta/test/queue-dns.test.ts ('is used when no servers are given').
  it('is used when no servers are given', async () => {
    const config = loadConfig({ env: { DELEGATO_DNS_SERVERS: dns.server }, cwd: work });
    const r = queueResolver(config);
    expect(await r.resolveAddresses('implicit.example')).toEqual(['127.0.3.3']);
  });
});

describe('DELEGATO_SMTP_OUTBOUND_PORT', () => {
  it('sets smtp.outboundPort (25 by default)', () => {
    expect(loadConfig({ env: {}, cwd: work }).smtp.outboundPort).toBe(25);
    expect(loadConfig({ env: { DELEGATO_SMTP_OUTBOUND_PORT: '2526' }, cwd: work }).smtp.outboundPort).toBe(
      2526,
    );
  });
});
