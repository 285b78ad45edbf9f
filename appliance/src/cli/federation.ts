/**
 * `delegato federation ...`: the federation PKI set-up steps and the federation's state (docs/cli.md,
 * docs/federation.md). `init`, `issue`, `join` and `status` work on the data dir directly (set-up steps
 * done before the appliance runs); `join` refuses while an appliance runs on the data dir (it replaces
 * what the appliance has loaded). `hub stop | start | status` go to the running appliance of the hub
 * region over the control socket.
 *
 * Exit status as for the other commands: 0 success; 2 bad input, usage or a refused operation (a CA
 * already there, no CA, a bundle of another federation or region, a different federation key), one
 * `delegato: ...` line on stderr and nothing changed; 1 any other failure (an appliance runs where that
 * matters, none runs for `hub`, I/O).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { FederationKey } from '@delegato/directory';
import {
  createFederationCa,
  federationPaths,
  installRegionBundle,
  issueRegionBundle,
  PkiError,
  readFederationKey,
  readRegionBundle,
  verifyPeerCertificate,
  writeRegionBundle,
} from '@delegato/federation';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { NoApplianceError, sendControlRequest } from '../control/client.js';
import { controlSocketPath } from '../control/paths.js';
import { dataPaths, ensureDataDir } from '../data-dir.js';
import type { RunningFederationState } from '../services/federation.js';
import { type CommandResult, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './commands.js';

export const FEDERATION_USAGE = [
  'federation init [--host <name>]...',
  'federation issue <region> [--host <name>]... --out <file>',
  'federation join <bundle> [--replace-key]',
  'federation status [--json]',
  'federation hub stop|start|status [--json]',
  'federation writer <region> [--takeover] [--json]',
  'federation revoke <region> [--reason <text>] [--json]',
];

const usage = () => `usage: ${FEDERATION_USAGE.map((u) => `delegato ${u}`).join(' | ')}`;

/** A refusal that is the operator's to fix (exit 1): an appliance runs, or none runs. */
class Refused extends Error {}

/** `delegato federation ...`; prints and returns the exit status. */
export async function runFederation(argv: string[]): Promise<number> {
  const result = await federationCommand(argv, process.env, process.cwd());
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  return result.code;
}

