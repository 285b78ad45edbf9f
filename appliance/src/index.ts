/** The appliance: composition root. See README.md. */
export { type RunningAppliance, startAppliance } from './appliance.js';
export { main } from './cli/main.js';
export { loadConfig } from './config/load.js';
export type { Config } from './config/schema.js';
