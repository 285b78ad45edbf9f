#!/usr/bin/env node
// Installs the Debian packages that the tests drive as real clients, when they are missing.
// `npm test` runs this first; it prints what it installs. These machines run as root.
import { execFileSync, spawnSync } from 'node:child_process';

/** command on PATH -> Debian package that provides it, and why the tests need it. */
const NEEDED = [{ command: 'swaks', pkg: 'swaks', why: 'SMTP acceptance tests send mail with swaks' }];

const missing = NEEDED.filter(({ command }) => spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0);
if (missing.length === 0) {
  console.log(`test dependencies present: ${NEEDED.map((n) => n.command).join(', ')}`);
  process.exit(0);
}
for (const m of missing) console.log(`installing Debian package ${m.pkg} (${m.why})`);
if (process.getuid?.() !== 0) {
  console.error(`not root: install these packages yourself: ${missing.map((m) => m.pkg).join(' ')}`);
  process.exit(1);
}
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'update', '-qq'], { stdio: 'inherit', env });
execFileSync(
  'apt-get',
  [
    '-o',
    'DPkg::Lock::Timeout=600',
    'install',
    '-y',
    '-qq',
    '--no-install-recommends',
    ...missing.map((m) => m.pkg),
  ],
  {
    stdio: 'inherit',
    env,
  },
);
