/**
 * The local lab's layout (docs/federation.md, "Trying it: the lab"): three regions on loopback addresses
 * of their own, north running the hub and being the writer, everything under one directory:
 *
 *   <dir>/lab.json               members, PIDs, ports, operator passwords (0600)
 *   <dir>/<region>/              the region's data dir (DELEGATO_DATA_DIR for its CLI)
 *   <dir>/<region>/region.yaml   its region file (`delegato start --config` it)
 *   <dir>/<region>/lab.log       the appliance's standard output and error
 *   <dir>/north/hub/             the hub's database and tursodb.pid
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LAB_REGIONS = ['north', 'central', 'south'] as const;
export type LabRegion = (typeof LAB_REGIONS)[number];

export const LAB_HOSTS: Record<LabRegion, string> = {
  north: '127.0.1.1',
  central: '127.0.2.1',
  south: '127.0.3.1',
};

/** The region that runs the hub and is the writer. */
export const LAB_HUB_REGION: LabRegion = 'north';

export const MAIL_PORTS = [
  'smtp',
  'submission',
  'submissions',
  'imap',
  'imaps',
  'pop3',
  'pop3s',
  'admin',
  'web',
  'federation',
] as const;

export type LabPorts = Record<(typeof MAIL_PORTS)[number], number> & { sync?: number };

export interface LabRegionEntry {
  host: string;
  /** The appliance process (`delegato start`); null while stopped. */
  pid: number | null;
  /** `sync`: the region's federation API (decision 0011); north's is also the hub's sync gateway. */
  ports: LabPorts;
  dataDir: string;
  operator: { username: string; password: string };
}

export interface LabFile {
  /** The hub: its sync gateway's URL (what the other regions use) and the tursodb PID (null: stopped). */
  hub: { url: string; pid: number | null };
  writer: LabRegion;
  regions: Record<LabRegion, LabRegionEntry>;
}

export function labFile(dir: string): string {
  return join(dir, 'lab.json');
}

export function regionDir(dir: string, region: LabRegion): string {
  return join(dir, region);
}

export function regionFile(dir: string, region: LabRegion): string {
  return join(dir, region, 'region.yaml');
}

export function logFile(dir: string, region: LabRegion): string {
  return join(dir, region, 'lab.log');
}

export function hubDbFile(dir: string): string {
  return join(dir, LAB_HUB_REGION, 'hub', 'hub.db');
}

export function hubPidFile(dir: string): string {
  return join(dir, LAB_HUB_REGION, 'hub', 'tursodb.pid');
}

export function isLabRegion(name: string): name is LabRegion {
  return (LAB_REGIONS as readonly string[]).includes(name);
}

export function readLab(dir: string): LabFile | undefined {
  const file = labFile(dir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as LabFile;
}

/** Writes lab.json atomically (0600: it holds the operators' passwords). */
export function writeLab(dir: string, lab: LabFile): void {
  const file = labFile(dir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(lab, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

export function randomLabPassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * The region file of a lab region: its address, ports, data dir (the file's own directory) and federation
 * keys; `peers` (every region's federation listener and API, region -> its entry as YAML) becomes
 * `federation.peers`.
 */
export function regionYaml(
  region: LabRegion,
  ports: LabPorts,
  hubUrl: string,
  peers: Record<string, string> = {},
): string {
  const isHub = region === LAB_HUB_REGION;
  const lines = [
    '# Written by `delegato lab up`: one region of the local lab (docs/federation.md).',
    'region:',
    `  id: ${region}`,
    `  name: Lab region ${region}`,
    `listen: ${LAB_HOSTS[region]}`,
    'data:',
    '  dir: .',
    'port:',
    ...MAIL_PORTS.map((name) => `  ${name}: ${ports[name]}`),
    ...(ports.sync !== undefined ? [`  sync: ${ports.sync}`] : []),
    'smtp:',
    `  hostname: ${region}.lab.invalid`,
    'federation:',
    ...(isHub
      ? ['  hub: true', `  hubRegion: ${region}`]
      : [`  hubRegion: ${LAB_HUB_REGION}`, `  hubUrl: ${hubUrl}`]),
    ...(Object.keys(peers).length > 0
      ? ['  peers:', ...Object.entries(peers).map(([name, target]) => `    ${name}: ${target}`)]
      : []),
    'log:',
    '  level: info',
    '',
  ];
  return lines.join('\n');
}

/** `appliance/bin/delegato.mjs`, from the sources (src/lab) or the compiled output (dist/src/lab). */
export function delegatoBin(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'bin', 'delegato.mjs');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('cannot find bin/delegato.mjs of the appliance package');
}

export function absoluteDir(dir: string, cwd: string): string {
  return resolve(cwd, dir);
}
