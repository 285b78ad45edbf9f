#!/usr/bin/env node
// The `delegato` command. TypeScript runs through tsx in production (docs/decisions/0001-typescript-at-runtime.md).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
