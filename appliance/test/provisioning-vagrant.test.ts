/**
 * The Vagrant lab (issue 17): Debian's `vagrant validate` accepts the Vagrantfile. No provider plugin is
 * installed here and nothing may leave the machine, so it runs with --ignore-provider (the provider
 * blocks are for libvirt or VirtualBox on the host that runs the VMs) and without Vagrant's version
 * check; its state directory goes to a temp dir, not the repository.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '@delegato/testkit';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const temp = tempDir('delegato-vagrant-');

afterAll(() => temp.remove());

describe('Vagrantfile', () => {
  it('vagrant validate accepts it', async () => {
    const { stdout } = await run('vagrant', ['validate', '--ignore-provider'], {
      cwd: repo,
      timeout: 120_000,
      env: {
        ...process.env,
        VAGRANT_CHECKPOINT_DISABLE: '1',
        VAGRANT_HOME: join(temp.path, 'home'),
        VAGRANT_DOTFILE_PATH: join(temp.path, 'dot'),
      },
    });
    expect(stdout).toContain('Vagrantfile validated successfully.');
    for (const region of ['north', 'central', 'south'])
      expect(stdout).toContain(`==> ${region}: Ignoring provider config for validation...`);
  }, 120_000);

  it('provisions each VM from its region file with the provisioning scripts', () => {
    const vagrantfile = readFileSync(join(repo, 'Vagrantfile'), 'utf8');
    expect(vagrantfile).toContain('path: "provisioning/bootstrap.sh"');
    for (const region of ['north', 'central', 'south']) {
      const regionFile = readFileSync(join(repo, 'regions', `${region}.yaml`), 'utf8');
      const address = /host: (192\.168\.56\.\d+)/.exec(
        regionFile.split('\n').find((l) => l.includes(`region: ${region},`)) ?? '',
      )?.[1];
      expect(address, region).toBeDefined();
      expect(vagrantfile).toContain(`"${region}" => "${address}"`);
    }
  });
});
