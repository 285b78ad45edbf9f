/**
 * Issue 19's mailbox commands (entries of the directory command table, commands.ts; docs/cli.md):
 *
 *   delegato mailbox quota <address> <size|none>
 *   delegato mailbox edit <address> [--group <g>] [--contact <text>] [--flag <text>] [--type personal|role]
 *   delegato mailbox restore <address>
 *   delegato mailbox import <domain> <file.csv> [--dry-run] [--passwords]
 *   delegato mailbox export <domain> [--aliases]
 *   delegato domain limits <domain> [--max-mailboxes <n|none>] [--max-quota <size|none>]
 *
 * The CSV file is read by the CLI process (relative to its working directory) and handed over with the
 * command (`importFileInput`), so the appliance never opens a path a user typed. An import with any bad
 * row changes nothing and exits 2 naming the rows; `--dry-run` shows every row's outcome.
 *
 * Only types come from commands.ts (it imports this table).
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import {
  aliasesCsv,
  DirectoryError,
  MAX_CSV_BYTES,
  mailboxesCsv,
  parseSizeText,
  readMailboxCsv,
} from '@delegato/directory';
import type { CommandContext } from './commands.js';

type Values = Record<string, string | boolean | string[] | undefined>;

interface BulkCommand {
  words: string[];
  usage: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  positionals: [min: number, max: number];
  run(ctx: CommandContext, args: string[], values: Values): Promise<{ text: string; json: unknown }>;
}

const str = (values: Values, key: string): string | undefined => {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
};

/** A usage mistake (exit 2), as the command runner reports directory `invalid` errors. */
const bad = (message: string) => new DirectoryError('invalid', message);

/** The import commands whose file the CLI reads: their words, and the file's place among the words. */
const IMPORTS: Array<{ words: string[]; file: number }> = [
  { words: ['mailbox', 'import'], file: 3 },
  { words: ['alias', 'import'], file: 3 },
  { words: ['list', 'member', 'import'], file: 4 },
];

/**
 * For `mailbox import <domain> <file>`, `alias import <domain> <file>` and `list member import <list>
 * <file>` (cli/bulk-import.ts): the file's text, read here in the CLI process (what it passes as the
 * command's input); undefined for every other command.
 */
export function importFileInput(argv: string[], cwd = process.cwd()): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  const spec = IMPORTS.find((c) => c.words.every((w, i) => words[i] === w));
  const file = spec ? words[spec.file] : undefined;
  if (file === undefined) return undefined;
  const path = resolve(cwd, file);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw bad(`cannot read ${file}: no such file`);
  }
  if (size > MAX_CSV_BYTES) throw bad(`${file} is larger than ${MAX_CSV_BYTES} bytes`);
  return readFileSync(path, 'utf8');
}

const human = (bytes: number | null) => (bytes === null ? 'none' : `${bytes} bytes`);

