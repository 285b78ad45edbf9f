/** Writes docs/config-reference.md from the schema. Run with `npm run docs:config`. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigReference } from './reference.js';

const target = fileURLToPath(new URL('../../../docs/config-reference.md', import.meta.url));
writeFileSync(target, renderConfigReference());
console.log(`wrote ${target}`);
