#!/usr/bin/env node
// Installs the Debian packages that the tests drive as real clients, when they are missing.
// `npm test` runs this first; it prints what it installs. These machines run as root.
import { execFileSync, spawnSync } from 'node:child_process';

/** A shell check that succeeds when present -> the Debian package, and why the tests need it. */
const NEEDED = [
  { check: 'command -v swaks', pkg: 'swaks', why: 'SMTP tests send mail with swaks' },
  { check: 'perl -MNet::SSLeay -MIO::Socket::SSL -e 1', pkg: 'libnet-ssleay-perl', why: 'swaks --tls' },
  { check: 'perl -MIO::Socket::SSL -e 1', pkg: 'libio-socket-ssl-perl', why: 'swaks --tls' },
  { check: 'perl -MAuthen::SASL -e 1', pkg: 'libauthen-sasl-perl', why: 'swaks --auth' },
  { check: 'perl -MDigest::HMAC_MD5 -e 1', pkg: 'libdigest-hmac-perl', why: 'swaks --auth CRAM-MD5' },
  { check: 'command -v fetchmail', pkg: 'fetchmail', why: 'POP3 tests download mail with fetchmail' },
  {
    check: 'python3 -c "import poplib, imaplib, email"',
    pkg: 'python3',
    why: 'poplib, imaplib and email tests',
  },
  { check: 'command -v curl', pkg: 'curl', why: 'IMAP tests fetch with curl imap://' },
  { check: 'test -x /usr/bin/chromium', pkg: 'chromium', why: 'admin UI tests run headless Chromium' },
  {
    check: 'test -x /usr/sbin/dnsmasq',
    pkg: 'dnsmasq-base',
    why: 'outbound delivery is tested against a real DNS server that refuses AAAA',
  },
  {
    check: 'command -v promtool',
    pkg: 'prometheus',
    why: 'metrics are checked by promtool and scraped by Prometheus',
  },
  { check: 'command -v pebble', pkg: 'pebble', why: 'ACME certificates are issued by a local pebble server' },
  { check: 'command -v vagrant', pkg: 'vagrant', why: 'the Vagrantfile is checked by vagrant validate' },
  {
    check: 'command -v named-checkzone',
    pkg: 'bind9-utils',
    why: 'DNS zone fragments are checked by named-checkzone',
  },
  { check: 'command -v dkimverify', pkg: 'python3-dkim', why: 'DKIM signatures are verified by dkimpy' },
  { check: 'test -x /usr/sbin/nft', pkg: 'nftables', why: 'rendered firewall rules are checked by nft -c' },
];

const missing = NEEDED.filter(
  ({ check }) => spawnSync('sh', ['-c', `${check} >/dev/null 2>&1`]).status !== 0,
);
if (missing.length === 0) {
  console.log(`test dependencies present: ${[...new Set(NEEDED.map((n) => n.pkg))].join(', ')}`);
  process.exit(0);
}
const pkgs = [...new Set(missing.map((m) => m.pkg))];
for (const m of missing) console.log(`installing Debian package ${m.pkg} (${m.why})`);
if (process.getuid?.() !== 0) {
  console.error(`not root: install these packages yourself: ${pkgs.join(' ')}`);
  process.exit(1);
}
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const apt = (...args) =>
  execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], { stdio: 'inherit', env });
apt('update', '-qq');
apt('install', '-y', '-qq', '--no-install-recommends', ...pkgs);
