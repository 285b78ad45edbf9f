/**
 * The `delegato` CLI without a running appliance: real processes (`bin/delegato.mjs`) on real data dirs,
 * and the command table in-process (`executeCommand`) against a real directory for the long tables of
 * error paths. The contract under test (docs/cli.md): exit 0 on success; 2 for bad input or usage with
 * exactly one `delegato: ...` line on stderr, nothing on stdout and nothing changed; 1 for other failures.
 *
 * Every spawn costs about a second, so the spawned tests run concurrently on separate data dirs; two
 * processes never use the same data dir at once (the directory file is locked by whoever opens it).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Actor, Directory } from '@delegato/directory';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CommandResult,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  executeCommand,
  parseCommand,
  parseSize,
  UsageError,
} from '../src/cli/commands.js';
import { loadConfig } from '../src/config/load.js';
import { openDirectory } from '../src/open-directory.js';

const BIN = fileURLToPath(new URL('../bin/delegato.mjs', import.meta.url));
const WORK = mkdtempSync(join(tmpdir(), 'delegato-cli-'));
afterAll(() => rmSync(WORK, { recursive: true, force: true }));

const ACTOR: Actor = { kind: 'operator', name: 'cli:test', from: 'local' };
const SLOW = { timeout: 120_000 };
const PASSWORD = 'correct horse battery staple';

let dirCounter = 0;
/** A fresh, not yet existing data dir under the work dir. */
function dataDir(label: string): string {
  dirCounter += 1;
  return join(WORK, `${label}-${dirCounter}`);
}

interface CliOptions {
  dataDir: string;
  stdin?: string;
  env?: Record<string, string>;
}

/** Runs `delegato <args>` as a real process; resolves when it has exited. */
function runCli(args: string[], opts: CliOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: WORK,
      env: { ...process.env, DELEGATO_DATA_DIR: opts.dataDir, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    // A hung CLI must fail the test, not the whole run.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === null) reject(new Error(`delegato ${args.join(' ')} killed by ${signal}\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
    // The child may exit without reading its input.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
  });
}

/** Success: exit 0 and nothing on stderr. */
function expectOk(r: CommandResult): void {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: EXIT_OK, stderr: '' });
  expect(r.stdout.length).toBeGreaterThan(0);
}

/** The error contract: the exit status, exactly one non-empty `delegato:` line on stderr, empty stdout. */
function expectError(r: CommandResult, code: number, mention?: RegExp): void {
  expect(r).toEqual({ code, stdout: '', stderr: expect.stringMatching(/^delegato: \S[^\n]*\n$/) });
  if (mention) expect(r.stderr).toMatch(mention);
}

function json<T = unknown>(r: CommandResult): T {
  expectOk(r);
  return JSON.parse(r.stdout) as T;
}

async function withDirectory<T>(dir: string, fn: (directory: Directory) => Promise<T>): Promise<T> {
  const directory = await openDirectory(loadConfig({ env: { DELEGATO_DATA_DIR: dir }, cwd: WORK }));
  try {
    return await fn(directory);
  } finally {
    await directory.close();
  }
}

/** Runs one command in-process, as the CLI does when no appliance runs. */
function exec(directory: Directory, argv: string[], stdin?: string): Promise<CommandResult> {
  return executeCommand(argv, { directory, actor: ACTOR, ...(stdin !== undefined ? { stdin } : {}) });
}

/** Everything a command could change, as the `--json` listings show it, plus the audit log's length. */
async function state(directory: Directory): Promise<unknown> {
  const listing = async (argv: string[]) => {
    const r = await exec(directory, [...argv, '--json']);
    return r.code === EXIT_OK ? JSON.parse(r.stdout) : r.stderr;
  };
  const domains = (await listing(['domain', 'list'])) as Array<{ name: string }>;
  const perDomain: Record<string, unknown> = {};
  for (const d of domains) {
    perDomain[d.name] = {
      mailboxes: await listing(['mailbox', 'list', d.name]),
      aliases: await listing(['alias', 'list', d.name]),
    };
  }
  const audit = (await listing(['audit', '--limit', '10000'])) as unknown[];
  return { domains, perDomain, admins: await listing(['admin', 'list']), auditRows: audit.length };
}

/** The state of a data dir, read in-process (the directory is closed again before returning). */
function stateOf(dir: string): Promise<unknown> {
  return withDirectory(dir, state);
}

