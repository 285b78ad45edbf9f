/**
 * Some tests start the `delegato` command in a child process, and that runs the compiled output (dist/), as
 * production does. Build it first, so that `npx vitest` after an edit never tests yesterday's dist/.
 * Incremental: about a second when nothing changed. Type errors are `npm run typecheck`'s business; tsc still
 * writes the output, so they do not stop the tests here.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

export default function buildCompiledOutput(): void {
  console.log('global setup: building dist/ with tsc -b');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-b'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (run.error) throw run.error;
}
