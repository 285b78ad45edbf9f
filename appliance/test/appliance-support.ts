/**
 * The real appliance in this process for the protocol tests: ports 0, real databases under a temp dir,
 * its log discarded (warnings and above), `operator` bootstrapped; and the mailbox most tests use.
 */
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Actor } from '@delegato/directory';
import { createLogger } from '@delegato/observability';
import { ALL_PORTS_ZERO } from '@delegato/testkit';
import { type RunningAppliance, startAppliance } from '../src/appliance.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';

/** Who the tests are when they change the directory directly. */
export const TEST_OPERATOR: Actor = { kind: 'operator', name: 'test', from: 'local' };

/**
 * Starts the appliance with its data in `<dir>/var` (or `env.DELEGATO_DATA_DIR`); `env` adds or overrides
 * settings; `operatorPassword` is the bootstrap operator's.
 */
export function startApplianceIn(
  dir: string,
  env: Record<string, string> = {},
  operatorPassword = 'operator-test-pw',
): Promise<RunningAppliance> {
  return startApplianceWith(testConfig(dir, env), operatorPassword);
}

/** The configuration `startApplianceIn` uses. */
export function testConfig(dir: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    env: { ...ALL_PORTS_ZERO, ...TEST_DEFAULTS, DELEGATO_DATA_DIR: join(dir, 'var'), ...env },
    cwd: dir,
  });
}

/**
 * Settings of the test appliances unless a test names its own: no SPF/DKIM/DMARC checks at the MX
 * (they would ask the system's resolvers, off the machine, about the test domains); the
 * message-authentication tests turn them on with a loopback DNS server.
 */
const TEST_DEFAULTS: Record<string, string> = { DELEGATO_AUTH_INBOUND: 'false' };

/** Starts the appliance on `config`, its log discarded (warnings and above). */
export function startApplianceWith(config: Config, operatorPassword: string): Promise<RunningAppliance> {
  return startAppliance(config, {
    out: new PassThrough(),
    env: { DELEGATO_OPERATOR_PASSWORD: operatorPassword },
    logger: createLogger({ level: 'warn', destination: new PassThrough() }),
  });
}

/** Adds iat.example and rose.pinkcheeks@iat.example; returns her mailbox id. */
export async function addRose(
  app: RunningAppliance,
  password: string,
  opts: { quotaBytes?: number } = {},
): Promise<string> {
  await app.directory.addDomain(TEST_OPERATOR, 'iat.example');
  const m = await app.directory.addMailbox(TEST_OPERATOR, {
    domain: 'iat.example',
    kind: 'personal',
    firstName: 'Rose',
    lastName: 'Pinkcheeks',
    password,
    ...(opts.quotaBytes === undefined ? {} : { quotaBytes: opts.quotaBytes }),
  });
  const id = (await app.directory.resolveLogin(m.address))?.id;
  if (!id) throw new Error(`${m.address} was added but does not resolve`);
  return id;
}
