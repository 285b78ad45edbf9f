/**
 * The steps on a live Debian 12 host, with zx: packages, the system user, the appliance build in
 * /opt/delegato, the region's federation certificate, the firewall and the systemd units. Each looks
 * before it acts (plan.ts), so provisioning twice changes nothing the second time.
 */

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { $ } from 'zx';
import { ensure, type StepContext } from './plan.js';
import { LAYOUT, type RegionFacts } from './render.js';

const sh = $({ quiet: true, nothrow: true });
const ok = async (p: Promise<{ exitCode: number | null }>) => (await p).exitCode === 0;

/** Debian packages: npm installs the pinned Node.js (node@24) with the appliance's dependencies. */
export const PACKAGES = ['ca-certificates', 'nodejs', 'npm', 'rsync', 'nftables', 'logrotate'];

/** Not copied into /opt/delegato: build output, dependencies, state and VCS data of the source tree. */
const RSYNC_EXCLUDES = [
  '.git',
  '.vagrant',
  '.lab',
  'node_modules',
  'dist',
  '*.tsbuildinfo',
  'var',
  'test-artifacts',
];

export function liveContext(report: (line: string) => void, dryRun: boolean): StepContext {
  return {
    root: undefined,
    dryRun,
    report,
    chown: async (path, owner, group) => {
      await $`chown ${`${owner}:${group}`} ${path}`.quiet();
    },
    ownerOf: async (path) => {
      const r = await sh`stat -c %U:%G ${path}`;
      if (r.exitCode !== 0) return undefined;
      const [owner = '', group = ''] = r.stdout.trim().split(':');
      return { owner, group };
    },
  };
}

export async function ensurePackages(ctx: StepContext): Promise<boolean> {
  const missing: string[] = [];
  for (const pkg of PACKAGES) {
    // dpkg-query's own format placeholder, not a template one.
    const r = await sh`dpkg-query -W ${`-f=$${'{Status}'}`} ${pkg}`;
    if (!r.stdout.includes('install ok installed')) missing.push(pkg);
  }
  const step = await ensure(
    ctx,
    `apt-get install ${missing.join(' ')}`,
    async () => missing.length > 0,
    async () => {
      await $({ env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })`apt-get update -q`.quiet();
      await $({
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      })`apt-get install -y -q --no-install-recommends ${missing}`.quiet();
    },
  );
  return step.changed;
}

export async function ensureUser(ctx: StepContext): Promise<boolean> {
  const step = await ensure(
    ctx,
    `create system user ${LAYOUT.user}`,
    async () => !(await ok(sh`getent passwd ${LAYOUT.user}`)),
    () =>
      $`useradd --system --user-group --home-dir ${LAYOUT.dataDir} --no-create-home --shell /usr/sbin/nologin ${LAYOUT.user}`.quiet(),
  );
  return step.changed;
}

/** The source tree into /opt/delegato (root-owned, read-only to the service); true when anything changed. */
export async function ensureAppliance(ctx: StepContext, source: string): Promise<boolean> {
  const args = [
    '-a',
    '--checksum',
    '--delete',
    '--itemize-changes',
    '--chown=root:root',
    ...RSYNC_EXCLUDES.map((e) => `--exclude=${e}`),
    `${source.replace(/\/$/, '')}/`,
    `${LAYOUT.appDir}/`,
  ];
  const pending = async () => (await $`rsync --dry-run ${args}`.quiet()).stdout.trim().length > 0;
  const copied = await ensure(ctx, `copy the appliance ${source} -> ${LAYOUT.appDir}`, pending, () =>
    $`rsync ${args}`.quiet(),
  );
  const lock = join(LAYOUT.appDir, 'package-lock.json');
  const stamp = join(LAYOUT.appDir, 'node_modules', '.delegato-lock.sha256');
  const lockHash = existsSync(lock)
    ? createHash('sha256')
        .update(await readFile(lock))
        .digest('hex')
    : 'none';
  const installed = existsSync(stamp) ? (await readFile(stamp, 'utf8')).trim() : '';
  const deps = await ensure(
    ctx,
    `npm ci in ${LAYOUT.appDir} (Node.js 24 and the dependencies)`,
    async () => installed !== lockHash,
    async () => {
      await $({ cwd: LAYOUT.appDir })`npm ci --no-audit --no-fund`.quiet();
      await $`sh -c ${`echo ${lockHash} > ${stamp}`}`.quiet();
    },
  );
  const built = join(LAYOUT.appDir, 'appliance', 'dist', 'src', 'index.js');
  const build = await ensure(
    ctx,
    `build the appliance (tsc -b) in ${LAYOUT.appDir}`,
    async () => copied.changed || deps.changed || !existsSync(built),
    () =>
      $({
        cwd: LAYOUT.appDir,
        env: { ...process.env, PATH: `${LAYOUT.appDir}/node_modules/.bin:${process.env.PATH ?? ''}` },
      })`npm run build`.quiet(),
  );
  return copied.changed || deps.changed || build.changed;
}

function join(...parts: string[]): string {
  return parts.join('/').replace(/\/+/g, '/');
}

const asDelegato = (args: string[]) =>
  sh`runuser -u ${LAYOUT.user} -- ${LAYOUT.launcher} ${args} --config ${LAYOUT.regionFile}`;

/**
 * The region's federation certificate (docs/federation.md). The hub region creates the federation CA
 * (`delegato federation init`) and issues a bundle per other region into `bundlesOut`; another region
 * joins with its bundle (`delegato federation join`). Each only when not done yet.
 */
