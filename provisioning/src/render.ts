/**
 * Every file a region's host needs, rendered from its region file: the region file itself, the `delegato`
 * launcher, the systemd units (appliance and backup timer), log rotation and the nftables rules. Pure:
 * the same region file gives the same bytes, which is what makes re-running the provisioning a no-op.
 */
import { parse } from 'yaml';

/** Where things live on a provisioned host. */
export const LAYOUT = {
  user: 'delegato',
  group: 'delegato',
  appDir: '/opt/delegato',
  configDir: '/etc/delegato',
  regionFile: '/etc/delegato/region.yaml',
  certificatesDir: '/etc/delegato/certificates',
  dataDir: '/var/lib/delegato',
  logDir: '/var/log/delegato',
  backupDir: '/var/backups/delegato',
  launcher: '/usr/local/sbin/delegato',
  unitDir: '/etc/systemd/system',
  firewallFile: '/etc/delegato/firewall.nft',
  nftablesConf: '/etc/nftables.conf',
} as const;

/** Snapshots the backup timer keeps. */
export const BACKUP_KEEP = 14;

export interface RenderedFile {
  path: string;
  content: string;
  mode: number;
  owner: string;
  group: string;
}

export interface RenderedDir {
  path: string;
  mode: number;
  owner: string;
  group: string;
}

/** The parts of a region file the host set-up depends on (the appliance validates the whole file). */
export interface RegionFacts {
  id: string;
  name: string;
  ports: Record<string, number>;
  dataDir: string;
  logFile: string | undefined;
  hub: boolean;
  adminNetworks: string[];
  /** The other regions' federation entries. */
  peers: Array<{ region: string; host: string }>;
  /** This region's own address in federation.peers (the name other regions reach it by). */
  selfHost: string | undefined;
  acme: boolean;
}

const DEFAULT_PORTS: Record<string, number> = {
  smtp: 2525,
  submission: 2587,
  submissions: 2465,
  imap: 2143,
  imaps: 2993,
  pop3: 2110,
  pop3s: 2995,
  admin: 8443,
  web: 8444,
  http: 2080,
  federation: 2466,
  proxy: 2468,
  sync: 2467,
};

type Yaml = Record<string, unknown>;
const section = (doc: Yaml, key: string): Yaml => {
  const value = doc[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Yaml) : {};
};

function peersOf(value: unknown): Array<{ region: string; host: string }> {
  if (Array.isArray(value))
    return value.map((p) => ({ region: String((p as Yaml).region), host: String((p as Yaml).host) }));
  if (value !== null && typeof value === 'object')
    return Object.entries(value as Yaml).map(([region, target]) => ({
      region,
      host:
        typeof target === 'string'
          ? (target.replace(/^\[([^\]]+)\].*$/, '$1').split(':')[0] ?? target)
          : String((target as Yaml).host),
    }));
  return [];
}

