/**
 * The test projects, one per package (packages/*, appliance). `vitest.config.ts` imports this list as
 * `test.projects` (Vitest 4 no longer reads workspace files by itself). Each project extends the root
 * config, so the shared timeouts apply everywhere.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dirs = [
  ...readdirSync('packages', { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join('packages', d.name, 'package.json')))
    .map((d) => join('packages', d.name)),
  'appliance',
];

export default dirs.map((root) => ({
  extends: true as const,
  root,
  test: { name: (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string }).name },
}));