/** Creates a data dir with iat.example and Rose Pinkcheeks, in-process. */
async function seeded(label: string): Promise<string> {
  const dir = dataDir(label);
  await withDirectory(dir, async (d) => {
    expect((await exec(d, ['domain', 'add', 'iat.example'])).code).toBe(EXIT_OK);
    const r = await exec(d, ['mailbox', 'add', 'iat.example', '--first', 'Rose', '--last', 'Pinkcheeks']);
    expect(r.code).toBe(EXIT_OK);
  });
  return dir;
}

describe.concurrent('delegato (spawned, no appliance running)', () => {
  it('adds a domain, mailboxes, aliases, forwards and list aliases end to end', SLOW, async () => {
    const dir = dataDir('flow');
    // Arguments as one string: none of them contains a space.
    const cli = (args: string, stdin?: string) =>
      runCli(args.split(' '), { dataDir: dir, ...(stdin !== undefined ? { stdin } : {}) });

    const domain = await cli('domain add iat.example');
    expectOk(domain);
    expect(domain.stdout).toContain('iat.example');

    // A personal mailbox: official address, generated aliases, a generated password shown once.
    const rose = await cli('mailbox add iat.example --first Rose --last Pinkcheeks');
    expectOk(rose);
    const roseLines = rose.stdout.trim().split('\n');
    expect(roseLines[0]).toBe('rose.pinkcheeks@iat.example');
    expect(rose.stdout).toContain('alias r.pinkcheeks@iat.example');
    expect(rose.stdout).toContain('alias pinkcheeks@iat.example');
    expect(rose.stdout).toContain('username rose.pinkcheeks');
    expect(rose.stdout).toMatch(/password [A-Za-z0-9]{16,} \(generated; shown only now\)/);

    // --password-stdin: the password is not echoed; --quota takes a suffix.
    const mario = await cli(
      'mailbox add iat.example --first Mario --last Rossi --password-stdin --quota 500M --json',
      `${PASSWORD}\n`,
    );
    const marioJson = json<{ address: string; password?: string }>(mario);
    expect(marioJson.address).toBe('mario.rossi@iat.example');
    expect(marioJson.password).toBeUndefined();
    expect(mario.stdout).not.toContain(PASSWORD);

    // A second Rossi makes rossi@ and m.rossi@ ambiguous.
    const marco = json<{
      address: string;
      aliases: Array<{ address: string; ambiguous: boolean; candidates: string[] }>;
    }>(await cli('mailbox add iat.example --first Marco --last Rossi --expires 2030-01-31 --json'));
    expect(marco.address).toBe('marco.rossi@iat.example');
    expect(marco.aliases.find((a) => a.address === 'rossi@iat.example')).toMatchObject({ ambiguous: true });

    const aliasesText = await cli('alias list iat.example');
    expectOk(aliasesText);
    const line = (address: string) =>
      aliasesText.stdout.split('\n').find((l) => l.startsWith(`${address}\t`)) ?? '';
    for (const address of ['rossi@iat.example', 'm.rossi@iat.example']) {
      expect(line(address)).toContain('ambiguous');
      expect(line(address)).toContain('mario.rossi@iat.example');
      expect(line(address)).toContain('marco.rossi@iat.example');
    }
    expect(line('r.pinkcheeks@iat.example')).not.toContain('ambiguous');

    const aliases = json<Array<{ address: string; ambiguous: boolean; targets: string[] }>>(
      await cli('alias list iat.example --json'),
    );
    for (const address of ['rossi@iat.example', 'm.rossi@iat.example']) {
      const alias = aliases.find((a) => a.address === address);
      expect(alias?.ambiguous).toBe(true);
      expect([...(alias?.targets ?? [])].sort()).toEqual([
        'marco.rossi@iat.example',
        'mario.rossi@iat.example',
      ]);
    }
    expect(aliases.find((a) => a.address === 'pinkcheeks@iat.example')).toMatchObject({
      ambiguous: false,
      targets: ['rose.pinkcheeks@iat.example'],
    });

    // A duplicate is refused with a hint, nothing changed; --address picks another official address.
    const before = await stateOf(dir);
    const dup = await cli('mailbox add iat.example --first Rose --last Pinkcheeks');
    expectError(dup, EXIT_USAGE, /rose\.pinkcheeks@iat\.example already exists.*--address/);
    expect(await stateOf(dir)).toEqual(before);

    const rose2 = await cli(
      'mailbox add iat.example --first Rose --last Pinkcheeks --address rose2 --username rosep',
    );
    expectOk(rose2);
    expect(rose2.stdout.split('\n')[0]).toBe('rose2@iat.example');
    expect(rose2.stdout).toContain('username rosep');

    const helpdesk = await cli('mailbox add iat.example --role helpdesk');
    expectOk(helpdesk);
    expect(helpdesk.stdout.split('\n')[0]).toBe('helpdesk@iat.example');

    const list = json<{
      total: number;
      mailboxes: Array<{
        address: string;
        kind: string;
        quotaBytes: number | null;
        expiresOn: string | null;
      }>;
    }>(await cli('mailbox list iat.example --json'));
    const byAddress = new Map(list.mailboxes.map((m) => [m.address, m]));
    expect([...byAddress.keys()].sort()).toEqual([
      'helpdesk@iat.example',
      'marco.rossi@iat.example',
      'mario.rossi@iat.example',
      'postmaster@iat.example',
      'rose.pinkcheeks@iat.example',
      'rose2@iat.example',
    ]);
    expect(byAddress.get('mario.rossi@iat.example')?.quotaBytes).toBe(524_288_000);
    expect(byAddress.get('marco.rossi@iat.example')?.expiresOn).toBe('2030-01-31');
    expect(byAddress.get('helpdesk@iat.example')?.kind).toBe('role');

    const never = await cli('mailbox expire marco.rossi@iat.example never');
    expectOk(never);
    expect(never.stdout).toContain('never expires');

    const team = json<{ address: string; targets: string[] }>(
      await cli('alias add team@iat.example rose.pinkcheeks@iat.example mario.rossi@iat.example --json'),
    );
    expect(team.address).toBe('team@iat.example');
    expect([...team.targets].sort()).toEqual(['mario.rossi@iat.example', 'rose.pinkcheeks@iat.example']);

    const forward = json<{ kind: string; targets: string[] }>(
      await cli('forward add old.user@iat.example old.user@remote.example --json'),
    );
    expect(forward).toMatchObject({ kind: 'forward', targets: ['old.user@remote.example'] });

    const listAlias = json<{ kind: string; targets: string[] }>(
      await cli('list add staff@iat.example staff@lists.example --json'),
    );
    expect(listAlias).toMatchObject({ kind: 'list', targets: ['staff@lists.example'] });

    expectOk(await cli('alias remove team@iat.example'));

    const removed = await cli('mailbox remove rose2@iat.example');
    expectOk(removed);
    expect(removed.stdout).toContain('removed rose2@iat.example');
    const purged = await cli('mailbox remove rose2@iat.example --purge');
    expectOk(purged);
    expect(purged.stdout).toContain('purged rose2@iat.example');

    await withDirectory(dir, async (d) => {
      const boxes = (await d.listMailboxes(ACTOR, 'iat.example')).mailboxes;
      expect(boxes.map((m) => m.address)).not.toContain('rose2@iat.example');
      expect(boxes.find((m) => m.address === 'marco.rossi@iat.example')?.expiresOn).toBeNull();
      const kinds = Object.fromEntries(
        (await d.listAliases(ACTOR, 'iat.example')).map((a) => [a.address, a.kind]),
      );
      expect(kinds['team@iat.example']).toBeUndefined();
      expect(kinds['old.user@iat.example']).toBe('forward');
      expect(kinds['staff@iat.example']).toBe('list');
    });
  });

  it('adds, lists and removes a domain administrator', SLOW, async () => {
    const dir = await seeded('admin');
    const added = json<{ username: string; role: string; domains: string[]; password?: string }>(
      await runCli(['admin', 'add', 'dadmin', '--domains', 'iat.example', '--password-stdin', '--json'], {
        dataDir: dir,
        stdin: `${PASSWORD}\n`,
      }),
    );
    expect(added).toEqual({ username: 'dadmin', role: 'domain-admin', domains: ['iat.example'] });

    const admins = json<Array<{ username: string; role: string; domains: string[] }>>(
      await runCli(['admin', 'list', '--json'], { dataDir: dir }),
    );
    expect(admins).toEqual([
      expect.objectContaining({ username: 'dadmin', role: 'domain-admin', domains: ['iat.example'] }),
    ]);

    const removed = await runCli(['admin', 'remove', 'dadmin'], { dataDir: dir });
    expectOk(removed);
    expect(await withDirectory(dir, (d) => d.listAdmins(ACTOR))).toEqual([]);
  });

  it(
    'lets an operator back in: admin access clears network, certificate and TOTP restrictions; admin passwd',
    SLOW,
    async () => {
      const dir = await seeded('admin-access');
      await withDirectory(dir, async (d) => {
        await d.addAdmin(ACTOR, { username: 'locked', role: 'operator', password: PASSWORD });
        await d.setAdminAccess(ACTOR, 'locked', {
          allowedNetworks: ['192.0.2.0/24'],
          certFingerprint: 'ab'.repeat(32),
        });
        await d.setAdminTotpSecret(ACTOR, 'locked', 'JBSWY3DPEHPK3PXP');
        // Locked out from here: a wrong network (and no certificate).
        await expect(d.authenticateAdmin('locked', PASSWORD, '127.0.0.1')).rejects.toThrow();
      });
      const shown = json<{ allowedNetworks: string[]; certFingerprint: string | null; totp: boolean }>(
        await runCli(['admin', 'access', 'locked', '--json'], { dataDir: dir }),
      );
      expect(shown).toMatchObject({
        allowedNetworks: ['192.0.2.0/24'],
        certFingerprint: 'ab'.repeat(32),
        totp: true,
      });

      const narrowed = json<{ allowedNetworks: string[] }>(
        await runCli(['admin', 'access', 'locked', '--networks', '127.0.0.1, 10.1.2.3/8', '--json'], {
          dataDir: dir,
        }),
      );
      expect(narrowed.allowedNetworks).toEqual(['127.0.0.1/32', '10.0.0.0/8']);
      const cleared = await runCli(['admin', 'access', 'locked', '--any-network', '--no-cert', '--no-totp'], {
        dataDir: dir,
      });
      expectOk(cleared);
      expect(cleared.stdout).toContain('networks: any');
      expect(cleared.stdout).toContain('client certificate: not required');
      expect(cleared.stdout).toContain('two-step sign-in: off');

      expectOk(
        await runCli(['admin', 'passwd', 'locked', '--password-stdin'], {
          dataDir: dir,
          stdin: 'a brand new passphrase\n',
        }),
      );
      await withDirectory(dir, async (d) => {
        expect(await d.authenticateAdmin('locked', PASSWORD, '127.0.0.1')).toBeNull();
        expect(await d.authenticateAdmin('locked', 'a brand new passphrase', '127.0.0.1')).toMatchObject({
          kind: 'operator',
        });
        expect(await d.adminTotpSecret('locked')).toBeNull();
        const actions = (await d.listAudit(ACTOR, { limit: 50 })).map((r) => r.action);
        expect(actions.filter((a) => a === 'admin.access')).toHaveLength(3);
      });
    },
  );

  it('shows and checks the configuration, prints help, and refuses bad configuration', SLOW, async () => {
    const dir = dataDir('config');
    const regions = join(WORK, 'regions');
    mkdirSync(regions, { recursive: true });
    const good = join(regions, 'paris.yaml');
    const bad = join(regions, 'broken.yaml');
    writeFileSync(good, 'region:\n  id: paris\n  name: Paris\nport:\n  smtp: 2600\n');
    writeFileSync(bad, 'region:\n  id: paris\nport:\n  smtp: 70000\n  imap: -1\n');
    const opts = { dataDir: dir };

    const [show, showJson, showFile, check, checkBad, help, badEnv, badEnvConfig, unknown, none] =
      await Promise.all([
        runCli(['config', 'show'], opts),
        runCli(['config', 'show', '--json'], opts),
        runCli(['--config', good, 'config', 'show', '--json'], opts),
        runCli(['config', 'check', good], opts),
        runCli(['config', 'check', bad], opts),
        runCli(['--help'], opts),
        runCli(['domain', 'list'], { ...opts, env: { DELEGATO_PORT_ADMIN: '99999' } }),
        runCli(['config', 'show'], { ...opts, env: { DELEGATO_PORT_ADMIN: '99999' } }),
        runCli(['frobnicate', 'now'], opts),
        runCli([], opts),
      ]);

    expectOk(show);
    expect(show.stdout).toMatch(/^region:\n {2}id: local\n/m);
    expect(show.stdout).toMatch(/^port:\n(?: {2}\w+: \d+\n)*? {2}admin: 8443\n/m);
    expect(show.stdout).toContain(`dir: ${dir}`);

    const config = json<{ region: { id: string }; port: { admin: number }; data: { dir: string } }>(showJson);
    expect(config.region.id).toBe('local');
    expect(config.port.admin).toBe(8443);
    expect(config.data.dir).toBe(dir);

    expect(json<{ region: { id: string }; port: { smtp: number } }>(showFile)).toMatchObject({
      region: { id: 'paris' },
      port: { smtp: 2600 },
    });

    expectOk(check);
    expect(check.stdout).toContain('valid');
    expectError(checkBad, EXIT_USAGE, /port\.smtp/);
    expect(checkBad.stderr).toContain('port.imap');

    expectOk(help);
    expect(help.stdout).toContain('usage: delegato');
    expect(help.stdout).toContain('mailbox add <domain>');

    expectError(badEnv, EXIT_USAGE, /port\.admin/);
    expect(badEnv.stderr).toContain('DELEGATO_PORT_ADMIN');
    expectError(badEnvConfig, EXIT_USAGE, /port\.admin/);

    expectError(unknown, EXIT_USAGE, /unknown command/);
    expectError(none, EXIT_USAGE, /no command/);
    // Neither a configuration error nor a usage error touched the data dir.
    expect(existsSync(dir)).toBe(false);
  });

  it('keeps the error contract for bad input: exit 2, one stderr line, nothing changed', SLOW, async () => {
    const dir = await seeded('errors');
    const cases: Array<{ args: string[]; mention: RegExp; stdin?: string }> = [
      {
        args: ['mailbox', 'add', 'nowhere.example', '--first', 'Ann', '--last', 'Other'],
        mention: /unknown domain nowhere\.example/,
      },
      {
        args: ['alias', 'add', 'not-an-address', 'x@y.example'],
        mention: /invalid address "not-an-address"/i,
      },
      {
        args: [
          'mailbox',
          'add',
          'iat.example',
          '--first',
          'Ann',
          '--last',
          'Other',
          '--expires',
          '2026-02-30',
        ],
        mention: /2026-02-30/,
      },
      { args: ['domain', 'add', 'iat.example'], mention: /already exists/ },
      { args: ['domain', 'add', 'x.example', '--bogus'], mention: /--bogus/ },
      {
        args: ['mailbox', 'add', 'iat.example', '--first', 'Ann', '--last', 'Other', '--password-stdin'],
        stdin: '',
        mention: /standard input is empty/,
      },
      { args: ['mailbox', 'remove'], mention: /wrong number of arguments/ },
    ];
    let before = await stateOf(dir);
    for (const c of cases) {
      const r = await runCli(c.args, { dataDir: dir, ...(c.stdin !== undefined ? { stdin: c.stdin } : {}) });
      expectError(r, EXIT_USAGE, c.mention);
      const after = await stateOf(dir);
      expect(after, c.args.join(' ')).toEqual(before);
      before = after;
    }
  });

  it('fails with exit 1 and does not hang while another process holds the directory', SLOW, async () => {
    const dir = await seeded('locked');
    await withDirectory(dir, async () => {
      const started = Date.now();
      const r = await runCli(['domain', 'list'], { dataDir: dir });
      expectError(r, EXIT_FAILURE, /locked/);
      expect(Date.now() - started).toBeLessThan(30_000);
    });
  });
});

