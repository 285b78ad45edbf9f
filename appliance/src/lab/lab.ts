/**
 * `delegato lab up | stop | start | down`: three regions and the hub on one machine (docs/federation.md,
 * "Trying it: the lab"). The appliances run detached; lab.json records them; only PIDs recorded there, and
 * still ours by their command line, are ever signalled.
 *
 * The hub runs inside north's appliance (HubSupervisor): `lab stop hub` / `lab start hub` go through
 * north's control socket (`delegato federation hub stop | start`), so that the supervisor does not restart
 * what the lab stopped. `lab stop north` stops the hub with it.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { federationCommand, init, issue, join as joinFederation } from '../cli/federation.js';
import { loadConfig } from '../config/load.js';
import {
  delegatoBin,
  hubDbFile,
  hubPidFile,
  LAB_HOSTS,
  LAB_HUB_REGION,
  LAB_REGIONS,
  type LabFile,
  type LabPorts,
  type LabRegion,
  logFile,
  MAIL_PORTS,
  randomLabPassword,
  readLab,
  regionDir,
  regionFile,
  regionYaml,
  writeLab,
} from './layout.js';
import {
  freePorts,
  isAlive,
  isOurAppliance,
  isOurHub,
  spawnAppliance,
  terminate,
  waitHealthy,
} from './processes.js';

/** How long one region may take to answer /healthz after its spawn. */
const START_TIMEOUT_MS = 90_000;
/** SIGTERM to SIGKILL: the appliance's own shutdown deadline is 10 s. */
const STOP_GRACE_MS = 15_000;

/** A refusal or usage problem (exit 2); anything else is a failure (exit 1). */
export class LabUsageError extends Error {}

type Say = (line: string) => void;

/** `lab up`: a new lab in an empty (or missing) `dir`, or whatever is stopped in an existing one. */
export async function labUp(dir: string, say: Say): Promise<LabFile> {
  const began = Date.now();
  const existing = readLab(dir);
  if (existing) {
    say(`lab in ${dir} exists: starting what is stopped`);
    for (const region of LAB_REGIONS) await startRegion(dir, region, say);
    say(`lab up in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    return readLab(dir) as LabFile;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (readdirSync(dir).length > 0) {
    throw new LabUsageError(`${dir} is not empty and holds no lab.json: give an empty or new directory`);
  }

  // Ports: free on each region's own address, with its federation API's (port.sync; north's is also the
  // sync gateway).
  const regions = {} as LabFile['regions'];
  const operatorPassword = randomLabPassword();
  for (const region of LAB_REGIONS) {
    const host = LAB_HOSTS[region];
    const chosen = await freePorts(host, MAIL_PORTS.length + 1);
    const ports = Object.fromEntries(MAIL_PORTS.map((name, i) => [name, chosen[i]])) as LabPorts;
    ports.sync = chosen[MAIL_PORTS.length] as number;
    regions[region] = {
      host,
      pid: null,
      ports,
      dataDir: regionDir(dir, region),
      // One directory for the whole federation: the operator north creates is everyone's.
      operator: { username: 'operator', password: operatorPassword },
    };
  }
  const hubUrl = `https://${LAB_HOSTS[LAB_HUB_REGION]}:${regions[LAB_HUB_REGION].ports.sync}`;
  const lab: LabFile = { hub: { url: hubUrl, pid: null }, writer: LAB_HUB_REGION, regions };
  // Mail between regions: every region file lists every region's federation listener (its own is ignored).
  const peers = Object.fromEntries(
    LAB_REGIONS.map((r) => [
      r,
      `{ host: ${LAB_HOSTS[r]}, port: ${regions[r].ports.federation}, syncPort: ${regions[r].ports.sync} }`,
    ]),
  );
  for (const region of LAB_REGIONS) {
    mkdirSync(regionDir(dir, region), { recursive: true, mode: 0o700 });
    writeFileSync(regionFile(dir, region), regionYaml(region, regions[region].ports, hubUrl, peers));
  }
  writeLab(dir, lab);

  // The PKI first: the CA in north, a bundle for each other region, installed there.
  const configOf = (region: LabRegion) => loadConfig({ file: regionFile(dir, region), env: {}, cwd: dir });
  const north = configOf(LAB_HUB_REGION);
  await init(north, [LAB_HOSTS[LAB_HUB_REGION]]);
  say(`federation CA created in ${join(north.data.dir, 'federation')}`);
  const bundles = join(dir, '.bundles');
  mkdirSync(bundles, { mode: 0o700 });
  try {
    for (const region of LAB_REGIONS) {
      if (region === LAB_HUB_REGION) continue;
      const file = join(bundles, `${region}.json`);
      await issue(north, region, [LAB_HOSTS[region]], file, dir);
      await joinFederation(configOf(region), file, false, dir);
      say(`region ${region} joined (certificate for ${LAB_HOSTS[region]})`);
    }
  } finally {
    rmSync(bundles, { recursive: true, force: true });
  }

  // North first (the hub; later the directory replicas will need it), then the others together.
  try {
    await startRegion(dir, LAB_HUB_REGION, say);
    await Promise.all(
      LAB_REGIONS.filter((r) => r !== LAB_HUB_REGION).map((region) => startRegion(dir, region, say)),
    );
  } catch (err) {
    say('start-up failed: stopping what was started');
    await labDown(dir, () => undefined).catch(() => undefined);
    throw err;
  }
  say(`lab up in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  return readLab(dir) as LabFile;
}

/** lab.json is read and written around each step: two regions start at once, each updates its own entry. */
function update(dir: string, change: (lab: LabFile) => void): LabFile {
  const lab = mustRead(dir);
  change(lab);
  writeLab(dir, lab);
  return lab;
}

function mustRead(dir: string): LabFile {
  const lab = readLab(dir);
  if (!lab) throw new LabUsageError(`no lab in ${dir} (no lab.json): \`delegato lab up --dir ${dir}\` first`);
  return lab;
}

/** The tursodb PID from north's hub pid file, if that process is ours and alive. */
function currentHubPid(dir: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(hubPidFile(dir), 'utf8').trim().split(/\s+/)[0] ?? '', 10);
    return isOurHub(pid, hubDbFile(dir)) ? pid : null;
  } catch {
    return null;
  }
}

