/** Test-only helpers. */
export { LineClient } from './line-client.js';
export { ALL_PORTS_ZERO, tempDir } from './temp.js';
