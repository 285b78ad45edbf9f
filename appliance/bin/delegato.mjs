#!/usr/bin/env node
// The `delegato` command. It runs the compiled output (`tsc -b` writes dist/; `npm install` and `npm start`
// build it), never a TypeScript loader: docs/decisions/0004-node-24-compiled-output.md.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'delegato: the appliance is not built; run `npm run build` (or `npm install`) first\n',
  );
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