export function regionFacts(text: string): RegionFacts {
  const doc = (parse(text) ?? {}) as Yaml;
  const region = section(doc, 'region');
  const federation = section(doc, 'federation');
  const admin = section(doc, 'admin');
  const ports = { ...DEFAULT_PORTS };
  for (const [name, port] of Object.entries(section(doc, 'port'))) ports[name] = Number(port);
  const id = String(region.id ?? 'local');
  const peers = peersOf(federation.peers);
  const networks = String(admin.allowedNetworks ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  return {
    id,
    name: String(region.name ?? id),
    ports,
    dataDir: String(section(doc, 'data').dir ?? LAYOUT.dataDir),
    logFile: section(doc, 'log').file === undefined ? undefined : String(section(doc, 'log').file),
    hub: federation.hub === true,
    adminNetworks: networks,
    peers: peers.filter((p) => p.region !== id),
    selfHost: peers.find((p) => p.region === id)?.host,
    acme: section(doc, 'acme').directoryUrl !== undefined,
  };
}

const HARDENING = [
  '# Hardening (systemd.exec(5)): a read-only system, only the data and log directories writable,',
  '# and no privilege but binding ports below 1024.',
  'NoNewPrivileges=yes',
  'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
  'AmbientCapabilities=CAP_NET_BIND_SERVICE',
  'ProtectSystem=strict',
  'ProtectHome=yes',
  'PrivateTmp=yes',
  'PrivateDevices=yes',
  'ProtectKernelTunables=yes',
  'ProtectKernelModules=yes',
  'ProtectKernelLogs=yes',
  'ProtectControlGroups=yes',
  'ProtectClock=yes',
  'ProtectHostname=yes',
  'ProtectProc=invisible',
  'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
  'RestrictNamespaces=yes',
  'RestrictRealtime=yes',
  'RestrictSUIDSGID=yes',
  'LockPersonality=yes',
  'SystemCallArchitectures=native',
  'SystemCallFilter=@system-service',
  'SystemCallErrorNumber=EPERM',
  'UMask=0027',
];

function applianceUnit(facts: RegionFacts): string {
  return [
    '# Rendered by provisioning/ (npm run provision); edit regions/<id>.yaml and provision again.',
    '[Unit]',
    `Description=Delegato mail appliance, region ${facts.id}`,
    'Documentation=file:///opt/delegato/docs/provisioning.md',
    'After=network-online.target nftables.service',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${LAYOUT.user}`,
    `Group=${LAYOUT.group}`,
    `WorkingDirectory=${facts.dataDir}`,
    `ExecStart=${LAYOUT.launcher} start --config ${LAYOUT.regionFile}`,
    'Restart=on-failure',
    'RestartSec=5',
    // The appliance's own shutdown deadline is 10 s (SHUTDOWN_DEADLINE_MS).
    'TimeoutStopSec=30',
    'LimitNOFILE=65536',
    `ReadWritePaths=${[...new Set([facts.dataDir, LAYOUT.logDir])].join(' ')}`,
    ...HARDENING,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

function backupService(facts: RegionFacts): string {
  return [
    '# Rendered by provisioning/: one snapshot of the data dir (delegato backup, docs/provisioning.md).',
    '[Unit]',
    `Description=Delegato backup, region ${facts.id}`,
    'Documentation=file:///opt/delegato/docs/provisioning.md',
    'After=delegato.service',
    '',
    '[Service]',
    'Type=oneshot',
    `User=${LAYOUT.user}`,
    `Group=${LAYOUT.group}`,
    `ExecStart=${LAYOUT.launcher} backup ${LAYOUT.backupDir} --keep ${BACKUP_KEEP} --config ${LAYOUT.regionFile}`,
    `ReadWritePaths=${[...new Set([facts.dataDir, LAYOUT.backupDir])].join(' ')}`,
    ...HARDENING.filter((line) => !line.includes('CAP_NET_BIND_SERVICE')),
    'CapabilityBoundingSet=',
    'Nice=10',
    'IOSchedulingClass=idle',
    '',
  ].join('\n');
}

function backupTimer(facts: RegionFacts): string {
  return [
    '# Rendered by provisioning/: the daily backup of the region.',
    '[Unit]',
    `Description=Daily Delegato backup, region ${facts.id}`,
    '',
    '[Timer]',
    'OnCalendar=*-*-* 02:30:00',
    'RandomizedDelaySec=15m',
    'Persistent=true',
    'Unit=delegato-backup.service',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

function logrotate(facts: RegionFacts): string {
  const files = [`${LAYOUT.logDir}/*.log`];
  if (facts.logFile && !facts.logFile.startsWith(`${LAYOUT.logDir}/`)) files.push(facts.logFile);
  return [
    '# Rendered by provisioning/: the appliance keeps its log file open, hence copytruncate.',
    `${files.join(' ')} {`,
    '  daily',
    '  rotate 30',
    '  maxsize 500M',
    '  missingok',
    '  notifempty',
    '  compress',
    '  delaycompress',
    '  copytruncate',
    `  su ${LAYOUT.user} adm`,
    `  create 0640 ${LAYOUT.user} adm`,
    '}',
    '',
  ].join('\n');
}

const PUBLIC_PORTS = ['smtp', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s', 'web'];

/**
 * The nftables rules (table inet delegato, its own table beside the system's): mail and web ports open to
 * all, the admin port to admin.allowedNetworks, the federation ports to the other regions only, SSH,
 * ICMP, loopback and established traffic; everything else inbound dropped. Loaded with `nft -f`, it
 * replaces the table as a whole (the create-then-delete idiom), so loading it twice changes nothing.
 */
export function firewallRules(facts: RegionFacts): string {
  const p = facts.ports;
  const open = PUBLIC_PORTS.map((name) => p[name]).filter((n): n is number => n !== undefined && n > 0);
  if (facts.acme && (p.http ?? 0) > 0) open.push(p.http as number);
  const federationPorts = ['federation', 'proxy', 'sync']
    .map((name) => p[name])
    .filter((n): n is number => n !== undefined && n > 0);
  const v4 = (list: string[]) => list.filter((a) => !a.includes(':'));
  const v6 = (list: string[]) => list.filter((a) => a.includes(':'));
  const peers = [...new Set(facts.peers.map((peer) => peer.host))];
  const lines = [
    '#!/usr/sbin/nft -f',
    `# Rendered by provisioning/ for region ${facts.id}: edit regions/${facts.id}.yaml and provision again.`,
    'table inet delegato',
    'delete table inet delegato',
    'table inet delegato {',
    '  chain input {',
    '    type filter hook input priority filter; policy drop;',
    '    ct state established,related accept',
    '    ct state invalid drop',
    '    iif lo accept',
    '    meta l4proto { icmp, ipv6-icmp } accept',
    '    tcp dport 22 accept',
    `    tcp dport { ${[...new Set(open)].sort((a, b) => a - b).join(', ')} } accept`,
  ];
  const admin = p.admin ?? 0;
  if (admin > 0) {
    if (facts.adminNetworks.length === 0) lines.push(`    tcp dport ${admin} accept`);
    else {
      if (v4(facts.adminNetworks).length > 0)
        lines.push(`    ip saddr { ${v4(facts.adminNetworks).join(', ')} } tcp dport ${admin} accept`);
      if (v6(facts.adminNetworks).length > 0)
        lines.push(`    ip6 saddr { ${v6(facts.adminNetworks).join(', ')} } tcp dport ${admin} accept`);
    }
  }
  if (federationPorts.length > 0) {
    const ports = `{ ${[...new Set(federationPorts)].sort((a, b) => a - b).join(', ')} }`;
    const ipv4 = peers.filter((h) => /^\d{1,3}(\.\d{1,3}){3}$/.test(h));
    const ipv6 = peers.filter((h) => h.includes(':'));
    const named = peers.filter((h) => !ipv4.includes(h) && !ipv6.includes(h));
    if (ipv4.length > 0) lines.push(`    ip saddr { ${ipv4.join(', ')} } tcp dport ${ports} accept`);
    if (ipv6.length > 0) lines.push(`    ip6 saddr { ${ipv6.join(', ')} } tcp dport ${ports} accept`);
    // Peers named by host name cannot be matched by address in a static rule set: open to all, the
    // federation listeners accept federation certificates only (decision 0008).
    if (named.length > 0) lines.push(`    tcp dport ${ports} accept # peers by name: ${named.join(', ')}`);
  }
  lines.push('  }', '}', '');
  return lines.join('\n');
}

function launcher(): string {
  return [
    '#!/bin/sh',
    '# Rendered by provisioning/: the delegato command with the Node.js the appliance pins (node@24).',
    `exec ${LAYOUT.appDir}/node_modules/.bin/node ${LAYOUT.appDir}/appliance/bin/delegato.mjs "$@"`,
    '',
  ].join('\n');
}

export function renderRegion(regionText: string): { files: RenderedFile[]; dirs: RenderedDir[] } {
  const facts = regionFacts(regionText);
  const root = { owner: 'root', group: 'root' };
  const files: RenderedFile[] = [
    { path: LAYOUT.regionFile, content: regionText, mode: 0o640, owner: 'root', group: LAYOUT.group },
    { path: LAYOUT.launcher, content: launcher(), mode: 0o755, ...root },
    { path: `${LAYOUT.unitDir}/delegato.service`, content: applianceUnit(facts), mode: 0o644, ...root },
    {
      path: `${LAYOUT.unitDir}/delegato-backup.service`,
      content: backupService(facts),
      mode: 0o644,
      ...root,
    },
    { path: `${LAYOUT.unitDir}/delegato-backup.timer`, content: backupTimer(facts), mode: 0o644, ...root },
    { path: '/etc/logrotate.d/delegato', content: logrotate(facts), mode: 0o644, ...root },
    { path: LAYOUT.firewallFile, content: firewallRules(facts), mode: 0o640, ...root },
  ];
  const dirs: RenderedDir[] = [
    { path: LAYOUT.configDir, mode: 0o750, owner: 'root', group: LAYOUT.group },
    { path: LAYOUT.certificatesDir, mode: 0o750, owner: 'root', group: LAYOUT.group },
    // 0700: the appliance sets it at every start (data-dir.ts).
    { path: facts.dataDir, mode: 0o700, owner: LAYOUT.user, group: LAYOUT.group },
    { path: LAYOUT.logDir, mode: 0o750, owner: LAYOUT.user, group: 'adm' },
    { path: LAYOUT.backupDir, mode: 0o700, owner: LAYOUT.user, group: LAYOUT.group },
  ];
  return { files, dirs };
}
