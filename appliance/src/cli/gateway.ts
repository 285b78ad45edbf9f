/**
 * `delegato gateway ...`: the attachment gateway's registrations, rules and disk usage (issue 15;
 * docs/gateway.md). Entries of the directory command table (commands.ts): they run inside the appliance
 * over the control socket when one is running, on the data dir otherwise.
 *
 *   delegato gateway register <address|domain> [--sender <address|domain>] [--json]
 *   delegato gateway unregister <address|domain> [--sender <address|domain>] [--json]
 *   delegato gateway list [<domain>] [--json]
 *   delegato gateway settings <domain> [--threshold <size>] [--types <type,...>] [--expiry-days <n>]
 *                                      [--login-required yes|no] [--json]
 *
 * With `--sender`, the positional is the recipients' domain and the registration is the sender's: mail
 * from that address (or from any address of that domain) to the domain's mailboxes goes through the
 * gateway. Disk usage (`list`) is read from the gateway store of the directory's data dir.
 *
 * Only types come from commands.ts (it imports this table): mistakes are `invalid` directory errors, which
 * the command runner reports with the usage exit status.
 */
import { dirname, join } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { DirectoryError, type GatewayDomainView } from '@delegato/directory';
import { type DomainUsage, GatewayStore, humanSize } from '@delegato/gateway';
import type { CommandContext } from './commands.js';

type Values = Record<string, string | boolean | string[] | undefined>;

interface GatewayCommand {
  words: string[];
  usage: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  positionals: [min: number, max: number];
  run(ctx: CommandContext, args: string[], values: Values): Promise<{ text: string; json: unknown }>;
}

/** The gateway store of a data dir (the appliance opens it there too: services/gateway.ts). */
export function gatewayDir(dataDir: string): string {
  return join(dataDir, 'gateway');
}

function usageOf(ctx: CommandContext, domain?: string): Promise<DomainUsage[]> {
  // The directory file lies in the data dir (data-dir.ts).
  return GatewayStore.usageOf(gatewayDir(dirname(ctx.directory.options.path)), domain);
}

function bad(message: string): never {
  throw new DirectoryError('invalid', message);
}

const SIZE = /^(\d+)\s*([kmg]?)(i?b)?$/i;

function size(input: string): number {
  const m = SIZE.exec(input.trim());
  if (!m) bad(`invalid size "${input}": use bytes or a K, M, G suffix (e.g. 5M)`);
  return Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase());
}

function yesNo(v: string): boolean {
  if (/^(yes|true|on|1)$/i.test(v)) return true;
  if (/^(no|false|off|0)$/i.test(v)) return false;
  return bad(`--login-required: yes or no, not "${v}"`);
}

export function rulesLine(v: Pick<GatewayDomainView, 'rules'>): string {
  const r = v.rules;
  const types = r.mediaTypes.length > 0 ? r.mediaTypes.join(', ') : 'every media type';
  const login = r.loginRequired ? ', mailbox login required' : '';
  return `parts over ${humanSize(r.thresholdBytes)}, ${types}, links kept ${r.expiryDays} days${login}`;
}

function listText(views: GatewayDomainView[], usage: DomainUsage[]): string {
  if (views.length === 0) return 'no domains';
  return views
    .map((v) => {
      const u = usage.find((x) => x.domain === v.domain);
      const lines = [
        `${v.domain}: ${rulesLine(v)}`,
        `  disk: ${u ? `${humanSize(u.bytes)} in ${u.files} file(s), ${u.links} link(s)` : 'nothing stored'}`,
      ];
      if (v.registrations.length === 0) lines.push('  no registrations');
      for (const r of v.registrations)
        lines.push(`  ${r.kind}\t${r.target}\t(${r.createdBy}, ${r.createdAt.slice(0, 10)})`);
      return lines.join('\n');
    })
    .join('\n');
}

function targetInput(positional: string | undefined, values: Values) {
  const sender = values.sender;
  return typeof sender === 'string'
    ? { target: sender, sender: true, domain: positional ?? '' }
    : { target: positional ?? '' };
}

export const GATEWAY_COMMANDS: GatewayCommand[] = [
  {
    words: ['gateway', 'register'],
    usage: 'gateway register <address|domain> [--sender <address|domain>]',
    options: { sender: { type: 'string' } },
    positionals: [1, 1],
    async run(ctx, [target], values) {
      const r = await ctx.directory.registerGateway(ctx.actor, targetInput(target, values));
      return { text: `registered ${r.kind} ${r.target} (domain ${r.domain})`, json: r };
    },
  },
  {
    words: ['gateway', 'unregister'],
    usage: 'gateway unregister <address|domain> [--sender <address|domain>]',
    options: { sender: { type: 'string' } },
    positionals: [1, 1],
    async run(ctx, [target], values) {
      const input = targetInput(target, values);
      await ctx.directory.unregisterGateway(ctx.actor, input);
      return { text: `unregistered ${input.target}`, json: { unregistered: input.target } };
    },
  },
  {
    words: ['gateway', 'list'],
    usage: 'gateway list [<domain>]',
    positionals: [0, 1],
    async run(ctx, [domain]) {
      const views = await ctx.directory.listGateway(ctx.actor, domain);
      const usage = await usageOf(ctx, domain !== undefined ? views[0]?.domain : undefined);
      return {
        text: listText(views, usage),
        json: views.map((v) => ({ ...v, usage: usage.find((u) => u.domain === v.domain) ?? null })),
      };
    },
  },
  {
    words: ['gateway', 'settings'],
    usage:
      'gateway settings <domain> [--threshold <size>] [--types <type,...>] [--expiry-days <n>] [--login-required yes|no]',
    options: {
      threshold: { type: 'string' },
      types: { type: 'string' },
      'expiry-days': { type: 'string' },
      'login-required': { type: 'string' },
    },
    positionals: [1, 1],
    async run(ctx, [domain], values) {
      const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
      const threshold = str('threshold');
      const types = str('types');
      const days = str('expiry-days');
      const login = str('login-required');
      const rules = await ctx.directory.setGatewaySettings(ctx.actor, domain ?? '', {
        ...(threshold !== undefined ? { thresholdBytes: size(threshold) } : {}),
        ...(types !== undefined ? { mediaTypes: types.split(',').map((t) => t.trim()) } : {}),
        ...(days !== undefined ? { expiryDays: Number(days) } : {}),
        ...(login !== undefined ? { loginRequired: yesNo(login) } : {}),
      });
      return { text: `${domain}: ${rulesLine({ rules })}`, json: { domain, rules } };
    },
  },
];
