/**
 * The lab, through the built `delegato` bin (appliance/bin/delegato.mjs, run by this Node): `lab up`,
 * `lab down`, lab.json, and the check that none of the PIDs it recorded is left.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../common/appliance.js';
import { run } from '../common/proc.js';

export const CLI = join(REPO, 'appliance', 'bin', 'delegato.mjs');
export const REGIONS = ['north', 'central', 'south'] as const;
export type Region = (typeof REGIONS)[number];

/** lab.json (docs/federation.md, "Trying it: the lab"). */
export interface LabFile {
  hub: { url: string; pid: number | null };
  writer: Region;
  regions: Record<
    Region,
    {
      host: string;
      pid: number | null;
      ports: Record<
        'smtp' | 'submission' | 'submissions' | 'imap' | 'imaps' | 'admin' | 'federation',
        number
      >;
      dataDir: string;
      operator: { username: string; password: string };
    }
  >;
}

/** `delegato <args>` with an environment free of the caller's DELEGATO_* variables. */
export function delegato(args: string[], cwd: string) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DELEGATO_')) env[k] = v;
  return run(process.execPath, [CLI, ...args], { cwd, env, allowFailure: true });
}

export function readLabFile(dir: string): LabFile {
  return JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as LabFile;
}

/** Every PID lab.json has recorded so far (the hub's and the appliances'). */
export function recordedPids(lab: LabFile): number[] {
  return [lab.hub.pid, ...REGIONS.map((r) => lab.regions[r].pid)].filter((p): p is number => p !== null);
}

/** True while `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The command line of `pid` mentions the lab dir (so it is one of this run's processes). */
export function oursByCmdline(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(dir);
  } catch {
    return false;
  }
}
