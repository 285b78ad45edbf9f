/**
 * Issue 19 from the command line, aliases and list members: `delegato alias import` and `list member
 * import` in real processes (the CLI reads the file; exit 2 naming the bad rows with nothing changed;
 * `--dry-run`; then the import), `list member export`; and the attack through the command table: a domain
 * admin importing into another domain's aliases or list is refused and nothing changes, also when the
 * file names another domain's address inside their own domain's import.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Actor } from '@delegato/directory';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_USAGE, executeCommand } from '../src/cli/commands.js';
import { type DirectoryOfData, runCliOn, withDirectoryOf } from './cli-data-support.js';

const WORK = mkdtempSync(join(tmpdir(), 'delegato-bulk-import-'));
afterAll(() => rmSync(WORK, { recursive: true, force: true }));
const OP: Actor = { kind: 'operator', name: 'cli:test', from: 'local' };

const runCli = (args: string[], dataDir: string) => runCliOn(WORK, args, dataDir);
const withDirectory = <T>(dataDir: string, fn: Parameters<typeof withDirectoryOf<T>>[2]): Promise<T> =>
  withDirectoryOf(WORK, dataDir, fn);

async function setUp(d: DirectoryOfData) {
  for (const domain of ['a.example', 'b.example']) {
    await d.addDomain(OP, domain);
    await d.addMailbox(OP, { domain, kind: 'personal', firstName: 'Rose', lastName: 'Pinkcheeks' });
    await d.createList(OP, { address: `team@${domain}`, owner: `rose.pinkcheeks@${domain}` });
  }
  await d.addAlias(OP, 'help@a.example', ['rose.pinkcheeks@a.example']);
}

describe('delegato alias import and list member import/export (real processes)', () => {
  it('refuses bad rows (exit 2, lines named, nothing changed), dry-runs, imports, exports', {
    timeout: 120_000,
  }, async () => {
    const data = join(WORK, 'data1');
    await withDirectory(data, setUp);
    const aliases = [
      'target,address',
      'rose.pinkcheeks@a.example,sales',
      'someone@elsewhere.example;rose.pinkcheeks@a.example,info@a.example',
      'boss@elsewhere.example,sales',
      'rose.pinkcheeks@a.example,help',
      'x@elsewhere.example,rose.pinkcheeks',
      'x@elsewhere.example,spy@b.example',
      ',empty',
    ];
    writeFileSync(join(WORK, 'aliases.csv'), `${aliases.join('\n')}\n`);
    const refused = await runCli(['alias', 'import', 'a.example', 'aliases.csv'], data);
    expect(refused.code).toBe(EXIT_USAGE);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^delegato: nothing imported: rows with errors: lines 6, 7, 8 \(line 6: rose\.pinkcheeks@a\.example already exists \(a mailbox\); line 7: spy@b\.example is not an address of a\.example; line 8: no target/,
    );
    expect(refused.stderr.split('\n')).toHaveLength(2);
    const before = await withDirectory(data, (d) => d.listAliases(OP, 'a.example', { kinds: ['manual'] }));
    expect(before.map((a) => a.address)).toEqual(['help@a.example']);

    writeFileSync(join(WORK, 'aliases.csv'), `${aliases.slice(0, 5).join('\n')}\n`);
    const dry = await runCli(['alias', 'import', 'a.example', 'aliases.csv', '--dry-run'], data);
    expect(dry.code, dry.stderr).toBe(EXIT_OK);
    expect(dry.stdout).toContain('line 2: sales@a.example new: rose.pinkcheeks@a.example');
    expect(dry.stdout).toContain('line 4: sales@a.example extended: boss@elsewhere.example');
    expect(dry.stdout).toContain(
      'line 5: help@a.example extended: (nothing new) (already: rose.pinkcheeks@a.example)',
    );
    expect(dry.stdout).toMatch(/4 rows would be imported \(dry run: nothing changed\)/);

    const done = await runCli(['alias', 'import', 'a.example', 'aliases.csv'], data);
    expect(done.code, done.stderr).toBe(EXIT_OK);
    expect(done.stdout).toMatch(/3 aliases imported/);
    const after = await withDirectory(data, (d) => d.listAliases(OP, 'a.example', { kinds: ['manual'] }));
    expect(after.map((a) => [a.address, a.targets])).toEqual([
      ['help@a.example', ['rose.pinkcheeks@a.example']],
      ['info@a.example', ['someone@elsewhere.example', 'rose.pinkcheeks@a.example']],
      ['sales@a.example', ['rose.pinkcheeks@a.example', 'boss@elsewhere.example']],
    ]);

    const members = [
      'address',
      'one@elsewhere.example',
      'not an address',
      'two@elsewhere.example',
      'ONE@elsewhere.example',
    ];
    writeFileSync(join(WORK, 'members.csv'), `${members.join('\r\n')}\r\n`);
    const bad = await runCli(['list', 'member', 'import', 'team@a.example', 'members.csv'], data);
    expect(bad.code).toBe(EXIT_USAGE);
    expect(bad.stderr).toMatch(
      /^delegato: nothing imported: rows with errors: lines 3, 5 \(line 3: .*; line 5: one@elsewhere\.example is also on line 2\)/,
    );
    expect((await withDirectory(data, (d) => d.getList(OP, 'team@a.example'))).members).toEqual([]);

    writeFileSync(join(WORK, 'members.csv'), 'address\r\none@elsewhere.example\r\ntwo@elsewhere.example\r\n');
    const mdry = await runCli(
      ['list', 'member', 'import', 'team@a.example', 'members.csv', '--dry-run'],
      data,
    );
    expect(mdry.code, mdry.stderr).toBe(EXIT_OK);
    expect(mdry.stdout).toMatch(/2 members would be added \(dry run: nothing changed\)/);
    expect((await withDirectory(data, (d) => d.getList(OP, 'team@a.example'))).members).toEqual([]);
    const mdone = await runCli(['list', 'member', 'import', 'team@a.example', 'members.csv'], data);
    expect(mdone.code, mdone.stderr).toBe(EXIT_OK);
    expect(mdone.stdout).toBe('team@a.example: 2 member(s) added\n');
    const out = await runCli(['list', 'member', 'export', 'team@a.example'], data);
    expect(out.code).toBe(EXIT_OK);
    expect(out.stdout).toBe('address\r\none@elsewhere.example\r\ntwo@elsewhere.example\n');
  });
});

describe('the attack: a domain admin importing into another domain (command table)', () => {
  it('is refused and changes nothing', async () => {
    const data = join(WORK, 'data2');
    await withDirectory(data, async (d) => {
      await setUp(d);
      const alice: Actor = { kind: 'domain-admin', name: 'alice', domains: ['a.example'], from: 'local' };
      const run = (argv: string[], stdin: string) =>
        executeCommand(argv, { directory: d, actor: alice, stdin });
      for (const [argv, stdin] of [
        [['alias', 'import', 'b.example', 'x.csv'], 'address,target\nspy,alice@a.example\n'],
        [['list', 'member', 'import', 'team@b.example', 'x.csv'], 'address\nspy@a.example\n'],
        [['list', 'member', 'export', 'team@b.example'], ''],
      ] as const) {
        const denied = await run([...argv], stdin);
        expect(denied.code, argv.join(' ')).toBe(EXIT_USAGE);
        expect(denied.stderr, argv.join(' ')).toMatch(/may not/);
      }
      // Inside her own domain's import, another domain's alias is a row error: nothing at all is written.
      const mixed = await run(
        ['alias', 'import', 'a.example', 'x.csv'],
        'address,target\nok,rose.pinkcheeks@a.example\nspy@b.example,rose.pinkcheeks@a.example\n',
      );
      expect(mixed.code).toBe(EXIT_USAGE);
      expect(mixed.stderr).toMatch(/line 3: spy@b\.example is not an address of a\.example/);
      expect((await d.listAliases(OP, 'b.example', { kinds: ['manual'] })).length).toBe(0);
      expect((await d.listAliases(OP, 'a.example', { kinds: ['manual'] })).map((a) => a.address)).toEqual([
        'help@a.example',
      ]);
      expect((await d.getList(OP, 'team@b.example')).members).toEqual([]);
      const audit = await d.listAudit(OP, {});
      expect(audit.filter((a) => a.action === 'alias.import' || a.action === 'mailing-list.import')).toEqual(
        [],
      );
      // Her own domain works.
      const ok = await run(
        ['list', 'member', 'import', 'team@a.example', 'x.csv'],
        'address\nmember@b.example\n',
      );
      expect(ok.code, ok.stderr).toBe(EXIT_OK);
      expect((await d.getList(OP, 'team@a.example')).members).toEqual(['member@b.example']);
    });
  });
});

describe('alias import rows (command table)', () => {
  it('points postmaster@ elsewhere, refuses a list as a target, merges repeated targets, dry-runs as JSON', async () => {
    const data = join(WORK, 'data3');
    await withDirectory(data, async (d) => {
      await setUp(d);
      const run = (argv: string[], stdin: string) => executeCommand(argv, { directory: d, actor: OP, stdin });
      const bad = await run(['alias', 'import', 'a.example', 'x.csv'], 'address,target\nx,team@a.example\n');
      expect(bad.code).toBe(EXIT_USAGE);
      expect(bad.stderr).toMatch(/line 2: target team@a\.example: team@a\.example is a mailing list/);
      const dry = await run(
        ['alias', 'import', 'a.example', 'x.csv', '--dry-run', '--json'],
        'address,target\npostmaster,boss@elsewhere.example\nnew,boss@elsewhere.example;boss@elsewhere.example\n',
      );
      expect(dry.code, dry.stderr).toBe(EXIT_OK);
      expect(JSON.parse(dry.stdout)).toMatchObject({
        domain: 'a.example',
        errorLines: [],
        rows: [
          { line: 2, address: 'postmaster@a.example', targets: ['boss@elsewhere.example'], extends: true },
          {
            line: 3,
            address: 'new@a.example',
            targets: ['boss@elsewhere.example'],
            already: ['boss@elsewhere.example'],
          },
        ],
      });
      const done = await run(
        ['alias', 'import', 'a.example', 'x.csv'],
        'address,target\npostmaster,boss@elsewhere.example\n',
      );
      expect(done.code, done.stderr).toBe(EXIT_OK);
      const aliases = await d.listAliases(OP, 'a.example');
      expect(aliases.find((a) => a.address === 'postmaster@a.example')?.targets).toEqual([
        'boss@elsewhere.example',
      ]);
      const header = await run(['alias', 'import', 'a.example', 'x.csv'], 'alias,targets\nx,y@z.example\n');
      expect(header.stderr).toMatch(/unknown columns "alias", "targets" in the header; use address, target/);
    });
  });
});
