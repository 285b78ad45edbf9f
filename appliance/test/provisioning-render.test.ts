/**
 * Provisioning (issue 17): `npm run provision -- --region <id> --root <dir>` renders every file of a
 * region host below <dir>. The unit files pass `systemd-analyze verify` (each verified by path, with
 * --root so that the launcher they run is the rendered one; systemd's own units are copied in from
 * this host, as a Debian root has them), the firewall rules pass `nft -c` (Debian's nftables), the region
 * file passes `delegato config check`, rendering twice changes nothing, and --dry-run writes nothing.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(repo, 'appliance', 'bin', 'delegato.mjs');
const REGIONS = ['north', 'central', 'south'] as const;

let temp: ReturnType<typeof tempDir>;

async function provision(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('npm', ['run', '--silent', 'provision', '--', ...args], { cwd: repo, timeout: 60_000 });
}

/** Every file and directory below `root`: path, mode, size, mtime, content. */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const st = statSync(path);
      const content = entry.isFile() ? readFileSync(path, 'utf8') : '';
      out.set(relative(root, path), `${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${content}`);
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(root);
  return out;
}

const rootOf = (region: string) => join(temp.path, region);

beforeAll(async () => {
  temp = tempDir('delegato-provision-');
  for (const region of REGIONS) {
    const { stdout } = await provision(['--region', region, '--root', rootOf(region)]);
    expect(stdout).toMatch(new RegExp(`region ${region}: \\d+ change\\(s\\) made`));
  }
}, 120_000);

afterAll(() => temp?.remove());

describe('npm run provision -- --region <id> --root <dir>', () => {
  it.each(REGIONS)('renders units that systemd-analyze verify accepts, each by path (%s)', async (region) => {
    const root = rootOf(region);
    cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true });
    const units = readdirSync(join(root, 'etc/systemd/system')).sort();
    expect(units).toEqual(['delegato-backup.service', 'delegato-backup.timer', 'delegato.service']);
    for (const unit of units) {
      const file = join(root, 'etc/systemd/system', unit);
      const result = await run('systemd-analyze', ['verify', `--root=${root}`, file]);
      expect(result.stderr, unit).toBe('');
    }
  });

  it('the appliance unit is hardened: read-only system, no new privileges, only CAP_NET_BIND_SERVICE', () => {
    const unit = readFileSync(join(rootOf('north'), 'etc/systemd/system/delegato.service'), 'utf8');
    for (const line of [
      'ProtectSystem=strict',
      'NoNewPrivileges=yes',
      'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
      'AmbientCapabilities=CAP_NET_BIND_SERVICE',
      'User=delegato',
      'ReadWritePaths=/var/lib/delegato /var/log/delegato',
      'ExecStart=/usr/local/sbin/delegato start --config /etc/delegato/region.yaml',
    ])
      expect(unit).toContain(`\n${line}\n`);
    const backup = readFileSync(join(rootOf('north'), 'etc/systemd/system/delegato-backup.service'), 'utf8');
    expect(backup).toContain('\nExecStart=/usr/local/sbin/delegato backup /var/backups/delegato --keep 14');
    expect(backup).toContain('\nCapabilityBoundingSet=\n');
  });

  it.each(REGIONS)('renders a region file that delegato config check accepts (%s)', async (region) => {
    const file = join(rootOf(region), 'etc/delegato/region.yaml');
    const { stdout } = await run(process.execPath, [BIN, 'config', 'check', file]);
    expect(stdout).toBe(`${file}: valid\n`);
    expect(readFileSync(file, 'utf8')).toBe(readFileSync(join(repo, 'regions', `${region}.yaml`), 'utf8'));
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  it.each(REGIONS)(
    'renders firewall rules that nft accepts (nft -c: parsed and checked, nothing loaded) (%s)',
    async (region) => {
      const result = await run('nft', ['-c', '-f', join(rootOf(region), 'etc/delegato/firewall.nft')]);
      expect(result.stderr).toBe('');
    },
  );

  it('renders the firewall: mail ports open, admin to its networks, federation ports to the peers only', () => {
    const rules = readFileSync(join(rootOf('central'), 'etc/delegato/firewall.nft'), 'utf8');
    expect(rules).toContain('policy drop;');
    expect(rules).toContain('tcp dport { 25, 110, 143, 443, 465, 587, 993, 995 } accept');
    expect(rules).toContain('ip saddr { 192.168.56.0/24, 127.0.0.0/8 } tcp dport 8443 accept');
    expect(rules).toContain(
      'ip saddr { 192.168.56.11, 192.168.56.13 } tcp dport { 2466, 2467, 2468 } accept',
    );
  });

  it('rendering twice changes nothing', async () => {
    const before = snapshot(rootOf('south'));
    const { stdout } = await provision(['--region', 'south', '--root', rootOf('south')]);
    expect(stdout).toBe('region south: nothing to change\n');
    expect(snapshot(rootOf('south'))).toEqual(before);
  });

  it('--dry-run prints what would change and writes nothing', async () => {
    const root = join(temp.path, 'dry');
    const { stdout } = await provision(['--region', 'north', '--root', root, '--dry-run']);
    expect(stdout).toContain(`would write ${join(root, 'etc/systemd/system/delegato.service')} (0644, new)`);
    expect(stdout).toContain(`would create directory ${join(root, 'var/lib/delegato')} (0700)`);
    expect(stdout).toMatch(/region north: \d+ change\(s\) to make \(dry run\)\n$/);
    expect(existsSync(root)).toBe(false);
  });

  it('a changed file is rewritten, and only that one', async () => {
    const unit = join(rootOf('central'), 'etc/systemd/system/delegato-backup.timer');
    const original = readFileSync(unit, 'utf8');
    writeFileSync(unit, `${original}# local edit\n`);
    const { stdout } = await provision(['--region', 'central', '--root', rootOf('central')]);
    expect(stdout.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^write ${unit} \\(0644, was [0-9a-f]{12} now [0-9a-f]{12}\\)$`)),
      'region central: 1 change(s) made',
    ]);
    expect(readFileSync(unit, 'utf8')).toBe(original);
  });

  it('refuses an unknown region with a clear error', async () => {
    await expect(provision(['--region', 'west', '--root', join(temp.path, 'west')])).rejects.toMatchObject({
      stderr: expect.stringMatching(/provision: cannot read the region file .*regions\/west\.yaml/),
    });
  });
});