/** The command, without printing (tests and the lab call it). */
export async function federationCommand(
  argv: string[],
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<CommandResult> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        json: { type: 'boolean' },
        host: { type: 'string', multiple: true },
        out: { type: 'string' },
        'replace-key': { type: 'boolean' },
        takeover: { type: 'boolean' },
        reason: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    const words = positionals.slice(positionals.indexOf('federation') + 1);
    const [sub, ...args] = words;
    const config = loadConfig({ file: values.config, env, cwd });
    const hosts = values.host ?? [];
    const json = values.json === true;
    const only = (allowed: string[]) => {
      for (const [key, value] of Object.entries(values)) {
        if (value !== undefined && key !== 'config' && !allowed.includes(key)) {
          throw new UsageError(`--${key} does not apply to federation ${sub}; ${usage()}`);
        }
      }
    };
    switch (sub) {
      case 'init': {
        only(['host', 'json']);
        if (args.length !== 0) throw new UsageError(usage());
        return done(json, ...(await init(config, hosts)));
      }
      case 'issue': {
        only(['host', 'out', 'json']);
        if (args.length !== 1 || !args[0]) throw new UsageError(`wrong number of arguments; ${usage()}`);
        if (!values.out) throw new UsageError(`federation issue needs --out <file>; ${usage()}`);
        return done(json, ...(await issue(config, args[0], hosts, values.out, cwd)));
      }
      case 'join': {
        only(['replace-key', 'json']);
        if (args.length !== 1 || !args[0]) throw new UsageError(`wrong number of arguments; ${usage()}`);
        return done(json, ...(await join(config, args[0], values['replace-key'] === true, cwd)));
      }
      case 'status': {
        only(['json']);
        if (args.length !== 0) throw new UsageError(usage());
        const state = await federationStatus(config);
        return done(json, statusText(state), state);
      }
      case 'hub': {
        only(['json']);
        if (args.length !== 1 || !['stop', 'start', 'status'].includes(args[0] ?? '')) {
          throw new UsageError(usage());
        }
        return await viaAppliance(config, [
          'federation',
          'hub',
          args[0] as string,
          ...(json ? ['--json'] : []),
        ]);
      }
      case 'writer': {
        // Moves the directory writer role (decision 0011): the running appliance asks the current writer.
        only(['json', 'takeover']);
        if (args.length !== 1 || !args[0]) throw new UsageError(`wrong number of arguments; ${usage()}`);
        return await viaAppliance(config, [
          'federation',
          'writer',
          args[0],
          ...(values.takeover ? ['--takeover'] : []),
          ...(json ? ['--json'] : []),
        ]);
      }
      case 'revoke': {
        // Revokes a region's certificates (decision 0013): the running appliance asks the writer.
        only(['json', 'reason']);
        if (args.length !== 1 || !args[0]) throw new UsageError(`wrong number of arguments; ${usage()}`);
        return await viaAppliance(config, [
          'federation',
          'revoke',
          args[0],
          ...(values.reason !== undefined ? [`--reason=${values.reason}`] : []),
          ...(json ? ['--json'] : []),
        ]);
      }
      default:
        throw new UsageError(sub === undefined ? usage() : `unknown command "federation ${sub}"; ${usage()}`);
    }
  } catch (err) {
    const { code, message } = describe(err);
    return { code, stdout: '', stderr: `delegato: ${oneLine(message)}\n` };
  }
}

function done(json: boolean, text: string, value: unknown): CommandResult {
  return { code: EXIT_OK, stdout: json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`, stderr: '' };
}

function describe(err: unknown): { code: number; message: string } {
  if (err instanceof UsageError || err instanceof PkiError) return { code: EXIT_USAGE, message: err.message };
  if (err instanceof Error && err.name === 'ConfigError') return { code: EXIT_USAGE, message: err.message };
  if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
    return { code: EXIT_USAGE, message: `${err.message}; ${usage()}` };
  }
  if (err instanceof Refused) return { code: EXIT_FAILURE, message: err.message };
  return { code: EXIT_FAILURE, message: err instanceof Error ? err.message : String(err) };
}

function oneLine(message: string): string {
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ');
}

/** True when an appliance answers on the data dir's control socket. */
export async function applianceRuns(config: Config): Promise<boolean> {
  try {
    await sendControlRequest(controlSocketPath(config.data.dir), dataPaths(config.data.dir).controlToken, {
      user: userInfo().username,
      argv: ['federation', 'state'],
    });
    return true;
  } catch (err) {
    if (err instanceof NoApplianceError) return false;
    return true; // something listens but did not answer as expected: do not touch the data dir under it
  }
}

async function viaAppliance(config: Config, argv: string[]): Promise<CommandResult> {
  try {
    return await sendControlRequest(
      controlSocketPath(config.data.dir),
      dataPaths(config.data.dir).controlToken,
      {
        user: userInfo().username,
        argv,
      },
    );
  } catch (err) {
    if (err instanceof NoApplianceError) {
      throw new Refused(
        `no appliance is running on ${config.data.dir}; the hub runs inside the hub region's appliance`,
      );
    }
    throw err;
  }
}

/** Certificate facts for status and the commands' output. */
function certificateFacts(pem: string) {
  const cert = new X509Certificate(pem);
  const notAfter = new Date(cert.validTo);
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - Date.now()) / 86_400_000),
    names: (cert.subjectAltName ?? '').split(', ').filter(Boolean),
    fingerprint: cert.fingerprint256,
  };
}

