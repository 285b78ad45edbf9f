/**
 * `delegato federation init | issue | join | status` through the real command (a child process each), on
 * real data dirs: the PKI round trip, the files and their modes, exit codes and the one-line errors
 * (docs/cli.md: 0 success, 2 bad input or a refused operation, 1 other failures).
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@delegato/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { refusal, runCli } from './federation-support.js';

const work = tempDir('delegato-fed-cli-');
afterAll(() => work.remove());

/** The environment of region `id` with its data dir under the work dir. */
const region = (id: string) => ({ DELEGATO_REGION_ID: id, DELEGATO_DATA_DIR: join(work.path, id) });
const cli = (args: string[], id: string) =>
  runCli(['federation', ...args], { cwd: work.path, env: region(id) });

describe('delegato federation init, issue, join, status', () => {
  it('round trip: init in north, issue for south, join in south; refusals with their exit codes', {
    timeout: 180_000,
  }, async () => {
    // Before anything: status says so, and exits 0.
    const before = await cli(['status', '--json'], 'north');
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({
      region: 'north',
      ca: { present: false },
      certificate: { present: false },
      appliance: { running: false },
      hub: { state: 'not this region' },
      replication: { lastPull: null, lagMs: null, writerReachable: null },
    });

    const init = await cli(['init', '--host', 'north.example.net', '--json'], 'north');
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    const initJson = JSON.parse(init.stdout);
    expect(initJson.region).toBe('north');
    expect(initJson.certificate.names).toEqual(['DNS:north.federation.invalid', 'DNS:north.example.net']);
    const northDir = join(work.path, 'north');
    expect(statSync(join(northDir, 'federation', 'ca-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(northDir, 'federation', 'region-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(northDir, 'federation.key')).mode & 0o777).toBe(0o600);

    // A second init: refused (2), one line, nothing on stdout.
    const again = refusal(await cli(['init'], 'north'));
    expect(again).toMatchObject({ code: 2, lines: 1, stdout: '' });
    expect(again.line).toMatch(/^delegato: a federation CA already exists/);

    // Usage errors: 2.
    expect(refusal(await cli(['issue', 'south'], 'north'))).toMatchObject({ code: 2, lines: 1 });
    expect(refusal(await cli(['issue', 'south'], 'north')).line).toContain('--out');
    expect(refusal(await cli(['issue', 'South!', '--out', 'x.json'], 'north')).line).toContain(
      'invalid region id',
    );
    expect(refusal(await cli(['issue', 'south', '--out', 'x.json', '--bogus'], 'north')).code).toBe(2);
    expect(refusal(await cli(['frobnicate'], 'north')).line).toContain(
      'unknown command "federation frobnicate"',
    );
    expect(refusal(await cli([], 'north')).code).toBe(2);
    // No CA in south's data dir: issue is refused there.
    expect(refusal(await cli(['issue', 'central', '--out', 'c.json'], 'south')).code).toBe(2);

    const issue = await cli(['issue', 'south', '--host', '127.0.3.1', '--out', 'south.json'], 'north');
    expect(issue.stderr).toBe('');
    expect(issue.code).toBe(0);
    expect(issue.stdout).toContain('bundle for region south');
    const bundleFile = join(work.path, 'south.json');
    expect(statSync(bundleFile).mode & 0o777).toBe(0o600);
    const bundle = JSON.parse(readFileSync(bundleFile, 'utf8'));
    expect(bundle).toMatchObject({ format: 'delegato-federation-bundle/1', region: 'south' });
    // Never overwritten.
    expect(refusal(await cli(['issue', 'south', '--out', 'south.json'], 'north'))).toMatchObject({ code: 2 });

    // The bundle is south's: central may not install it.
    const wrong = refusal(await cli(['join', 'south.json'], 'central'));
    expect(wrong).toMatchObject({ code: 2, lines: 1 });
    expect(wrong.line).toContain('the bundle is for region south, but this region is central');
    // Not a bundle.
    writeFileSync(join(work.path, 'junk.json'), '{"hello": 1}');
    expect(refusal(await cli(['join', 'junk.json'], 'south')).code).toBe(2);
    expect(refusal(await cli(['join', 'missing.json'], 'south')).code).toBe(2);

    // South ran standalone once: it has a key of its own. Refused, then replaced on request.
    const southDir = join(work.path, 'south');
    mkdirSync(southDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(southDir, 'federation.key'), `${Buffer.alloc(32, 7).toString('base64')}\n`, {
      mode: 0o600,
    });
    const conflict = refusal(await cli(['join', 'south.json'], 'south'));
    expect(conflict).toMatchObject({ code: 2, lines: 1 });
    expect(conflict.line).toContain('--replace-key');

    const joined = await cli(['join', 'south.json', '--replace-key'], 'south');
    expect(joined.stderr).toBe('');
    expect(joined.code).toBe(0);
    expect(joined.stdout).toContain('region south joined the federation');
    // Same federation key everywhere.
    expect(readFileSync(join(southDir, 'federation.key'), 'utf8')).toBe(
      readFileSync(join(northDir, 'federation.key'), 'utf8'),
    );
    // Joining again is harmless (same CA, same key).
    expect((await cli(['join', 'south.json'], 'south')).code).toBe(0);

    const status = await cli(['status', '--json'], 'south');
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout);
    const north = JSON.parse((await cli(['status', '--json'], 'north')).stdout);
    expect(s).toMatchObject({
      region: 'south',
      ca: { present: true, holdsKey: false },
      certificate: { present: true, region: 'south' },
      federationKey: { present: true, fingerprint: north.federationKey.fingerprint },
      appliance: { running: false },
    });
    expect(s.certificate.problem).toBeUndefined();
    expect(s.certificate.daysLeft).toBeGreaterThan(800);
    expect(north).toMatchObject({ ca: { present: true, holdsKey: true }, certificate: { region: 'north' } });
    // Text form: one line per fact.
    const text = (await cli(['status'], 'south')).stdout;
    expect(text).toContain('region certificate: south, valid until');
    expect(text).toContain('replication: appliance not running');

    // The hub commands need the running appliance of the hub region: 1 when none runs.
    const hub = refusal(await cli(['hub', 'status'], 'north'));
    expect(hub).toMatchObject({ code: 1, lines: 1 });
    expect(hub.line).toContain('no appliance is running');
  });
});