export async function ensureFederation(
  ctx: StepContext,
  facts: RegionFacts,
  opts: { bundle?: string | undefined; bundlesOut?: string | undefined },
): Promise<boolean> {
  const hasCertificate = async () => {
    const r = await asDelegato(['federation', 'status', '--json']);
    if (r.exitCode !== 0) return false;
    return (JSON.parse(r.stdout) as { certificate?: { present?: boolean } }).certificate?.present === true;
  };
  let changed = false;
  if (facts.hub) {
    const hosts = facts.selfHost ? ['--host', facts.selfHost] : [];
    const init = await ensure(
      ctx,
      `delegato federation init ${hosts.join(' ')} (the federation CA, in region ${facts.id})`,
      async () => !(await hasCertificate()),
      async () => {
        const r = await asDelegato(['federation', 'init', ...hosts]);
        if (r.exitCode !== 0) throw new Error(`federation init failed: ${r.stderr.trim()}`);
      },
    );
    changed ||= init.changed;
    const bundlesOut = opts.bundlesOut;
    if (bundlesOut) {
      for (const peer of facts.peers) {
        const out = join(bundlesOut, `${peer.region}.bundle`);
        // Issued into the data dir (the service user writes there), then copied out by root: the
        // destination may be a shared folder the service user cannot write (the Vagrant lab).
        const issuedFile = join(facts.dataDir, 'issued', `${peer.region}.bundle`);
        const issued = await ensure(
          ctx,
          `delegato federation issue ${peer.region} --host ${peer.host} --out ${out}`,
          async () => !existsSync(out),
          async () => {
            if (!existsSync(issuedFile)) {
              await $`install -d -m 0700 -o ${LAYOUT.user} -g ${LAYOUT.group} ${join(facts.dataDir, 'issued')}`.quiet();
              const r = await asDelegato([
                'federation',
                'issue',
                peer.region,
                '--host',
                peer.host,
                '--out',
                issuedFile,
              ]);
              if (r.exitCode !== 0)
                throw new Error(`federation issue ${peer.region} failed: ${r.stderr.trim()}`);
            }
            await $`mkdir -p ${bundlesOut}`.quiet();
            await $`install -m 0600 ${issuedFile} ${out}`.quiet();
          },
        );
        changed ||= issued.changed;
      }
    }
    return changed;
  }
  const bundle = opts.bundle;
  if (!bundle) {
    if (!(await hasCertificate()))
      ctx.report(`region ${facts.id} has no federation certificate: provision again with --bundle <file>`);
    return false;
  }
  const joined = await ensure(
    ctx,
    `delegato federation join ${bundle}`,
    async () => !(await hasCertificate()),
    async () => {
      if (!existsSync(bundle)) throw new Error(`no bundle at ${bundle} (issued at the hub region)`);
      // A copy the service user can read (the bundle holds the region's key: 0600, removed after).
      const copy = join(facts.dataDir, 'join.bundle');
      await $`install -m 0600 -o ${LAYOUT.user} -g ${LAYOUT.group} ${bundle} ${copy}`.quiet();
      const r = await asDelegato(['federation', 'join', copy]);
      await $`rm -f ${copy}`.quiet();
      if (r.exitCode !== 0) throw new Error(`federation join failed: ${r.stderr.trim()}`);
    },
  );
  return joined.changed;
}

/** The delegato table in the live rule set, and nftables.conf including it at boot. */
export async function ensureFirewall(ctx: StepContext, rulesChanged: boolean): Promise<boolean> {
  const include = `include "${LAYOUT.firewallFile}"`;
  const conf = await readFile(LAYOUT.nftablesConf, 'utf8').catch(() => '');
  const included = await ensure(
    ctx,
    `add ${include} to ${LAYOUT.nftablesConf}`,
    async () => !conf.split('\n').some((line) => line.trim() === include),
    () => $`sh -c ${`printf '%s\\n' '${include}' >> ${LAYOUT.nftablesConf}`}`.quiet(),
  );
  const enabled = await ensure(
    ctx,
    'systemctl enable nftables.service',
    async () => !(await ok(sh`systemctl is-enabled --quiet nftables.service`)),
    () => $`systemctl enable nftables.service`.quiet(),
  );
  const loaded = await ensure(
    ctx,
    `nft -f ${LAYOUT.firewallFile}`,
    async () => rulesChanged || !(await ok(sh`nft list table inet delegato`)),
    () => $`nft -f ${LAYOUT.firewallFile}`.quiet(),
  );
  return included.changed || enabled.changed || loaded.changed;
}

/** daemon-reload after unit changes; the units enabled and started; a restart when the region changed. */
export async function ensureServices(
  ctx: StepContext,
  opts: { unitsChanged: boolean; restartNeeded: boolean },
): Promise<boolean> {
  let changed = false;
  const reload = await ensure(
    ctx,
    'systemctl daemon-reload',
    async () => opts.unitsChanged,
    () => $`systemctl daemon-reload`.quiet(),
  );
  changed ||= reload.changed;
  for (const unit of ['delegato.service', 'delegato-backup.timer']) {
    const enable = await ensure(
      ctx,
      `systemctl enable ${unit}`,
      async () => !(await ok(sh`systemctl is-enabled --quiet ${unit}`)),
      () => $`systemctl enable ${unit}`.quiet(),
    );
    const wasActive = await ok(sh`systemctl is-active --quiet ${unit}`);
    const start = await ensure(
      ctx,
      `systemctl start ${unit}`,
      async () => !wasActive,
      () => $`systemctl start ${unit}`.quiet(),
    );
    const restart =
      unit === 'delegato.service'
        ? await ensure(
            ctx,
            `systemctl restart ${unit} (region file, units or appliance changed)`,
            async () => wasActive && opts.restartNeeded,
            () => $`systemctl restart ${unit}`.quiet(),
          )
        : { changed: false };
    changed ||= enable.changed || start.changed || restart.changed;
  }
  return changed;
}