/** A short digest that tells whether two regions hold the same federation key, without showing it. */
function keyFingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * `federation init`: the CA in this data dir, this region's certificate issued and installed, and this
 * region's federation key (created now if the data dir has none) kept as the federation-wide key.
 */
export async function init(config: Config, hosts: string[]): Promise<[string, unknown]> {
  const dataDir = config.data.dir;
  ensureDataDir(dataDir);
  const paths = federationPaths(dataDir);
  if (existsSync(paths.caKey) || existsSync(paths.caCert)) {
    throw new PkiError(
      'exists',
      `a federation CA already exists in ${paths.dir}; a second one would split the federation`,
    );
  }
  if (existsSync(paths.regionCert)) {
    throw new PkiError('exists', `${paths.regionCert} exists: this region already joined a federation`);
  }
  FederationKey.loadOrCreate(paths.federationKey);
  const federationKey = await readFederationKey(dataDir);
  await createFederationCa(dataDir);
  const bundle = await issueRegionBundle(dataDir, { region: config.region.id, hosts, federationKey });
  await installRegionBundle(dataDir, bundle);
  const cert = certificateFacts(bundle.certPem);
  const ca = certificateFacts(bundle.caCertPem);
  return [
    [
      `federation CA created in ${paths.dir} (valid until ${ca.notAfter.slice(0, 10)}; keep ca-key.pem safe)`,
      `region ${config.region.id}: certificate installed (valid until ${cert.notAfter.slice(0, 10)})`,
      `federation key: ${paths.federationKey} (fingerprint ${keyFingerprint(federationKey)}), carried to every region by its bundle`,
      'next: `delegato federation issue <region> --out <file>` for each other region',
    ].join('\n'),
    {
      ca: { dir: paths.dir, notAfter: ca.notAfter },
      region: config.region.id,
      certificate: { notAfter: cert.notAfter, names: cert.names },
      federationKey: { file: paths.federationKey, fingerprint: keyFingerprint(federationKey) },
    },
  ];
}

/** `federation issue <region>`: a bundle for another region, written to `out` (0600, never overwritten). */
export async function issue(
  config: Config,
  region: string,
  hosts: string[],
  out: string,
  cwd: string,
): Promise<[string, unknown]> {
  const dataDir = config.data.dir;
  const federationKey = await readFederationKey(dataDir).catch(() => {
    throw new PkiError('missing', `no federation key in ${dataDir} (run \`delegato federation init\` there)`);
  });
  const bundle = await issueRegionBundle(dataDir, { region, hosts, federationKey });
  const file = resolvePath(cwd, out);
  await writeRegionBundle(file, bundle);
  const cert = certificateFacts(bundle.certPem);
  return [
    `wrote ${file}: bundle for region ${region} (certificate valid until ${cert.notAfter.slice(0, 10)}; names ${cert.names.join(', ')}); it holds the region's key and the federation key: carry it safely, then \`delegato federation join ${out}\` there`,
    { file, region, certificate: { notAfter: cert.notAfter, names: cert.names } },
  ];
}