describe('command parsing', () => {
  it.each([
    ['0', 0],
    ['1048576', 1_048_576],
    ['512K', 524_288],
    ['500M', 524_288_000],
    ['500m', 524_288_000],
    ['2G', 2_147_483_648],
    ['1GB', 1_073_741_824],
    ['1GiB', 1_073_741_824],
    [' 3 M ', 3_145_728],
  ])('parseSize(%j) is %d bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each(['lots', '', '-5M', '1.5G', '5X', 'M', '99999999999T'])(
    'parseSize(%j) is a usage error',
    (input) => {
      expect(() => parseSize(input)).toThrow(UsageError);
    },
  );

  it('finds the command, its arguments and options', () => {
    const p = parseCommand(['mailbox', 'add', 'iat.example', '--first', 'Rose', '--last', 'P', '--json']);
    expect(p.spec.words).toEqual(['mailbox', 'add']);
    expect(p.args).toEqual(['iat.example']);
    expect(p.values).toMatchObject({ first: 'Rose', last: 'P', json: true });
    // Option values are not taken for command words.
    expect(parseCommand(['alias', 'list', '--config', 'list', 'iat.example']).args).toEqual(['iat.example']);
    expect(parseCommand(['alias', 'add', 'a@iat.example', 'b@x.example', 'c@y.example']).args).toHaveLength(
      3,
    );
  });

  it.each([
    [['frobnicate'], /unknown command/],
    [['domain'], /unknown command/],
    [['domain', 'rename', 'x.example'], /unknown command/],
    [['domain', 'add'], /wrong number of arguments/],
    [['domain', 'add', 'a.example', 'b.example'], /wrong number of arguments/],
    [['domain', 'add', 'x.example', '--bogus'], /--bogus/],
    [['domain', 'add', 'x.example', '--region'], /--region/],
    [['domain', 'list', '--force'], /--force/],
    [['mailbox', 'expire', 'a@iat.example'], /wrong number of arguments/],
    [['forward', 'add', 'a@iat.example', 'b@x.example', 'c@y.example'], /wrong number of arguments/],
  ])('parseCommand(%j) is a usage error', (argv, mention) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(mention);
  });
});

