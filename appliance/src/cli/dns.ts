/**
 * `delegato dns zone <domain> [--json]`: the zone-file fragment an institute's DNS administrator adds for
 * a hosted domain (packages/mta/src/auth/records.ts): MX to the domain's region, smtp./imap./pop./mail.
 * and the autoconfiguration names as CNAMEs, SPF, DKIM (every key not retired), DMARC, MTA-STS, TLS-RPT and
 * the RFC 6186 SRV records. `delegato dns check <domain>` looks them up through `dns.servers` and lists what
 * is missing or different (exit 1 when anything is).
 *
 * The keys and the domain's region come from the directory (through the running appliance's control
 * socket, or the data dir when none runs); host names and ports from this region's configuration. A domain
 * homed in another region gets its MX there: run the command in that region (or name its host with
 * `federation.peers`).
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { DkimKeyView } from '@delegato/directory';
import { checkRecords, createAuthResolver, parseDnsServers, zoneFragment, zoneRecords } from '@delegato/mta';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { NoApplianceError, sendControlRequest } from '../control/client.js';
import { controlSocketPath } from '../control/paths.js';
import { dataPaths } from '../data-dir.js';
import { openDirectory } from '../open-directory.js';
import { zoneInput } from '../services/message-auth.js';
import { EXIT_FAILURE, EXIT_OK, executeCommand, UsageError } from './commands.js';

export const DNS_USAGE = 'usage: delegato dns zone <domain> [--json] | delegato dns check <domain> [--json]';

/** Runs a directory command (`--json`) where the directory is: the appliance, or this data dir. */
async function directoryJson<T>(config: Config, argv: string[]): Promise<T> {
  const user = userInfo().username;
  let result: { code: number; stdout: string; stderr: string };
  try {
    result = await sendControlRequest(
      controlSocketPath(config.data.dir),
      dataPaths(config.data.dir).controlToken,
      {
        user,
        argv: [...argv, '--json'],
      },
    );
  } catch (err) {
    if (!(err instanceof NoApplianceError)) throw err;
    const directory = await openDirectory(config);
    try {
      result = await executeCommand([...argv, '--json'], {
        directory,
        actor: { kind: 'operator', name: `cli:${user}`, from: 'local' },
      });
    } finally {
      await directory.close();
    }
  }
  if (result.code !== 0) throw new UsageError(result.stderr.replace(/^delegato: /, '').trim());
  return JSON.parse(result.stdout) as T;
}

export async function runDns(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const [, sub, domainArg, ...rest] = positionals;
  if ((sub !== 'zone' && sub !== 'check') || !domainArg || rest.length > 0) throw new UsageError(DNS_USAGE);
  const config = loadConfig({ file: values.config, env: process.env, cwd: process.cwd() });
  const domain = domainArg.toLowerCase();
  const domains = await directoryJson<Array<{ name: string; region: string }>>(config, ['domain', 'list']);
  const found = domains.find((d) => d.name === domain);
  if (!found) throw new UsageError(`unknown domain ${domain}`);
  const keys = await directoryJson<DkimKeyView[]>(config, ['dkim', 'list', domain]);
  const input = zoneInput(config, domain, found.region, keys);
  if (sub === 'zone') {
    process.stdout.write(
      values.json ? `${JSON.stringify(zoneRecords(input), null, 2)}\n` : zoneFragment(input),
    );
    return EXIT_OK;
  }
  const checks = await checkRecords(
    createAuthResolver(parseDnsServers(config.dns.servers)),
    zoneRecords(input),
  );
  if (values.json) process.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
  else
    for (const c of checks)
      process.stdout.write(
        `${c.ok ? 'ok     ' : 'MISSING'} ${c.name} ${c.type} ${c.ok ? '' : `expected ${c.value}; found ${c.found}`}\n`,
      );
  return checks.every((c) => c.ok) ? EXIT_OK : EXIT_FAILURE;
}
