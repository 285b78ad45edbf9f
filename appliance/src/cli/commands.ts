/**
 * The directory commands of the `delegato` CLI. The same table runs in the CLI process (no appliance
 * running: it opens the data dir itself) and inside the appliance (the CLI forwarded the command over the
 * control socket), so both paths behave identically. Output shapes of `--json` are documented in
 * docs/cli.md.
 *
 * Exit status: 0 success; 2 bad input or usage (unknown domain, invalid address, duplicate, malformed
 * date, unknown option), with one line on stderr and nothing changed; 1 any other failure.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import {
  type Actor,
  type CreatedMailbox,
  type Directory,
  DirectoryError,
  randomPassword,
} from '@delegato/directory';
import type { ListModeration, LogEntry, OutboundQueue } from '@delegato/mta';
import { BULK_IMPORT_COMMANDS } from './bulk-import.js';
import { DKIM_COMMANDS } from './dkim.js';
import { GATEWAY_COMMANDS } from './gateway.js';
import { LIST_COMMANDS } from './list.js';
import { MAILBOX_BULK_COMMANDS } from './mailbox-bulk.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {}

export interface CommandContext {
  directory: Directory;
  actor: Actor;
  /** Standard input, read by the CLI when `--password-stdin` was given. */
  stdin?: string;
  /** Deletes the stored mail of purged mailboxes (the mail store of this data dir). */
  purgeMail?: (mailboxIds: string[]) => Promise<void>;
  /** The outbound queue of this data dir (queue and trace commands). */
  queue?: () => Promise<OutboundQueue>;
  /** Held posts of built-in lists (`list pending|approve|reject`; cli/list.ts). */
  lists?: () => Promise<ListModeration>;
  /**
   * `trace` across regions (the running appliance only; services/federation-api.ts): the peer regions'
   * parts of the messages these entries relayed there, or why a region could not be asked.
   */
  peerTrace?: (entries: LogEntry[]) => Promise<{ region: string; peers: PeerTraceSection[] }>;
}

/** One peer region's part of a trace (`CommandContext.peerTrace`). */
export interface PeerTraceSection {
  region: string;
  /** The Message-ID asked for. */
  query: string;
  entries?: LogEntry[];
  error?: string;
}

/** One line of `trace` per delivery log entry. */
function traceLine(e: LogEntry): string {
  return `${e.at}\t${e.messageId}\t${e.event}\t${e.recipient ?? ''}${e.remoteHost ? ` via ${e.remoteHost}` : ''}${e.reply ? `\t${e.reply}` : ''}`;
}

async function queueOf(ctx: CommandContext): Promise<OutboundQueue> {
  if (!ctx.queue) throw new UsageError('the outbound queue is not available here');
  if (ctx.actor.kind !== 'operator' && ctx.actor.kind !== 'system') throw new UsageError('operators only');
  return ctx.queue();
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | string[] | undefined>;

export interface CommandSpec {
  words: string[];
  usage: string;
  options?: Options;
  positionals: [min: number, max: number];
  run(ctx: CommandContext, args: string[], values: Values): Promise<{ text: string; json: unknown }>;
}

const SIZE = /^(\d+)\s*([kmgt]?)(i?b)?$/i;
const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Sizes are bytes or take K, M, G, T suffixes (powers of 1024): `500M`, `2G`, `1048576`. */
export function parseSize(input: string): number {
  const m = SIZE.exec(input.trim());
  if (!m) throw new UsageError(`invalid size "${input}": use bytes or a K, M, G suffix (e.g. 500M)`);
  const bytes = Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`size "${input}" is too large`);
  return bytes;
}

function passwordFrom(ctx: CommandContext, values: Values): string | undefined {
  if (!values['password-stdin']) return undefined;
  const line = (ctx.stdin ?? '').split(/\r?\n/)[0] ?? '';
  if (line.length === 0) throw new UsageError('--password-stdin given but standard input is empty');
  return line;
}