describe.concurrent('executeCommand on a real directory', () => {
  interface ErrorCase {
    argv: string[];
    stdin?: string;
    code?: number;
    mention: RegExp;
    /** Set up just for this case (after the shared seed), before the "before" state is taken. */
    setup?: string[][];
  }

  const cases: Array<[string, ErrorCase]> = [
    [
      'unknown domain',
      {
        argv: ['mailbox', 'add', 'nowhere.example', '--first', 'A', '--last', 'B'],
        mention: /unknown domain/,
      },
    ],
    ['unknown domain (list)', { argv: ['mailbox', 'list', 'nowhere.example'], mention: /unknown domain/ }],
    ['invalid domain name', { argv: ['domain', 'add', 'not a domain!'], mention: /not a domain|domain/i }],
    [
      'invalid domain name (dots)',
      { argv: ['domain', 'add', 'a..example'], mention: /a\.\.example|domain/i },
    ],
    [
      'invalid address',
      {
        argv: ['alias', 'add', 'not-an-address', 'x@y.example'],
        mention: /invalid address "not-an-address"/i,
      },
    ],
    [
      'invalid target address',
      { argv: ['alias', 'add', 'team@iat.example', 'nobody@@x'], mention: /invalid address "nobody@@x"/i },
    ],
    ['duplicate domain', { argv: ['domain', 'add', 'IAT.example'], mention: /already exists/ }],
    [
      'duplicate mailbox',
      {
        argv: ['mailbox', 'add', 'iat.example', '--first', 'Rose', '--last', 'Pinkcheeks'],
        mention: /already exists.*--address/,
      },
    ],
    [
      'duplicate username',
      {
        argv: [
          'mailbox',
          'add',
          'iat.example',
          '--first',
          'Ann',
          '--last',
          'Other',
          '--username',
          'rose.pinkcheeks',
        ],
        mention: /username rose\.pinkcheeks/,
      },
    ],
    [
      'duplicate alias (an official address)',
      {
        argv: ['alias', 'add', 'rose.pinkcheeks@iat.example', 'x@remote.example'],
        mention: /already exists/,
      },
    ],
    [
      'duplicate alias (a generated alias)',
      { argv: ['alias', 'add', 'pinkcheeks@iat.example', 'x@remote.example'], mention: /already exists/ },
    ],
    [
      'duplicate alias target',
      {
        setup: [['alias', 'add', 'team@iat.example', 'x@remote.example']],
        argv: ['alias', 'add', 'team@iat.example', 'x@remote.example'],
        mention: /already exists/,
      },
    ],
    [
      'malformed date (no such day)',
      {
        argv: ['mailbox', 'add', 'iat.example', '--first', 'A', '--last', 'B', '--expires', '2026-02-30'],
        mention: /2026-02-30/,
      },
    ],
    [
      'malformed date (a word)',
      {
        argv: ['mailbox', 'add', 'iat.example', '--first', 'A', '--last', 'B', '--expires', 'tomorrow'],
        mention: /tomorrow/,
      },
    ],
    [
      'malformed date (mailbox expire)',
      { argv: ['mailbox', 'expire', 'rose.pinkcheeks@iat.example', '31/12/2026'], mention: /31\/12\/2026/ },
    ],
    [
      'malformed size',
      {
        argv: ['mailbox', 'add', 'iat.example', '--first', 'A', '--last', 'B', '--quota', 'lots'],
        mention: /invalid size "lots"/,
      },
    ],
    ['unknown option', { argv: ['domain', 'add', 'x.example', '--bogus'], mention: /--bogus/ }],
    ['option without its value', { argv: ['mailbox', 'add', 'iat.example', '--first'], mention: /--first/ }],
    [
      'missing arguments',
      { argv: ['alias', 'add', 'team@iat.example'], mention: /wrong number of arguments/ },
    ],
    [
      'too many arguments',
      { argv: ['domain', 'remove', 'iat.example', 'other.example'], mention: /wrong number of arguments/ },
    ],
    ['unknown command', { argv: ['mailbox', 'frobnicate', 'x'], mention: /unknown command/ }],
    [
      '--role with --first',
      {
        argv: ['mailbox', 'add', 'iat.example', '--role', 'helpdesk', '--first', 'Help'],
        mention: /--role/,
      },
    ],
    [
      '--role with --address',
      {
        argv: ['mailbox', 'add', 'iat.example', '--role', 'helpdesk', '--address', 'desk'],
        mention: /--role/,
      },
    ],
    [
      'personal mailbox without --last',
      { argv: ['mailbox', 'add', 'iat.example', '--first', 'Ann'], mention: /--first and --last/ },
    ],
    [
      '--password-stdin with empty stdin',
      {
        argv: ['mailbox', 'add', 'iat.example', '--first', 'A', '--last', 'B', '--password-stdin'],
        stdin: '',
        mention: /standard input is empty/,
      },
    ],
    [
      'short password',
      {
        argv: ['mailbox', 'add', 'iat.example', '--first', 'A', '--last', 'B', '--password-stdin'],
        stdin: 'short\n',
        mention: /password too short/,
      },
    ],
    [
      'mailbox passwd without --password-stdin',
      { argv: ['mailbox', 'passwd', 'rose.pinkcheeks@iat.example'], mention: /--password-stdin/ },
    ],
    [
      'mailbox passwd with a short password',
      {
        argv: ['mailbox', 'passwd', 'rose.pinkcheeks@iat.example', '--password-stdin'],
        stdin: 'short\n',
        mention: /password too short/,
      },
    ],
    [
      'admin add with both --operator and --domains',
      {
        argv: ['admin', 'add', 'bob', '--operator', '--domains', 'iat.example', '--password-stdin'],
        stdin: `${PASSWORD}\n`,
        mention: /exactly one of --operator or --domains/,
      },
    ],
    [
      'admin add with neither --operator nor --domains',
      {
        argv: ['admin', 'add', 'bob', '--password-stdin'],
        stdin: `${PASSWORD}\n`,
        mention: /exactly one of --operator or --domains/,
      },
    ],
    [
      'admin add for an unknown domain',
      {
        argv: ['admin', 'add', 'bob', '--domains', 'unknown.example', '--password-stdin'],
        stdin: `${PASSWORD}\n`,
        mention: /unknown domain unknown\.example/,
      },
    ],
    [
      'admin add with a short password',
      {
        argv: ['admin', 'add', 'bob', '--domains', 'iat.example', '--password-stdin'],
        stdin: 'short\n',
        mention: /password too short/,
      },
    ],
    [
      'duplicate admin',
      {
        setup: [['admin', 'add', 'bob', '--domains', 'iat.example']],
        argv: ['admin', 'add', 'bob', '--operator'],
        mention: /admin bob already exists/,
      },
    ],
    [
      'removing the last operator',
      {
        setup: [['admin', 'add', 'root', '--operator', '--password-stdin']],
        argv: ['admin', 'remove', 'root'],
        mention: /last operator/,
      },
    ],
    ['removing an unknown admin', { argv: ['admin', 'remove', 'nobody'], mention: /no admin nobody/ }],
    [
      'admin passwd without --password-stdin',
      {
        setup: [['admin', 'add', 'root', '--operator']],
        argv: ['admin', 'passwd', 'root'],
        mention: /--password-stdin/,
      },
    ],
    [
      'admin passwd of an unknown admin',
      {
        argv: ['admin', 'passwd', 'nobody', '--password-stdin'],
        stdin: `${PASSWORD}\n`,
        mention: /no admin nobody/,
      },
    ],
    [
      'admin access of an unknown admin',
      { argv: ['admin', 'access', 'nobody', '--any-network'], mention: /no admin nobody/ },
    ],
    [
      'admin access with --networks and --any-network',
      {
        setup: [['admin', 'add', 'root', '--operator']],
        argv: ['admin', 'access', 'root', '--networks', '10.0.0.0/8', '--any-network'],
        mention: /not both/,
      },
    ],
    [
      'admin access with a bad network',
      {
        setup: [['admin', 'add', 'root', '--operator']],
        argv: ['admin', 'access', 'root', '--networks', '10.0.0/8'],
        mention: /not a network/,
      },
    ],
    [
      'admin access with a bad fingerprint',
      {
        setup: [['admin', 'add', 'root', '--operator']],
        argv: ['admin', 'access', 'root', '--cert-fingerprint', 'abc'],
        mention: /64 hexadecimal digits/,
      },
    ],
    [
      'domain remove of a domain with mailboxes without --force',
      { argv: ['domain', 'remove', 'iat.example'], mention: /--force/ },
    ],
    [
      'domain remove of an unknown domain',
      { argv: ['domain', 'remove', 'nowhere.example'], mention: /unknown domain/ },
    ],
    [
      'removing postmaster@',
      {
        argv: ['mailbox', 'remove', 'postmaster@iat.example', '--purge'],
        mention: /postmaster@iat\.example cannot be removed/,
      },
    ],
    [
      'alias remove of an official address',
      {
        argv: ['alias', 'remove', 'rose.pinkcheeks@iat.example'],
        mention: /official address.*mailbox remove/,
      },
    ],
    [
      'alias remove of an unknown alias',
      { argv: ['alias', 'remove', 'nobody@iat.example'], mention: /no alias/ },
    ],
    [
      'mailbox remove of an unknown address',
      { argv: ['mailbox', 'remove', 'nobody@iat.example'], mention: /no mailbox/ },
    ],
    [
      'mailbox remove of a removed mailbox without --purge',
      {
        setup: [
          ['mailbox', 'add', 'iat.example', '--role', 'gone'],
          ['mailbox', 'remove', 'gone@iat.example'],
        ],
        argv: ['mailbox', 'remove', 'gone@iat.example'],
        mention: /already removed/,
      },
    ],
    [
      'forward to a local mailbox',
      {
        argv: ['forward', 'add', 'old@iat.example', 'rose.pinkcheeks@iat.example'],
        mention: /local mailbox/,
      },
    ],
    [
      'alias to an ambiguous alias',
      {
        setup: [
          ['mailbox', 'add', 'iat.example', '--first', 'Mario', '--last', 'Rossi'],
          ['mailbox', 'add', 'iat.example', '--first', 'Marco', '--last', 'Rossi'],
        ],
        argv: ['alias', 'add', 'boss@iat.example', 'rossi@iat.example'],
        mention: /ambiguous.*marco\.rossi@iat\.example/,
      },
    ],
    ['bad --limit', { argv: ['mailbox', 'list', 'iat.example', '--limit', 'ten'], mention: /--limit/ }],
  ];

  it.each(cases)('%s: exit 2, one stderr line, nothing changed', { timeout: 60_000 }, async (_name, c) => {
    // Each case starts from its own data dir: iat.example with Rose Pinkcheeks, and the case's setup.
    await withDirectory(dataDir('case'), async (d) => {
      expect((await exec(d, ['domain', 'add', 'iat.example'])).code).toBe(EXIT_OK);
      for (const argv of [
        ['mailbox', 'add', 'iat.example', '--first', 'Rose', '--last', 'Pinkcheeks'],
        ...(c.setup ?? []),
      ]) {
        const r = await exec(d, argv, argv.includes('--password-stdin') ? `${PASSWORD}\n` : undefined);
        expect(r.stderr, argv.join(' ')).toBe('');
      }
      const before = await state(d);
      const r = await exec(d, c.argv, c.stdin);
      expectError(r, c.code ?? EXIT_USAGE, c.mention);
      expect(await state(d)).toEqual(before);
    });
  });

  it('runs the happy paths in-process the same way', { timeout: 60_000 }, async () => {
    const dir = dataDir('inproc');
    await withDirectory(dir, async (d) => {
      expect((await exec(d, ['domain', 'add', 'iat.example', '--json'])).stdout).toContain(
        '"region": "local"',
      );
      const op = await exec(d, ['admin', 'add', 'root', '--operator', '--password-stdin'], `${PASSWORD}\n`);
      expect(op).toEqual({ code: EXIT_OK, stdout: 'root (operator)\n', stderr: '' });
      const second = await exec(d, ['admin', 'add', 'ops2', '--operator', '--json']);
      expect(json<{ password?: string }>(second).password).toMatch(/^[A-Za-z0-9]{16,}$/);
      // With two operators, one may go.
      expect((await exec(d, ['admin', 'remove', 'root'])).code).toBe(EXIT_OK);
      const passwd = await exec(
        d,
        ['mailbox', 'passwd', 'postmaster@iat.example', '--password-stdin'],
        `${PASSWORD}\n`,
      );
      expect(passwd).toEqual({
        code: EXIT_OK,
        stdout: 'password changed for postmaster@iat.example\n',
        stderr: '',
      });
      const box = await exec(d, ['mailbox', 'add', 'iat.example', '--first', 'Ann', '--last', 'Lee']);
      expect(box.code).toBe(EXIT_OK);
      const forced = await exec(d, ['domain', 'remove', 'iat.example', '--force', '--json']);
      expect(json(forced)).toEqual({ name: 'iat.example', removed: true, mailboxes: 2 });
      expect(json(await exec(d, ['domain', 'list', '--json']))).toEqual([]);
    });
  });
});