export async function startRegion(dir: string, region: LabRegion, say: Say): Promise<void> {
  const lab = mustRead(dir);
  const entry = lab.regions[region];
  const file = regionFile(dir, region);
  if (isOurAppliance(entry.pid, file)) {
    say(`${region} already runs (pid ${entry.pid})`);
    return;
  }
  const began = Date.now();
  const pid = spawnAppliance({
    bin: delegatoBin(),
    regionFile: file,
    cwd: regionDir(dir, region),
    log: logFile(dir, region),
    env: { DELEGATO_OPERATOR_PASSWORD: entry.operator.password },
  });
  update(dir, (l) => {
    l.regions[region].pid = pid;
  });
  try {
    await waitHealthy({
      pid,
      host: entry.host,
      port: entry.ports.admin,
      timeoutMs: START_TIMEOUT_MS,
      log: logFile(dir, region),
    });
  } catch (err) {
    if (isOurAppliance(pid, file)) await terminate(pid, STOP_GRACE_MS);
    update(dir, (l) => {
      l.regions[region].pid = null;
    });
    throw new Error(`${region}: ${(err as Error).message}`);
  }
  if (region === LAB_HUB_REGION) {
    update(dir, (l) => {
      l.hub.pid = currentHubPid(dir);
    });
  }
  say(`${region} up on ${entry.host} (pid ${pid}, ${((Date.now() - began) / 1000).toFixed(1)} s)`);
}

export async function stopRegion(dir: string, region: LabRegion, say: Say): Promise<void> {
  const lab = mustRead(dir);
  const entry = lab.regions[region];
  const file = regionFile(dir, region);
  if (!isOurAppliance(entry.pid, file)) {
    say(`${region} is not running`);
  } else {
    const how = await terminate(entry.pid, STOP_GRACE_MS);
    say(`${region} stopped (pid ${entry.pid}, ${how})`);
  }
  if (region === LAB_HUB_REGION) await stopHubSurvivor(dir, lab.hub.pid);
  update(dir, (l) => {
    l.regions[region].pid = null;
    if (region === LAB_HUB_REGION) l.hub.pid = null;
  });
}

/** After north is gone the hub is too (its supervisor stops it; pdeathsig otherwise); make sure of it. */
async function stopHubSurvivor(dir: string, recorded: number | null): Promise<void> {
  for (const pid of new Set([recorded, currentHubPid(dir)])) {
    if (isOurHub(pid, hubDbFile(dir))) await terminate(pid, 5_000);
  }
}

async function hubCommand(dir: string, action: 'stop' | 'start'): Promise<{ pid: number | null }> {
  const res = await federationCommand(
    ['federation', 'hub', action, '--json', '--config', regionFile(dir, LAB_HUB_REGION)],
    {},
    dir,
  );
  if (res.code !== 0) throw new Error(res.stderr.trim().replace(/^delegato: /, ''));
  return JSON.parse(res.stdout) as { pid: number | null };
}

export async function stopHub(dir: string, say: Say): Promise<void> {
  const lab = mustRead(dir);
  if (!isOurAppliance(lab.regions[LAB_HUB_REGION].pid, regionFile(dir, LAB_HUB_REGION))) {
    say(`the hub is not running (${LAB_HUB_REGION} is stopped)`);
    return;
  }
  await hubCommand(dir, 'stop');
  // The supervisor returns once tursodb is gone; check it all the same.
  if (isOurHub(lab.hub.pid, hubDbFile(dir))) await terminate(lab.hub.pid, 5_000);
  update(dir, (l) => {
    l.hub.pid = null;
  });
  say(`hub stopped (north's appliance keeps running; its sync gateway answers 502 meanwhile)`);
}

export async function startHub(dir: string, say: Say): Promise<void> {
  const lab = mustRead(dir);
  if (!isOurAppliance(lab.regions[LAB_HUB_REGION].pid, regionFile(dir, LAB_HUB_REGION))) {
    throw new LabUsageError(
      `${LAB_HUB_REGION} is stopped: \`lab start ${LAB_HUB_REGION}\` starts it with its hub`,
    );
  }
  const { pid } = await hubCommand(dir, 'start');
  update(dir, (l) => {
    l.hub.pid = pid;
  });
  say(`hub running (pid ${pid})`);
}

/** `lab down`: every member stopped; returns when no recorded process is left. */
export async function labDown(dir: string, say: Say): Promise<void> {
  const lab = mustRead(dir);
  await Promise.all(
    LAB_REGIONS.filter((r) => r !== LAB_HUB_REGION).map((region) => stopRegion(dir, region, say)),
  );
  await stopRegion(dir, LAB_HUB_REGION, say);
  const left = [...LAB_REGIONS.map((r) => lab.regions[r].pid), lab.hub.pid].filter(
    (pid): pid is number => pid !== null && isAlive(pid),
  );
  const ours = left.filter(
    (pid) =>
      LAB_REGIONS.some((r) => isOurAppliance(pid, regionFile(dir, r))) || isOurHub(pid, hubDbFile(dir)),
  );
  if (ours.length > 0) throw new Error(`processes still running: ${ours.join(', ')}`);
  say(`lab down (data kept in ${dir}; \`lab up --dir ${dir}\` starts it again)`);
}
