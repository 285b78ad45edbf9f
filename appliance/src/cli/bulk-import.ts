/**
 * Issue 19's CSV import of aliases and list members, and export of list members (entries of the
 * directory command table, commands.ts; docs/cli.md):
 *
 *   delegato alias import <domain> <file.csv> [--dry-run]          columns address,target
 *   delegato list member import <list@domain> <file.csv> [--dry-run]   column address
 *   delegato list member export <list@domain>
 *
 * As for `mailbox import` (mailbox-bulk.ts), the CLI process reads the file (`importFileInput`) and hands
 * its text over with the command. Any bad row: nothing changes, exit 2 naming the lines; `--dry-run`
 * shows every row's outcome and changes nothing.
 *
 * Only types come from commands.ts (it imports this table).
 */
import type { ParseArgsConfig } from 'node:util';
import { DirectoryError, membersCsv, readAliasCsv, readMemberCsv } from '@delegato/directory';
import type { CommandContext } from './commands.js';
import { importFileInput } from './mailbox-bulk.js';

type Values = Record<string, string | boolean | string[] | undefined>;

interface BulkCommand {
  words: string[];
  usage: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  positionals: [min: number, max: number];
  run(ctx: CommandContext, args: string[], values: Values): Promise<{ text: string; json: unknown }>;
}

/** Exit 2 naming the lines (the command runner reports directory `invalid` errors as usage errors). */
function refuse(rows: Array<{ line: number; error?: string }>): never {
  const bad = rows.filter((r) => r.error);
  throw new DirectoryError(
    'invalid',
    `nothing imported: rows with errors: line${bad.length === 1 ? '' : 's'} ${bad.map((r) => r.line).join(', ')} (${bad
      .map((r) => `line ${r.line}: ${r.error}`)
      .join('; ')})`,
  );
}

export const BULK_IMPORT_COMMANDS: BulkCommand[] = [
  {
    words: ['alias', 'import'],
    usage: 'alias import <domain> <file.csv> [--dry-run]',
    options: { 'dry-run': { type: 'boolean' } },
    positionals: [2, 2],
    async run(ctx, [domain, file], values) {
      const rows = readAliasCsv(
        ctx.stdin ?? importFileInput(['alias', 'import', domain ?? '', file ?? '']) ?? '',
      );
      const plan = await ctx.directory.planAliasImport(ctx.actor, domain ?? '', rows);
      if (plan.errorLines.length > 0) refuse(plan.rows);
      if (values['dry-run']) {
        const report = plan.rows.map(
          (r) =>
            `line ${r.line}: ${r.address} ${r.extends ? 'extended' : 'new'}: ${r.targets?.join(', ') || '(nothing new)'}${r.already?.length ? ` (already: ${r.already.join(', ')})` : ''}`,
        );
        return {
          text: `${report.join('\n')}\n${rows.length} rows would be imported (dry run: nothing changed)`,
          json: plan,
        };
      }
      const done = await ctx.directory.importAliases(ctx.actor, domain ?? '', rows);
      const lines = done.aliases.map((a) => `${a.address}\t${a.added.join(' ') || '(nothing new)'}`);
      return { text: `${lines.join('\n')}\n${done.aliases.length} aliases imported`, json: done };
    },
  },
  {
    words: ['list', 'member', 'import'],
    usage: 'list member import <list@domain> <file.csv> [--dry-run]',
    options: { 'dry-run': { type: 'boolean' } },
    positionals: [2, 2],
    async run(ctx, [list, file], values) {
      const rows = readMemberCsv(
        ctx.stdin ?? importFileInput(['list', 'member', 'import', list ?? '', file ?? '']) ?? '',
      );
      const plan = await ctx.directory.planMemberImport(ctx.actor, list ?? '', rows);
      if (plan.errorLines.length > 0) refuse(plan.rows);
      if (values['dry-run']) {
        const report = plan.rows.map(
          (r) => `line ${r.line}: ${r.address}${r.already ? ' (a member already)' : ''}`,
        );
        return {
          text: `${report.join('\n')}\n${plan.rows.filter((r) => !r.already).length} members would be added (dry run: nothing changed)`,
          json: plan,
        };
      }
      const done = await ctx.directory.importListMembers(ctx.actor, list ?? '', rows);
      return {
        text: `${done.list}: ${done.added.length} member(s) added${done.already.length ? `, ${done.already.length} already members` : ''}`,
        json: done,
      };
    },
  },
  {
    words: ['list', 'member', 'export'],
    usage: 'list member export <list@domain>',
    positionals: [1, 1],
    async run(ctx, [list]) {
      const view = await ctx.directory.getList(ctx.actor, list ?? '');
      return { text: membersCsv(view.members).trimEnd(), json: view.members };
    },
  },
];
