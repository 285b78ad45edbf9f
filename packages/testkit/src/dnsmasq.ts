/**
 * Debian's dnsmasq on a loopback port as an authoritative test DNS server for records the tiny testkit
 * server (dns-server.ts) does not write: TXT (SPF, DKIM, DMARC, MTA-STS, TLS-RPT), over UDP and TCP (a
 * 2048-bit DKIM key answer needs more than 512 bytes without EDNS, which some verifiers do not send).
 * Names under `local` domains that are not listed answer NXDOMAIN (dnsmasq `--local`), as a real zone
 * does; anything else is refused. dnsmasq reads its records at start, so `restart(records)` starts it again
 * on the same port with new ones. dnsmasq is installed by `.ci/setup-test-deps.mjs` (dnsmasq-base); without
 * it this throws (tests fail, they do not skip).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { existsSync } from 'node:fs';

const DNSMASQ = '/usr/sbin/dnsmasq';

export interface DnsmasqRecords {
  /** Domains whose unlisted names answer NXDOMAIN. */
  local: string[];
  /** name → IPv4 address (`--host-record`: the name only, not its subdomains). */
  A?: Record<string, string>;
  /** domain → MX records. */
  MX?: Record<string, Array<{ priority: number; exchange: string }>>;
  /** name → TXT record(s); each record's text is split into character-strings of at most 255 bytes. */
  TXT?: Record<string, string | string[]>;
}

export interface RunningDnsmasq {
  port: number;
  /** `127.0.0.1:port`, for `dns.servers` / DELEGATO_DNS_SERVERS. */
  server: string;
  /** Starts dnsmasq again on the same port with these records. */
  restart(records: DnsmasqRecords): Promise<void>;
  close(): Promise<void>;
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A TXT character-string as a dnsmasq argument: commas separate strings there, so none may be in it. */
function plain(text: string): string {
  if (text.includes(',')) throw new Error(`dnsmasq TXT records cannot contain commas: ${text}`);
  return text;
}

function args(records: DnsmasqRecords): string[] {
  const out: string[] = [];
  for (const d of records.local) out.push(`--local=/${d}/`);
  for (const [name, ip] of Object.entries(records.A ?? {})) out.push(`--host-record=${name},${ip}`);
  for (const [domain, mxs] of Object.entries(records.MX ?? {}))
    for (const mx of mxs) out.push(`--mx-host=${domain},${mx.exchange},${mx.priority}`);
  for (const [name, value] of Object.entries(records.TXT ?? {}))
    for (const text of [value].flat()) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += 255) chunks.push(plain(text.slice(i, i + 255)));
      out.push(`--txt-record=${name},${chunks.join(',')}`);
    }
  return out;
}

async function spawnOn(port: number, records: DnsmasqRecords): Promise<ChildProcess> {
  const child = spawn(
    DNSMASQ,
    [
      '--no-daemon',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      '--no-poll',
      '--cache-size=0',
      '--pid-file=',
      ...args(records),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const probe = new Resolver({ timeout: 200, tries: 1 });
  probe.setServers([`127.0.0.1:${port}`]);
  const name = `probe-${port}.${records.local[0] ?? 'invalid'}`;
  for (let i = 0; i < 50 && child.exitCode === null; i++) {
    try {
      await probe.resolveTxt(name);
      return child;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EREFUSED') return child;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (child.exitCode === null) child.kill('SIGTERM');
  throw new Error(`dnsmasq did not start on port ${port}: ${stderr}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Starts dnsmasq on 127.0.0.1 (a free port unless given) with `records`. */
export async function startDnsmasq(
  records: DnsmasqRecords,
  opts: { port?: number } = {},
): Promise<RunningDnsmasq> {
  if (!existsSync(DNSMASQ))
    throw new Error(
      `${DNSMASQ} is missing: install the Debian package dnsmasq-base (.ci/setup-test-deps.mjs)`,
    );
  let port = opts.port ?? 0;
  let child: ChildProcess | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    const tryPort = port || (await freeUdpPort());
    try {
      child = await spawnOn(tryPort, records);
      port = tryPort;
    } catch (err) {
      lastError = err;
      if (opts.port) break;
    }
  }
  if (!child) throw lastError instanceof Error ? lastError : new Error('dnsmasq did not start');
  let current: ChildProcess = child;
  return {
    port,
    server: `127.0.0.1:${port}`,
    async restart(next) {
      await stop(current);
      current = await spawnOn(port, next);
    },
    close: () => stop(current),
  };
}
