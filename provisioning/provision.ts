/**
 * `npm run provision -- --region <id> [--root <dir>] [--dry-run] [--source <dir>] [--bundle <file>]
 * [--bundles-out <dir>]`: turns a fresh Debian 12 host into region <id> of regions/ (docs/provisioning.md),
 * or, with --root, renders every file of it below <dir> instead (nothing else is touched).
 * Idempotent: a second run prints "nothing to change". --dry-run prints what a run would change.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureDir, ensureFile, type StepContext } from './src/plan.js';
import { LAYOUT, regionFacts, renderRegion } from './src/render.js';

const USAGE =
  'usage: npm run provision -- --region <id> [--root <dir>] [--dry-run] [--source <dir>] [--bundle <file>] [--bundles-out <dir>]';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      region: { type: 'string' },
      root: { type: 'string' },
      'dry-run': { type: 'boolean' },
      source: { type: 'string' },
      regions: { type: 'string' },
      bundle: { type: 'string' },
      'bundles-out': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const region = values.region;
  if (!region || !/^[a-z0-9-]{1,32}$/.test(region)) throw new Error(`--region <id> is needed; ${USAGE}`);
  const regionFile = join(resolve(values.regions ?? join(repo, 'regions')), `${region}.yaml`);
  let regionText: string;
  try {
    regionText = await readFile(regionFile, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the region file ${regionFile}: ${(error as Error).message}`);
  }
  const facts = regionFacts(regionText);
  if (facts.id !== region) throw new Error(`${regionFile} is region ${facts.id}, not ${region}`);
  const dryRun = values['dry-run'] === true;
  const root = values.root === undefined ? undefined : resolve(values.root);
  let changes = 0;
  const report = (line: string) => {
    changes++;
    process.stdout.write(`${line}\n`);
  };
  const { files, dirs } = renderRegion(regionText);

  if (root !== undefined) {
    const ctx: StepContext = { root, dryRun, report };
    for (const dir of dirs) await ensureDir(ctx, dir);
    for (const file of files) await ensureFile(ctx, file);
  } else {
    if (process.getuid?.() !== 0 && !dryRun) throw new Error('provisioning the live system needs root');
    // zx only here: rendering into --root needs nothing but Node.js.
    const system = await import('./src/system.js');
    const ctx = system.liveContext(report, dryRun);
    await system.ensurePackages(ctx);
    await system.ensureUser(ctx);
    for (const dir of dirs) await ensureDir(ctx, dir);
    const appChanged = await system.ensureAppliance(ctx, resolve(values.source ?? repo));
    const changed = new Set<string>();
    for (const file of files) if ((await ensureFile(ctx, file)).changed) changed.add(file.path);
    await system.ensureFederation(ctx, facts, { bundle: values.bundle, bundlesOut: values['bundles-out'] });
    await system.ensureFirewall(ctx, changed.has(LAYOUT.firewallFile));
    await system.ensureServices(ctx, {
      unitsChanged: [...changed].some((p) => p.startsWith(LAYOUT.unitDir)),
      restartNeeded: appChanged || changed.has(LAYOUT.regionFile) || changed.has(LAYOUT.launcher),
    });
  }
  if (changes === 0) process.stdout.write(`region ${region}: nothing to change\n`);
  else if (dryRun) process.stdout.write(`region ${region}: ${changes} change(s) to make (dry run)\n`);
  else process.stdout.write(`region ${region}: ${changes} change(s) made\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`provision: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