/** `federation join <bundle>`: installs a bundle into this data dir; refused while an appliance runs on it. */
export async function join(
  config: Config,
  file: string,
  replaceKey: boolean,
  cwd: string,
): Promise<[string, unknown]> {
  const path = resolvePath(cwd, file);
  const bundle = await readRegionBundle(path).catch((err: unknown) => {
    if (err instanceof PkiError) throw err;
    throw new PkiError('invalid', `cannot read the bundle ${path}: ${(err as Error).message}`);
  });
  if (bundle.region !== config.region.id) {
    throw new PkiError(
      'invalid',
      `the bundle is for region ${bundle.region}, but this region is ${config.region.id} (region.id; give --config <region file>)`,
    );
  }
  if (await applianceRuns(config)) {
    throw new Refused(
      `an appliance is running on ${config.data.dir}: stop it first (joining replaces the certificates and the federation key it has loaded)`,
    );
  }
  ensureDataDir(config.data.dir);
  try {
    await installRegionBundle(config.data.dir, bundle, { replaceKey });
  } catch (err) {
    if (err instanceof PkiError && err.code === 'key-conflict') {
      throw new PkiError(
        'key-conflict',
        `${err.message}: give --replace-key to replace it (this region's own sealed secrets, CRAM-MD5 and TOTP, become unreadable; the replicated directory brings the federation's)`,
      );
    }
    throw err;
  }
  const cert = certificateFacts(bundle.certPem);
  return [
    `region ${bundle.region} joined the federation: certificate valid until ${cert.notAfter.slice(0, 10)}, federation key fingerprint ${keyFingerprint(bundle.federationKey)}`,
    {
      region: bundle.region,
      certificate: { notAfter: cert.notAfter, names: cert.names },
      federationKey: { fingerprint: keyFingerprint(bundle.federationKey) },
    },
  ];
}

function resolvePath(cwd: string, file: string): string {
  return file.startsWith('/') ? file : `${cwd.replace(/\/$/, '')}/${file}`;
}

export interface FederationStatus {
  region: string;
  dataDir: string;
  ca: { present: boolean; holdsKey: boolean; subject?: string; notAfter?: string };
  certificate: {
    present: boolean;
    region?: string;
    notAfter?: string;
    daysLeft?: number;
    names?: string[];
    problem?: string;
  };
  federationKey: { present: boolean; fingerprint?: string };
  config: RunningFederationState['config'];
  appliance: { running: boolean };
  hub: RunningFederationState['hub'] | { state: 'not this region' } | { state: 'appliance not running' };
  replication: {
    /** `replicating`, `hub unreachable`, `waiting for the writer's schema`, `standalone`, `appliance not running` */
    state: string;
    lastPull: string | null;
    lagMs: number | null;
    writerReachable: boolean | null;
  } & Partial<NonNullable<RunningFederationState['replication']>>;
}

/** What exists now: CA, region certificate, federation key, configuration, the hub when this region runs it. */
export async function federationStatus(config: Config): Promise<FederationStatus> {
  const dataDir = config.data.dir;
  const paths = federationPaths(dataDir);
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  };
  let running: RunningFederationState | undefined;
  try {
    const res = await sendControlRequest(controlSocketPath(dataDir), dataPaths(dataDir).controlToken, {
      user: userInfo().username,
      argv: ['federation', 'state'],
    });
    if (res.code === EXIT_OK) running = JSON.parse(res.stdout) as RunningFederationState;
  } catch {
    running = undefined;
  }
  const region = running?.region ?? config.region.id;
  const caPem = read(paths.caCert);
  const certPem = read(paths.regionCert);
  const keyText = read(paths.federationKey);
  const ca: FederationStatus['ca'] = { present: caPem !== undefined, holdsKey: existsSync(paths.caKey) };
  if (caPem) {
    const facts = certificateFacts(caPem);
    ca.subject = facts.subject;
    ca.notAfter = facts.notAfter;
  }
  const certificate: FederationStatus['certificate'] = { present: certPem !== undefined };
  if (certPem) {
    const facts = certificateFacts(certPem);
    Object.assign(certificate, { notAfter: facts.notAfter, daysLeft: facts.daysLeft, names: facts.names });
    try {
      if (!caPem) throw new Error('no CA certificate to check it against');
      certificate.region = verifyPeerCertificate(certPem, caPem).region;
      if (certificate.region !== region) {
        certificate.problem = `issued for region ${certificate.region}, but this region is ${region}`;
      }
    } catch (err) {
      certificate.problem = (err as Error).message;
    }
  }
  const federationKey: FederationStatus['federationKey'] = { present: keyText !== undefined };
  if (keyText) federationKey.fingerprint = keyFingerprint(Buffer.from(keyText.trim(), 'base64'));

  const configured: RunningFederationState['config'] = running?.config ?? {
    hub: config.federation.hub,
    hubRegion: config.federation.hubRegion ?? (config.federation.hub ? config.region.id : null),
    hubUrl: config.federation.hubUrl ?? null,
    syncUrl: config.directory.syncUrl ?? null,
  };
  return {
    region,
    dataDir,
    ca,
    certificate,
    federationKey,
    config: configured,
    appliance: { running: running !== undefined },
    hub: running
      ? (running.hub ?? { state: 'not this region' })
      : configured.hub
        ? { state: 'appliance not running' }
        : { state: 'not this region' },
    replication: replicationStatus(running),
  };
}