export const MAILBOX_BULK_COMMANDS: BulkCommand[] = [
  {
    words: ['mailbox', 'quota'],
    usage: 'mailbox quota <address> <size|none>',
    positionals: [2, 2],
    async run(ctx, [address, size]) {
      const r = await ctx.directory.setQuota(ctx.actor, address ?? '', parseSizeText(size ?? ''));
      return { text: `${r.address} quota ${human(r.quotaBytes)}`, json: r };
    },
  },
  {
    words: ['mailbox', 'edit'],
    usage: 'mailbox edit <address> [--group <g>] [--contact <text>] [--flag <text>] [--type personal|role]',
    options: {
      group: { type: 'string' },
      contact: { type: 'string' },
      flag: { type: 'string' },
      type: { type: 'string' },
    },
    positionals: [1, 1],
    async run(ctx, [address], values) {
      const type = str(values, 'type');
      if (type !== undefined && type !== 'personal' && type !== 'role') {
        throw bad('--type is personal or role');
      }
      const r = await ctx.directory.updateMailbox(ctx.actor, {
        address: address ?? '',
        ...(str(values, 'group') !== undefined ? { group: str(values, 'group') } : {}),
        ...(str(values, 'contact') !== undefined ? { contact: str(values, 'contact') } : {}),
        ...(str(values, 'flag') !== undefined ? { flag: str(values, 'flag') } : {}),
        ...(type ? { kind: type as 'personal' | 'role' } : {}),
      });
      return {
        text: r.changed.length ? `${r.address}: changed ${r.changed.join(', ')}` : `${r.address}: no change`,
        json: r,
      };
    },
  },
  {
    words: ['mailbox', 'restore'],
    usage: 'mailbox restore <address>',
    positionals: [1, 1],
    async run(ctx, [address]) {
      const r = await ctx.directory.restoreMailbox(ctx.actor, address ?? '');
      const lines = [`restored ${r.address}`, ...r.aliases.map((a) => `  alias ${a.address}`)];
      return { text: lines.join('\n'), json: { address: r.address, aliases: r.aliases } };
    },
  },
  {
    words: ['mailbox', 'import'],
    usage: 'mailbox import <domain> <file.csv> [--dry-run] [--passwords]',
    options: { 'dry-run': { type: 'boolean' }, passwords: { type: 'boolean' } },
    positionals: [2, 2],
    async run(ctx, [domain, file], values) {
      const text = ctx.stdin ?? importFileInput(['mailbox', 'import', domain ?? '', file ?? '']) ?? '';
      const rows = readMailboxCsv(text);
      const plan = await ctx.directory.planImport(ctx.actor, domain ?? '', rows);
      const report = plan.rows.map((r) =>
        r.error
          ? `line ${r.line}: error: ${r.error}`
          : `line ${r.line}: ${r.address} (username ${r.username})`,
      );
      if (plan.errorLines.length > 0 || plan.error) {
        const what = plan.errorLines.length
          ? `rows with errors: line${plan.errorLines.length === 1 ? '' : 's'} ${plan.errorLines.join(', ')}`
          : '';
        const details = plan.rows
          .filter((r) => r.error)
          .map((r) => `line ${r.line}: ${r.error}`)
          .join('; ');
        throw bad(
          `nothing imported: ${[what, plan.error].filter(Boolean).join('; ')} (${details || plan.error})`,
        );
      }
      if (values['dry-run']) {
        return {
          text: `${report.join('\n')}\n${rows.length} rows would be imported (dry run: nothing changed)`,
          json: plan,
        };
      }
      const done = await ctx.directory.importMailboxes(ctx.actor, domain ?? '', rows, {
        passwords: values.passwords === true,
      });
      const lines = done.imported.map(
        (m) => `${m.address}\t${m.username}${m.password ? `\t${m.password}` : ''}`,
      );
      const note = values.passwords
        ? 'passwords generated: shown only now'
        : 'no passwords yet: set them with "delegato mailbox passwd" or in the admin UI';
      return {
        text: `${lines.join('\n')}\n${done.imported.length} mailboxes imported (${note})`,
        json: done,
      };
    },
  },
  {
    words: ['mailbox', 'export'],
    usage: 'mailbox export <domain> [--aliases]',
    options: { aliases: { type: 'boolean' } },
    positionals: [1, 1],
    async run(ctx, [domain], values) {
      if (values.aliases) {
        const list = await ctx.directory.listAliases(ctx.actor, domain ?? '');
        return { text: aliasesCsv(list).trimEnd(), json: list };
      }
      const { mailboxes } = await ctx.directory.listMailboxes(ctx.actor, domain ?? '', { limit: 10_000 });
      return { text: mailboxesCsv(mailboxes).trimEnd(), json: mailboxes };
    },
  },
  {
    words: ['domain', 'limits'],
    usage: 'domain limits <domain> [--max-mailboxes <n|none>] [--max-quota <size|none>]',
    options: { 'max-mailboxes': { type: 'string' }, 'max-quota': { type: 'string' } },
    positionals: [1, 1],
    async run(ctx, [domain], values) {
      const maxMb = str(values, 'max-mailboxes');
      const maxQ = str(values, 'max-quota');
      let limits = await ctx.directory.domainLimits(ctx.actor, domain ?? '');
      if (maxMb !== undefined || maxQ !== undefined) {
        if (maxMb !== undefined && maxMb !== 'none' && !/^\d+$/.test(maxMb)) {
          throw bad('--max-mailboxes needs a whole number or none');
        }
        limits = await ctx.directory.setDomainLimits(ctx.actor, domain ?? '', {
          maxMailboxes: maxMb === undefined ? limits.maxMailboxes : maxMb === 'none' ? null : Number(maxMb),
          maxQuotaBytes: maxQ === undefined ? limits.maxQuotaBytes : parseSizeText(maxQ),
        });
      }
      const text = [
        `${limits.domain}: ${limits.mailboxes} mailboxes (at most ${limits.maxMailboxes ?? 'no limit'})`,
        `quotas ${limits.quotaBytesAssigned} bytes assigned (total at most ${limits.maxQuotaBytes === null ? 'no limit' : `${limits.maxQuotaBytes} bytes`}); ${limits.unlimitedMailboxes} without a quota`,
      ].join('\n');
      return { text, json: limits };
    },
  },
];