function str(values: Values, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

function created(m: CreatedMailbox, password: string | undefined): string {
  const lines = [m.address];
  for (const a of m.aliases) {
    lines.push(
      a.ambiguous ? `  alias ${a.address} (ambiguous: ${a.candidates.join(', ')})` : `  alias ${a.address}`,
    );
  }
  for (const s of m.skippedAliases) lines.push(`  not an alias: ${s} (already in use)`);
  lines.push(`  username ${m.username}`);
  if (password) lines.push(`  password ${password} (generated; shown only now)`);
  return lines.join('\n');
}

const mailboxAddOptions: Options = {
  first: { type: 'string' },
  last: { type: 'string' },
  role: { type: 'string' },
  address: { type: 'string' },
  username: { type: 'string' },
  group: { type: 'string' },
  contact: { type: 'string' },
  flag: { type: 'string' },
  quota: { type: 'string' },
  expires: { type: 'string' },
  'password-stdin': { type: 'boolean' },
};

export const COMMANDS: CommandSpec[] = [
  {
    words: ['domain', 'add'],
    usage: 'domain add <domain> [--region <id>]',
    options: { region: { type: 'string' } },
    positionals: [1, 1],
    async run(ctx, [domain], values) {
      const d = await ctx.directory.addDomain(ctx.actor, domain ?? '', { region: str(values, 'region') });
      return { text: `${d.name} (region ${d.region}; postmaster@${d.name} created)`, json: d };
    },
  },
  {
    words: ['domain', 'list'],
    usage: 'domain list',
    positionals: [0, 0],
    async run(ctx) {
      const list = await ctx.directory.listDomains(ctx.actor);
      const text = list.length
        ? list.map((d) => `${d.name}\tregion ${d.region}\t${d.mailboxes} mailboxes`).join('\n')
        : '(no domains)';
      return { text, json: list };
    },
  },
  {
    words: ['domain', 'remove'],
    usage: 'domain remove <domain> [--force]',
    options: { force: { type: 'boolean' } },
    positionals: [1, 1],
    async run(ctx, [domain], values) {
      const r = await ctx.directory.removeDomain(ctx.actor, domain ?? '', { force: values.force === true });
      await ctx.purgeMail?.(r.mailboxIds);
      return {
        text: `removed ${domain} (${r.mailboxIds.length} mailboxes)`,
        json: { name: domain, removed: true, mailboxes: r.mailboxIds.length },
      };
    },
  },
  // DKIM keys (cli/dkim.ts).
  ...DKIM_COMMANDS,
  {
    words: ['mailbox', 'add'],
    usage:
      'mailbox add <domain> (--first <F> --last <L> [--address <local>] | --role <local>) [--username <u>] ' +
      '[--group <g>] [--contact <text>] [--flag <text>] [--quota <size>] [--expires YYYY-MM-DD] [--password-stdin]',
    options: mailboxAddOptions,
    positionals: [1, 1],
    async run(ctx, [domain], values) {
      const role = str(values, 'role');
      if (role !== undefined && (values.first !== undefined || values.last !== undefined || values.address)) {
        throw new UsageError('--role is for role addresses: no --first, --last or --address with it');
      }
      if (role === undefined && (values.first === undefined || values.last === undefined)) {
        throw new UsageError(
          'a personal mailbox needs --first and --last (or --role <local part> for a role address)',
        );
      }
      const given = passwordFrom(ctx, values);
      const password = given ?? randomPassword();
      const quota = str(values, 'quota');
      const m = await ctx.directory.addMailbox(ctx.actor, {
        domain: domain ?? '',
        kind: role !== undefined ? 'role' : 'personal',
        firstName: str(values, 'first'),
        lastName: str(values, 'last'),
        localPart: role ?? str(values, 'address'),
        username: str(values, 'username'),
        group: str(values, 'group'),
        contact: str(values, 'contact'),
        flag: str(values, 'flag'),
        quotaBytes: quota !== undefined ? parseSize(quota) : null,
        expiresOn: str(values, 'expires') ?? null,
        password,
      });
      const shown = given === undefined ? password : undefined;
      return { text: created(m, shown), json: { ...m, ...(shown ? { password: shown } : {}) } };
    },
  },
  {
    words: ['mailbox', 'list'],
    usage: 'mailbox list <domain> [--search <text>] [--limit <n>] [--offset <n>]',
    options: { search: { type: 'string' }, limit: { type: 'string' }, offset: { type: 'string' } },
    positionals: [1, 1],
    async run(ctx, [domain], values) {
      const num = (k: string) => {
        const v = str(values, k);
        if (v === undefined) return undefined;
        if (!/^\d+$/.test(v)) throw new UsageError(`--${k} needs a whole number`);
        return Number(v);
      };
      const r = await ctx.directory.listMailboxes(ctx.actor, domain ?? '', {
        search: str(values, 'search'),
        limit: num('limit'),
        offset: num('offset'),
      });
      const text = r.mailboxes
        .map((m) => {
          const state = m.state === 'removed' ? ' [removed]' : m.expired ? ' [expired]' : '';
          const expires = m.expiresOn ? ` expires ${m.expiresOn}` : '';
          const name = m.kind === 'role' ? 'role' : `${m.firstName ?? ''} ${m.lastName ?? ''}`.trim();
          return `${m.address}\t${name}\t${m.username}${expires}${state}`;
        })
        .join('\n');
      return { text: text || '(no mailboxes)', json: r };
    },
  },
  {
    words: ['mailbox', 'remove'],
    usage: 'mailbox remove <address> [--purge]',
    options: { purge: { type: 'boolean' } },
    positionals: [1, 1],
    async run(ctx, [address], values) {
      const r = await ctx.directory.removeMailbox(ctx.actor, address ?? '', { purge: values.purge === true });
      if (r.purged) await ctx.purgeMail?.([r.mailboxId]);
      const text = r.purged
        ? `purged ${r.address}`
        : `removed ${r.address}: disabled now, mail kept until ${r.purgeAfter}`;
      return { text, json: r };
    },
  },
  {
    words: ['mailbox', 'passwd'],
    usage: 'mailbox passwd <address> --password-stdin',
    options: { 'password-stdin': { type: 'boolean' } },
    positionals: [1, 1],
    async run(ctx, [address], values) {
      const password = passwordFrom(ctx, values);
      if (password === undefined)
        throw new UsageError('mailbox passwd reads the new password with --password-stdin');
      await ctx.directory.setPassword(ctx.actor, address ?? '', password);
      return { text: `password changed for ${address}`, json: { address, changed: true } };
    },
  },
  {
    words: ['mailbox', 'expire'],
    usage: 'mailbox expire <address> <YYYY-MM-DD|never>',
    positionals: [2, 2],
    async run(ctx, [address, date]) {
      const r = await ctx.directory.setExpiry(
        ctx.actor,
        address ?? '',
        date === 'never' ? null : (date ?? ''),
      );
      return {
        text: r.expiresOn ? `${address} expires after ${r.expiresOn}` : `${address} never expires`,
        json: { address, expiresOn: r.expiresOn },
      };
    },
  },
  {
    words: ['mailbox', 'rename'],
    usage: 'mailbox rename <address> [--first <F>] [--last <L>] [--address <local>]',
    options: { first: { type: 'string' }, last: { type: 'string' }, address: { type: 'string' } },
    positionals: [1, 1],
    async run(ctx, [address], values) {
      if (values.first === undefined && values.last === undefined && values.address === undefined) {
        throw new UsageError('mailbox rename needs --first, --last or --address');
      }
      const r = await ctx.directory.renameMailbox(ctx.actor, address ?? '', {
        firstName: str(values, 'first'),
        lastName: str(values, 'last'),
        localPart: str(values, 'address'),
      });
      return { text: `${created(r, undefined)}\n  legacy alias ${r.legacy}`, json: r };
    },
  },
  {
    words: ['alias', 'add'],
    usage: 'alias add <alias> <target>...',
    positionals: [2, 100],
    async run(ctx, [alias, ...targets]) {
      const a = await ctx.directory.addAlias(ctx.actor, alias ?? '', targets);
      return { text: `${a.address} -> ${a.targets.join(', ')}`, json: a };
    },
  },
  {
    words: ['alias', 'list'],
    usage: 'alias list <domain>',
    positionals: [1, 1],
    async run(ctx, [domain]) {
      const list = await ctx.directory.listAliases(ctx.actor, domain ?? '');
      const text = list
        .map((a) =>
          a.ambiguous
            ? `${a.address}\tambiguous\t${a.targets.join(', ')}`
            : `${a.address}\t${a.kind}\t${a.targets.join(', ')}`,
        )
        .join('\n');
      return { text: text || '(no aliases)', json: list };
    },
  },
  {
    words: ['alias', 'remove'],
    usage: 'alias remove <alias>',
    positionals: [1, 1],
    async run(ctx, [alias]) {
      await ctx.directory.removeAlias(ctx.actor, alias ?? '');
      return { text: `removed ${alias}`, json: { address: alias, removed: true } };
    },
  },
  {
    words: ['forward', 'add'],
    usage: 'forward add <address> <remote-address>',
    positionals: [2, 2],
    async run(ctx, [address, remote]) {
      const a = await ctx.directory.addForward(ctx.actor, address ?? '', remote ?? '');
      return { text: `${a.address} -> ${a.targets.join(', ')} (remote mailbox)`, json: a };
    },
  },
  {
    words: ['forward', 'remove'],
    usage: 'forward remove <address>',
    positionals: [1, 1],
    async run(ctx, [address]) {
      await ctx.directory.removeAlias(ctx.actor, address ?? '');
      return { text: `removed ${address}`, json: { address, removed: true } };
    },
  },
  {
    words: ['list', 'add'],
    usage: 'list add <address> <list-server-address>',
    positionals: [2, 2],
    async run(ctx, [address, server]) {
      const a = await ctx.directory.addListAlias(ctx.actor, address ?? '', server ?? '');
      return { text: `${a.address} -> ${a.targets.join(', ')} (distribution list)`, json: a };
    },
  },
  // `list remove` (a built-in list or a list alias): cli/list.ts.
  {
    words: ['admin', 'add'],
    usage: 'admin add <username> (--operator | --domains d1,d2) [--password-stdin]',
    options: {
      operator: { type: 'boolean' },
      domains: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
    positionals: [1, 1],
    async run(ctx, [username], values) {
      const operator = values.operator === true;
      const domains = str(values, 'domains');
      if (operator === (domains !== undefined))
        throw new UsageError('give exactly one of --operator or --domains d1,d2');
      const given = passwordFrom(ctx, values);
      const password = given ?? randomPassword();
      const a = await ctx.directory.addAdmin(ctx.actor, {
        username: username ?? '',
        role: operator ? 'operator' : 'domain-admin',
        domains: domains?.split(',').map((d) => d.trim()),
        password,
      });
      const shown = given === undefined ? password : undefined;
      const text = [
        `${a.username} (${a.role}${a.domains.length ? `: ${a.domains.join(', ')}` : ''})`,
        ...(shown ? [`  password ${shown} (generated; shown only now)`] : []),
      ].join('\n');
      return { text, json: { ...a, ...(shown ? { password: shown } : {}) } };
    },
  },
  {
    words: ['admin', 'list'],
    usage: 'admin list',
    positionals: [0, 0],
    async run(ctx) {
      const list = await ctx.directory.listAdmins(ctx.actor);
      const text = list
        .map((a) => `${a.username}\t${a.role}${a.domains.length ? `\t${a.domains.join(',')}` : ''}`)
        .join('\n');
      return { text, json: list };
    },
  },
  {
    words: ['admin', 'remove'],
    usage: 'admin remove <username>',
    positionals: [1, 1],
    async run(ctx, [username]) {
      await ctx.directory.removeAdmin(ctx.actor, username ?? '');
      return { text: `removed ${username}`, json: { username, removed: true } };
    },
  },
  {
    words: ['admin', 'passwd'],
    usage: 'admin passwd <username> --password-stdin',
    options: { 'password-stdin': { type: 'boolean' } },
    positionals: [1, 1],
    async run(ctx, [username], values) {
      const password = passwordFrom(ctx, values);
      if (password === undefined)
        throw new UsageError('admin passwd reads the new password with --password-stdin');
      await ctx.directory.setAdminPassword(ctx.actor, username ?? '', password);
      return { text: `password changed for ${username}`, json: { username, changed: true } };
    },
  },
  {
    // The way back in for an admin locked out of the web UI by their own restrictions (or a lost phone).
    words: ['admin', 'access'],
    usage:
      'admin access <username> [--networks cidr1,cidr2 | --any-network] [--cert-fingerprint <sha256> | --no-cert] [--no-totp]',
    options: {
      networks: { type: 'string' },
      'any-network': { type: 'boolean' },
      'cert-fingerprint': { type: 'string' },
      'no-cert': { type: 'boolean' },
      'no-totp': { type: 'boolean' },
    },
    positionals: [1, 1],
    async run(ctx, [username], values) {
      const networks = str(values, 'networks');
      const fingerprint = str(values, 'cert-fingerprint');
      const anyNetwork = values['any-network'] === true;
      const noCert = values['no-cert'] === true;
      if (networks !== undefined && anyNetwork)
        throw new UsageError('give --networks or --any-network, not both');
      if (fingerprint !== undefined && noCert)
        throw new UsageError('give --cert-fingerprint or --no-cert, not both');
      const change: { allowedNetworks?: string[] | null; certFingerprint?: string | null } = {};
      if (networks !== undefined) change.allowedNetworks = networks.split(',');
      if (anyNetwork) change.allowedNetworks = null;
      if (fingerprint !== undefined) change.certFingerprint = fingerprint;
      if (noCert) change.certFingerprint = null;
      const noTotp = values['no-totp'] === true;
      let view = (await ctx.directory.listAdmins(ctx.actor)).find(
        (a) => a.username === (username ?? '').trim().toLowerCase(),
      );
      if (!view) throw new DirectoryError('not-found', `no admin ${username}`);
      if (Object.keys(change).length > 0)
        view = await ctx.directory.setAdminAccess(ctx.actor, view.username, change);
      if (noTotp) await ctx.directory.setAdminTotpSecret(ctx.actor, view.username, null);
      const shown = { ...view, totp: noTotp ? false : view.totp };
      const text = [
        `${shown.username} (${shown.role})`,
        `  networks: ${shown.allowedNetworks.length > 0 ? shown.allowedNetworks.join(', ') : 'any'}`,
        `  client certificate: ${shown.certFingerprint ?? 'not required'}`,
        `  two-step sign-in: ${shown.totp ? 'on' : 'off'}`,
      ].join('\n');
      return { text, json: shown };
    },
  },
  {
    words: ['region', 'list'],
    usage: 'region list',
    positionals: [0, 0],
    async run(ctx) {
      const list = await ctx.directory.listRegions();
      return { text: list.map((r) => `${r.name}\t${r.title}`).join('\n'), json: list };
    },
  },
  {
    words: ['region', 'add'],
    usage: 'region add <id> [--title <text>]',
    options: { title: { type: 'string' } },
    positionals: [1, 1],
    async run(ctx, [id], values) {
      await ctx.directory.addRegion(ctx.actor, id ?? '', str(values, 'title'));
      return { text: `region ${id} added`, json: { name: id, title: str(values, 'title') ?? id } };
    },
  },
  {
    words: ['queue', 'list'],
    usage: 'queue list',
    positionals: [0, 0],
    async run(ctx) {
      const list = await (await queueOf(ctx)).list();
      const text = list
        .map((m) => {
          const waiting = m.recipients.filter((r) => r.state === 'queued');
          const rcpts = waiting.map(
            (r) => `${r.address} (${r.attempts} attempts${r.lastReply ? `: ${r.lastReply}` : ''})`,
          );
          return `${m.id}\t${m.createdAt}\t${m.size} bytes\tfrom <${m.sender}>\n  ${rcpts.join('\n  ')}`;
        })
        .join('\n');
      return { text: text || '(queue empty)', json: list };
    },
  },
  {
    words: ['queue', 'show'],
    usage: 'queue show <id>',
    positionals: [1, 1],
    async run(ctx, [id]) {
      const m = await (await queueOf(ctx)).show(id ?? '');
      if (!m) throw new DirectoryError('not-found', `no queued message ${id}`);
      const lines = [
        `id ${m.id}`,
        `from <${m.sender}>`,
        `size ${m.size}`,
        `queued ${m.createdAt}`,
        ...(m.envid ? [`envid ${m.envid}`] : []),
        ...(m.requireTls ? ['REQUIRETLS'] : []),
        ...m.recipients.map(
          (r) =>
            `to <${r.address}> ${r.state}, ${r.attempts} attempts${r.lastReply ? `, last: ${r.lastReply}` : ''}`,
        ),
        '',
        m.headers.trimEnd(),
      ];
      return { text: lines.join('\n'), json: m };
    },
  },
  {
    words: ['queue', 'retry'],
    usage: 'queue retry <id>',
    positionals: [1, 1],
    async run(ctx, [id]) {
      const n = await (await queueOf(ctx)).retry(id ?? '');
      if (n === 0) throw new DirectoryError('not-found', `no queued recipients for ${id}`);
      return { text: `${id}: ${n} recipient(s) due now`, json: { id, due: n } };
    },
  },
  {
    words: ['queue', 'delete'],
    usage: 'queue delete <id>',
    positionals: [1, 1],
    async run(ctx, [id]) {
      const done = await (await queueOf(ctx)).delete(id ?? '');
      if (!done) throw new DirectoryError('not-found', `no queued message ${id}`);
      return { text: `deleted ${id}`, json: { id, deleted: true } };
    },
  },
  {
    words: ['trace'],
    usage: 'trace <address|message-id>',
    positionals: [1, 1],
    async run(ctx, [query]) {
      const log = await (await queueOf(ctx)).trace(query ?? '');
      // Messages relayed to another region: that region's part follows, asked over the federation API.
      const across = ctx.peerTrace && log.length > 0 ? await ctx.peerTrace(log) : undefined;
      const peers = across?.peers ?? [];
      const lines = [
        ...(peers.length > 0 ? [`-- region ${across?.region} (here):`] : []),
        ...log.map(traceLine),
      ];
      for (const p of peers) {
        lines.push(
          p.error
            ? `-- region ${p.region} (${p.query}): not asked or no answer: ${p.error}`
            : `-- region ${p.region} (${p.query}):`,
        );
        if (p.entries)
          lines.push(...(p.entries.length ? p.entries.map(traceLine) : ['(nothing logged there)']));
      }
      const text = lines.join('\n');
      const json: unknown[] = [
        ...log,
        ...peers.flatMap((p): unknown[] =>
          p.error
            ? [{ region: p.region, query: p.query, error: p.error }]
            : (p.entries ?? []).map((e) => ({ ...e, region: p.region })),
        ),
      ];
      return { text: text || `(nothing found for ${query})`, json };
    },
  },
  {
    words: ['audit'],
    usage: 'audit [--domain <domain>] [--limit <n>]',
    options: { domain: { type: 'string' }, limit: { type: 'string' } },
    positionals: [0, 0],
    async run(ctx, _args, values) {
      const limit = str(values, 'limit');
      if (limit !== undefined && !/^\d+$/.test(limit)) throw new UsageError('--limit needs a whole number');
      const rows = await ctx.directory.listAudit(ctx.actor, {
        domain: str(values, 'domain'),
        limit: limit ? Number(limit) : undefined,
      });
      const text = rows.map((r) => `${r.at}\t${r.actor}@${r.actorFrom}\t${r.action}\t${r.target}`).join('\n');
      return { text: text || '(no changes)', json: rows };
    },
  },
  // The attachment gateway (cli/gateway.ts).
  ...GATEWAY_COMMANDS,
  // Built-in mailing lists (cli/list.ts).
  ...LIST_COMMANDS,
  // Quotas, editing, restoring, CSV import and export of mailboxes; domain limits (cli/mailbox-bulk.ts).
  ...MAILBOX_BULK_COMMANDS,
  // CSV import of aliases and list members, export of list members (cli/bulk-import.ts).
  ...BULK_IMPORT_COMMANDS,
];

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Options = {
  json: { type: 'boolean' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** The command spec that `argv` names (longest prefix of words), or null. */
export function findCommand(argv: string[]): CommandSpec | null {
  // Parse leniently with every known option so that option values are not taken for command words.
  const allOptions: Options = Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options ?? {}));
  const words = parseArgs({
    args: argv,
    options: allOptions,
    allowPositionals: true,
    strict: false,
  }).positionals;
  let best: CommandSpec | null = null;
  for (const spec of COMMANDS) {
    if (spec.words.every((w, i) => words[i] === w) && (!best || spec.words.length > best.words.length))
      best = spec;
  }
  return best;
}

export function usageText(): string {
  return [
    'usage: delegato <command> [options]',
    '',
    '  start [--config <region file>]',
    '  config show [--config <region file>]',
    '  config check [<region file>]',
    ...COMMANDS.map((c) => `  ${c.usage}`),
    '  federation init | issue <region> --out <file> | join <bundle> | status | hub stop|start|status',
    '  lab up | stop <region|hub> | start <region|hub> | down  --dir <dir>',
    '  jobs [--json] | jobs run <name>',
    '  backup <dir> [--keep <n>] | restore <dir> [--snapshot <id>]',
    '',
    'Every listing and creating command takes --json. See docs/cli.md.',
  ].join('\n');
}

/** Parses `argv` for a directory command: throws UsageError on unknown options or wrong arity. */
export function parseCommand(argv: string[]): { spec: CommandSpec; args: string[]; values: Values } {
  const spec = findCommand(argv);
  if (!spec) throw new UsageError(`unknown command "${argv.join(' ')}"; run "delegato --help"`);
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...GLOBAL_OPTIONS, ...spec.options },
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]}; usage: delegato ${spec.usage}`);
  }
  // The command words come first (`domain add x`), so drop that many positionals.
  const args = parsed.positionals.slice(spec.words.length);
  const [min, max] = spec.positionals;
  if (args.length < min || args.length > max) {
    throw new UsageError(`wrong number of arguments; usage: delegato ${spec.usage}`);
  }
  return { spec, args, values: parsed.values };
}

/** Maps an error to its exit status and its one stderr line. */
export function describeError(err: unknown): { code: number; message: string } {
  if (err instanceof UsageError) return { code: EXIT_USAGE, message: err.message };
  if (err instanceof DirectoryError) {
    return { code: err.code === 'unavailable' ? EXIT_FAILURE : EXIT_USAGE, message: err.message };
  }
  return { code: EXIT_FAILURE, message: err instanceof Error ? err.message : String(err) };
}

/** Runs one directory command; never throws. */
export async function executeCommand(argv: string[], ctx: CommandContext): Promise<CommandResult> {
  try {
    const { spec, args, values } = parseCommand(argv);
    const out = await spec.run(ctx, args, values);
    const stdout = values.json ? `${JSON.stringify(out.json, null, 2)}\n` : `${out.text}\n`;
    return { code: EXIT_OK, stdout, stderr: '' };
  } catch (err) {
    const { code, message } = describeError(err);
    return { code, stdout: '', stderr: `delegato: ${message}\n` };
  }
}