/** The running appliance's replication state (services/federation-directory.ts), for `federation status`. */
function replicationStatus(running: RunningFederationState | undefined): FederationStatus['replication'] {
  const none = { lastPull: null, lagMs: null, writerReachable: null };
  if (!running) return { state: 'appliance not running', ...none };
  const r = running.replication;
  if (!r) return { state: 'standalone (no replication configured)', ...none };
  const state =
    r.waitingForSchema.length > 0
      ? `waiting for the writer's schema (missing ${r.waitingForSchema.join(', ')})`
      : r.pullError
        ? `hub unreachable (${r.pullError})`
        : r.lastPullAt
          ? 'replicating'
          : 'starting';
  return { state, ...r, lastPull: r.lastPullAt };
}

function statusText(s: FederationStatus): string {
  const lines = [`region ${s.region} (data dir ${s.dataDir})`];
  lines.push(
    s.ca.present
      ? `  CA: ${s.ca.subject}, valid until ${s.ca.notAfter?.slice(0, 10)}${s.ca.holdsKey ? ' (the CA key is here)' : ''}`
      : '  CA: none (not in a federation: `federation init` or `federation join`)',
  );
  lines.push(
    s.certificate.present
      ? `  region certificate: ${s.certificate.region ?? '?'}, valid until ${s.certificate.notAfter?.slice(0, 10)} (${s.certificate.daysLeft} days)${s.certificate.problem ? `; PROBLEM: ${s.certificate.problem}` : ''}`
      : '  region certificate: none',
  );
  lines.push(
    `  federation key: ${s.federationKey.present ? `fingerprint ${s.federationKey.fingerprint}` : 'none yet'}`,
  );
  lines.push(
    `  configuration: ${s.config.hub ? 'runs the hub' : `hub region ${s.config.hubRegion ?? 'none'}`}${s.config.hubUrl ? `, hub URL ${s.config.hubUrl}` : ''}${s.config.syncUrl ? `, sync URL ${s.config.syncUrl}` : ''}`,
  );
  lines.push(`  appliance: ${s.appliance.running ? 'running' : 'not running'}`);
  const hub = s.hub as Record<string, unknown>;
  lines.push(
    'url' in hub
      ? `  hub: ${hub.state}${hub.stoppedByOperator ? ' (stopped by the operator)' : ''}${hub.pid ? `, pid ${hub.pid}` : ''}, ${hub.url}, restarts ${hub.restarts}${hub.gateway ? `, gateway ${hub.gateway}` : ''}`
      : `  hub: ${hub.state}`,
  );
  lines.push(`  replication: ${s.replication.state}`);
  const r = s.replication;
  if (r.role) {
    lines.push(
      `    ${r.role === 'writer' ? 'this region is the writer' : `writer ${r.writer}`}; last pull ${r.lastPull ?? 'never'}${r.lagMs !== null ? ` (${(r.lagMs / 1000).toFixed(1)} s ago)` : ''}; writer reachable ${r.writerReachable === null ? 'not asked yet' : r.writerReachable ? 'yes' : 'no'}; pending local changes ${r.pendingLocalChanges ?? 0}`,
    );
  }
  return lines.join('\n');
}
