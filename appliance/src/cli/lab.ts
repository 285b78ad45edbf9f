/**
 * `delegato lab up | stop <region|hub> | start <region|hub> | down --dir <dir>`: the local lab of three
 * regions and the hub (src/lab/, docs/federation.md "Trying it: the lab", docs/cli.md).
 *
 * Exit status: 0 success; 2 usage (unknown subcommand or member, no --dir, a non-empty directory without a
 * lab, no lab in the directory); 1 any other failure (a region that does not come up, with the end of its
 * lab.log).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LabUsageError, labDown, labUp, startHub, startRegion, stopHub, stopRegion } from '../lab/lab.js';
import { isLabRegion, LAB_REGIONS, readLab } from '../lab/layout.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './commands.js';

const USAGE =
  'usage: delegato lab up --dir <dir> [--json] | lab stop <region|hub> --dir <dir> | lab start <region|hub> --dir <dir> | lab down --dir <dir>';

export async function runLab(argv: string[]): Promise<number> {
  let values: { dir?: string; json?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { dir: { type: 'string' }, json: { type: 'boolean' }, config: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    return usage(`${(err as Error).message.split('\n')[0]}; ${USAGE}`);
  }
  const [, sub, member, ...extra] = positionals;
  if (!values.dir) return usage(`--dir <dir> is required; ${USAGE}`);
  const dir = resolve(process.cwd(), values.dir);
  const json = values.json === true;
  // Progress on stderr when --json asks for the lab on stdout.
  const say = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  const needsMember = sub === 'stop' || sub === 'start';
  if (extra.length > 0 || (needsMember ? member === undefined : member !== undefined)) return usage(USAGE);
  if (needsMember && member !== 'hub' && !isLabRegion(member ?? '')) {
    return usage(`unknown lab member "${member}": one of ${LAB_REGIONS.join(', ')}, hub`);
  }
  try {
    switch (sub) {
      case 'up': {
        const lab = await labUp(dir, say);
        if (json) process.stdout.write(`${JSON.stringify(lab, null, 2)}\n`);
        else
          say(
            `${dir}/lab.json written; each region's CLI: DELEGATO_DATA_DIR=${dir}/<region> npx delegato ...`,
          );
        return EXIT_OK;
      }
      case 'down':
        await labDown(dir, say);
        return EXIT_OK;
      case 'stop':
        if (member === 'hub') await stopHub(dir, say);
        else if (isLabRegion(member ?? '')) await stopRegion(dir, member as never, say);
        if (json) process.stdout.write(`${JSON.stringify(readLab(dir), null, 2)}\n`);
        return EXIT_OK;
      case 'start':
        if (member === 'hub') await startHub(dir, say);
        else if (isLabRegion(member ?? '')) await startRegion(dir, member as never, say);
        if (json) process.stdout.write(`${JSON.stringify(readLab(dir), null, 2)}\n`);
        return EXIT_OK;
      default:
        return usage(sub === undefined ? USAGE : `unknown command "lab ${sub}"; ${USAGE}`);
    }
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split('\n').join(' ');
    process.stderr.write(`delegato: ${message}\n`);
    return err instanceof LabUsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
}

function usage(message: string): number {
  process.stderr.write(`delegato: ${message}\n`);
  return EXIT_USAGE;
}
