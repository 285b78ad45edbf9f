/**
 * `delegato dns zone <domain>` (issue 18; issue 17's DNS line): the real CLI, against a running appliance
 * (through its control socket), prints the zone fragment an institute's DNS admin adds. It is checked by
 * BIND's `named-checkzone` inside a minimal zone, holds every record the issue names, and `dns check`
 * against dnsmasq serving that very fragment finds nothing missing, while a zone without it is reported.
 */
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type RunningDnsmasq, startDnsmasq, tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAppliance } from '../src/appliance.js';
import { startApplianceIn, TEST_OPERATOR } from './appliance-support.js';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/delegato.mjs', import.meta.url));
const dir = tempDir('delegato-dns-zone-');
let app: RunningAppliance;
let dns: RunningDnsmasq;
const ENV: Record<string, string> = {
  DELEGATO_SMTP_HOSTNAME: 'mx1.delegato.test',
  DELEGATO_PORT_SUBMISSION: '587',
  DELEGATO_PORT_SUBMISSIONS: '465',
  DELEGATO_PORT_IMAP: '143',
  DELEGATO_PORT_IMAPS: '993',
  DELEGATO_PORT_POP3: '110',
  DELEGATO_PORT_POP3S: '995',
};

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        ...process.env,
        DELEGATO_DATA_DIR: join(dir.path, 'var'),
        DELEGATO_DNS_SERVERS: dns.server,
        ...ENV,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(async () => {
  dns = await startDnsmasq({ local: ['example'] });
  // The ports are what users connect to (the SRV records), not what the test listens on.
  app = await startApplianceIn(dir.path, { ...ENV, ...zeroPorts(), DELEGATO_DNS_SERVERS: dns.server });
  await app.directory.addDomain(TEST_OPERATOR, 'uni.example');
}, 60_000);

/** The listeners on free ports, the configured user-facing ports kept for the CLI (same data dir). */
function zeroPorts(): Record<string, string> {
  return Object.fromEntries(
    Object.keys(ENV)
      .filter((k) => k.startsWith('DELEGATO_PORT_'))
      .map((k) => [k, '0']),
  );
}

afterAll(async () => {
  await app?.stop();
  await dns?.close();
  dir.remove();
});

describe('delegato dns zone', () => {
  it('prints every record, and the fragment passes named-checkzone inside a minimal zone', async () => {
    const r = await cli(['dns', 'zone', 'uni.example']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const zone = r.stdout;
    const keys = await app.directory.listDkimKeys(TEST_OPERATOR, 'uni.example');
    expect(zone).toMatch(/^uni\.example\.\s+3600 IN MX\s+10 mx1\.delegato\.test\.$/m);
    for (const label of ['smtp', 'imap', 'pop', 'mail', 'autoconfig', 'autodiscover', 'mta-sts'])
      expect(zone).toMatch(
        new RegExp(`^${label}\\.uni\\.example\\.\\s+3600 IN CNAME mx1\\.delegato\\.test\\.$`, 'm'),
      );
    expect(zone).toMatch(/^uni\.example\.\s+3600 IN TXT\s+"v=spf1 mx a:mx1\.delegato\.test -all"$/m);
    for (const k of keys) expect(zone).toContain(`${k.dnsName}.`);
    expect(zone).toMatch(/k=ed25519; p=/);
    expect(zone).toMatch(/k=rsa; p=/);
    expect(zone).toMatch(/^_dmarc\.uni\.example\.\s+3600 IN TXT\s+"v=DMARC1; p=quarantine;/m);
    expect(zone).toMatch(/^_mta-sts\.uni\.example\.\s+3600 IN TXT\s+"v=STSv1; id=[a-f0-9]{20}"$/m);
    expect(zone).toMatch(
      /^_smtp\._tls\.uni\.example\.\s+3600 IN TXT\s+"v=TLSRPTv1; rua=mailto:postmaster@uni\.example"$/m,
    );
    for (const [srv, port] of [
      ['_submission._tcp', 587],
      ['_submissions._tcp', 465],
      ['_imap._tcp', 143],
      ['_imaps._tcp', 993],
      ['_pop3._tcp', 110],
      ['_pop3s._tcp', 995],
    ] as const)
      expect(zone).toMatch(
        new RegExp(
          `^${srv.replace(/\./g, '\\.')}\\.uni\\.example\\.\\s+3600 IN SRV\\s+0 1 ${port} mx1\\.delegato\\.test\\.$`,
          'm',
        ),
      );
    const file = join(dir.path, 'uni.example.zone');
    writeFileSync(
      file,
      `$TTL 3600\nuni.example. IN SOA ns1.uni.example. hostmaster.uni.example. 1 3600 600 604800 3600\nuni.example. IN NS ns1.uni.example.\nns1.uni.example. IN A 192.0.2.53\n${zone}`,
    );
    const checked = await run('named-checkzone', ['-k', 'fail', '-n', 'fail', 'uni.example', file]);
    expect(checked.stdout).toMatch(/loaded serial 1\s+OK/);
    // The RSA key's record is split into strings of at most 255 bytes and reassembled by BIND.
    const rsa = keys.find((k) => k.algorithm === 'rsa');
    const dumped = await run('named-checkzone', ['-D', '-o', '-', 'uni.example', file]);
    const line = dumped.stdout.split('\n').find((l) => l.startsWith(`${rsa?.dnsName}.`)) ?? '';
    expect(
      line
        .match(/"([^"]*)"/g)
        ?.map((s) => s.slice(1, -1))
        .join(''),
    ).toBe(rsa?.txt);
  }, 60_000);

  it('dns check finds nothing missing once the fragment is published, and names what is missing before', async () => {
    const before = await cli(['dns', 'check', 'uni.example']);
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(/^MISSING uni\.example MX/m);
    const records = JSON.parse((await cli(['dns', 'zone', 'uni.example', '--json'])).stdout) as Array<{
      name: string;
      type: string;
      value: string;
    }>;
    const txt: Record<string, string[]> = {};
    for (const r of records.filter((x) => x.type === 'TXT')) txt[r.name] = [...(txt[r.name] ?? []), r.value];
    // dnsmasq cannot serve CNAME/SRV/MX to hosts it does not know the way BIND does; TXT and MX are enough to
    // see the check tell published from missing.
    await dns.restart({
      local: ['example'],
      MX: { 'uni.example': [{ priority: 10, exchange: 'mx1.delegato.test' }] },
      TXT: txt,
    });
    const after = await cli(['dns', 'check', 'uni.example', '--json']);
    const checks = JSON.parse(after.stdout) as Array<{ name: string; type: string; ok: boolean }>;
    for (const c of checks.filter((x) => x.type === 'TXT' || x.type === 'MX'))
      expect(c, JSON.stringify(c)).toMatchObject({ ok: true });
    expect(checks.filter((c) => !c.ok).every((c) => c.type === 'CNAME' || c.type === 'SRV')).toBe(true);
  }, 60_000);
});
