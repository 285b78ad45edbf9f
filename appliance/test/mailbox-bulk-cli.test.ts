/**
 * Issue 19 from the command line: `delegato mailbox import` (a real process: the CLI reads the file;
 * exit 2 naming the bad rows and nothing changed; --dry-run; then the import), `mailbox export`,
 * `mailbox quota`, `mailbox edit`, `mailbox restore`, `domain limits`; a domain admin's actor cannot
 * reach another domain's quotas or exports.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Actor } from '@delegato/directory';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_USAGE, executeCommand } from '../src/cli/commands.js';
import { runCliOn, withDirectoryOf } from './cli-data-support.js';

const WORK = mkdtempSync(join(tmpdir(), 'delegato-bulk-cli-'));
afterAll(() => rmSync(WORK, { recursive: true, force: true }));
const OP: Actor = { kind: 'operator', name: 'cli:test', from: 'local' };

const runCli = (args: string[], dataDir: string) => runCliOn(WORK, args, dataDir);
const withDirectory = <T>(dataDir: string, fn: Parameters<typeof withDirectoryOf<T>>[2]): Promise<T> =>
  withDirectoryOf(WORK, dataDir, fn);

describe('delegato mailbox import/export (real processes)', () => {
  it('refuses a file with bad rows (exit 2, the rows named, nothing changed), dry-runs, imports, exports', {
    timeout: 120_000,
  }, async () => {
    const data = join(WORK, 'data1');
    expect((await runCli(['domain', 'add', 'iat.example'], data)).code).toBe(EXIT_OK);
    const rows = ['group,first,last,quota'];
    for (let i = 1; i <= 20; i++) rows.push(`IAT,Name${String.fromCharCode(96 + i)},Person,1M`);
    rows.push('IAT,,Nofirst,');
    rows.push('IAT,Bad,Quota,much');
    writeFileSync(join(WORK, 'people.csv'), `${rows.join('\n')}\n`);
    const refused = await runCli(['mailbox', 'import', 'iat.example', 'people.csv'], data);
    expect(refused.code).toBe(EXIT_USAGE);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^delegato: nothing imported: rows with errors: lines 22, 23 \(line 22: .*first and last.*; line 23: invalid size "much"/,
    );
    expect(refused.stderr.split('\n')).toHaveLength(2);
    await withDirectory(data, async (d) => expect((await d.listMailboxes(OP, 'iat.example')).total).toBe(1));

    writeFileSync(join(WORK, 'people.csv'), `${rows.slice(0, -2).join('\n')}\n`);
    const dry = await runCli(['mailbox', 'import', 'iat.example', 'people.csv', '--dry-run'], data);
    expect(dry.code).toBe(EXIT_OK);
    expect(dry.stdout).toMatch(/line 2: namea\.person@iat\.example/);
    expect(dry.stdout).toMatch(/20 rows would be imported \(dry run: nothing changed\)/);
    await withDirectory(data, async (d) => expect((await d.listMailboxes(OP, 'iat.example')).total).toBe(1));

    const done = await runCli(['mailbox', 'import', 'iat.example', 'people.csv'], data);
    expect(done.code, done.stderr).toBe(EXIT_OK);
    expect(done.stdout).toMatch(/20 mailboxes imported/);
    const out = await runCli(['mailbox', 'export', 'iat.example'], data);
    expect(out.code).toBe(EXIT_OK);
    expect(out.stdout.split('\r\n')[0]).toBe('first,last,address,username,group,contact,quota,expires,role');
    expect(out.stdout).toContain('Namea,Person,namea.person,namea.person,IAT,,1048576,,');
    expect(out.stdout).toContain(',,,postmaster,,,,,postmaster');
  });
});

describe('quota, edit, restore, limits (command table)', () => {
  it('changes a quota and the domain limits; edits and restores; scoped to the actor’s domains', async () => {
    const data = join(WORK, 'data2');
    await withDirectory(data, async (d) => {
      await d.addDomain(OP, 'a.example');
      await d.addDomain(OP, 'b.example');
      await d.addMailbox(OP, {
        domain: 'a.example',
        kind: 'personal',
        firstName: 'Rose',
        lastName: 'Pinkcheeks',
      });
      await d.addMailbox(OP, {
        domain: 'b.example',
        kind: 'personal',
        firstName: 'Mario',
        lastName: 'Rossi',
      });
      const run = (argv: string[], actor: Actor = OP) => executeCommand(argv, { directory: d, actor });
      let r = await run(['mailbox', 'quota', 'rose.pinkcheeks@a.example', '40K']);
      expect(r).toMatchObject({ code: EXIT_OK, stdout: 'rose.pinkcheeks@a.example quota 40960 bytes\n' });
      r = await run(['domain', 'limits', 'a.example', '--max-mailboxes', '10', '--max-quota', '1G']);
      expect(r.stdout).toMatch(/1 mailboxes \(at most 10\)/);
      r = await run(['mailbox', 'edit', 'rose.pinkcheeks@a.example', '--group', 'IAT', '--flag', 'visiting']);
      expect(r.stdout).toBe('rose.pinkcheeks@a.example: changed flag, group\n');
      await run(['mailbox', 'remove', 'rose.pinkcheeks@a.example']);
      r = await run(['mailbox', 'restore', 'rose.pinkcheeks@a.example']);
      expect(r.stdout).toMatch(/^restored rose\.pinkcheeks@a\.example\n {2}alias r\.pinkcheeks@a\.example/);
      const alice: Actor = { kind: 'domain-admin', name: 'alice', domains: ['a.example'], from: 'local' };
      for (const argv of [
        ['mailbox', 'quota', 'mario.rossi@b.example', '1M'],
        ['mailbox', 'export', 'b.example'],
        ['mailbox', 'export', 'b.example', '--aliases'],
        ['domain', 'limits', 'b.example'],
        ['domain', 'limits', 'a.example', '--max-mailboxes', '99'],
      ]) {
        const denied = await run(argv, alice);
        expect(denied.code, argv.join(' ')).toBe(EXIT_USAGE);
        expect(denied.stderr, argv.join(' ')).toMatch(/may not/);
      }
      expect((await run(['mailbox', 'quota', 'rose.pinkcheeks@a.example', 'lots'])).stderr).toMatch(
        /invalid size/,
      );
    });
  });
});
