/**
 * `delegato list ...`: built-in mailing lists (issue 19). The list itself is directory data (scoped to the
 * domain like every directory command); its held posts are in the data dir of the region that holds them
 * (`lists/`, packages/mta/src/lists/post-store.ts). With no appliance running, `approve` and `reject` are
 * recorded and the appliance sends what they cause at its next start.
 *
 *   list create <list@domain> --owner <address> [--senders members|domain|anyone|<address,...>] [--moderated]
 *   list set <list@domain> [--owner <address>] [--senders ...] [--moderated | --unmoderated]
 *   list member add|remove <list@domain> <address>...
 *   list show <list@domain>          list pending <list@domain>
 *   list approve|reject <list@domain> <id>
 *   list remove <list@domain>      (also removes a distribution-list alias, `list add`)
 */
import type { ListView } from '@delegato/directory';
import { type ListModeration, PostNotFound, type PostView } from '@delegato/mta';
import { type CommandContext, type CommandSpec, UsageError } from './commands.js';

function str(values: Record<string, unknown>, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

/** `--senders`: one of the three rules, or the addresses that may post. */
export function sendersOption(input: string | undefined): { senders?: string; allowedSenders?: string[] } {
  if (input === undefined) return {};
  const v = input.trim().toLowerCase();
  if (v === 'members' || v === 'domain' || v === 'anyone') return { senders: v };
  const allowed = v
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
  if (allowed.length === 0 || allowed.some((a) => !a.includes('@'))) {
    throw new UsageError(`--senders takes members, domain, anyone or a comma-separated list of addresses`);
  }
  return { senders: 'listed', allowedSenders: allowed };
}

export function listText(l: ListView): string {
  const who =
    l.senders === 'listed' ? `listed senders: ${l.allowedSenders.join(', ')}` : `senders: ${l.senders}`;
  return [
    l.address,
    `  owner ${l.owner}`,
    `  ${who}`,
    `  ${l.moderated ? 'moderated: posts wait for the owner' : 'not moderated'}`,
    `  ${l.members.length} member(s)`,
    ...l.members.map((m) => `    ${m}`),
  ].join('\n');
}

function postLine(p: PostView): string {
  return `${p.id}\t${p.receivedAt}\t${p.from || p.sender}\t${p.size} bytes\t${p.subject || '(no subject)'}`;
}

/** The held posts of a list the actor may manage (scope and existence first, by the directory). */
async function moderationFor(
  ctx: CommandContext,
  list: string,
): Promise<{ view: ListView; m: ListModeration }> {
  const view = await ctx.directory.getList(ctx.actor, list);
  if (!ctx.lists) throw new UsageError('held list posts are not available here');
  return { view, m: await ctx.lists() };
}

async function decide(ctx: CommandContext, list: string, id: string, approve: boolean) {
  const { view, m } = await moderationFor(ctx, list);
  try {
    const post = approve
      ? await m.approve(view.address, id, ctx.actor.name)
      : await m.reject(view.address, id, ctx.actor.name);
    return {
      text: `${post.id} ${approve ? 'approved: it goes to the members' : 'rejected: the poster is told'}`,
      json: post,
    };
  } catch (err) {
    if (err instanceof PostNotFound) throw new UsageError(err.message);
    throw err;
  }
}

export const LIST_COMMANDS: CommandSpec[] = [
  {
    words: ['list', 'create'],
    usage:
      'list create <list@domain> --owner <address> [--senders members|domain|anyone|<address,...>] [--moderated]',
    options: { owner: { type: 'string' }, senders: { type: 'string' }, moderated: { type: 'boolean' } },
    positionals: [1, 1],
    async run(ctx, [address], values) {
      const owner = str(values, 'owner');
      if (!owner) throw new UsageError('--owner <address> is needed (a mailbox: the list owner moderates)');
      const list = await ctx.directory.createList(ctx.actor, {
        address: address ?? '',
        owner,
        ...sendersOption(str(values, 'senders')),
        moderated: values.moderated === true,
      });
      return { text: listText(list), json: list };
    },
  },
  ...(['add', 'remove'] as const).map(
    (verb): CommandSpec => ({
      words: ['list', 'member', verb],
      usage: `list member ${verb} <list@domain> <address>...`,
      positionals: [2, 1000],
      async run(ctx, [address, ...members]) {
        const list = await ctx.directory.changeListMembers(ctx.actor, address ?? '', {
          [verb]: members,
        });
        const changed = verb === 'add' ? list.added : list.removed;
        return {
          text: `${list.address}: ${changed.length} member(s) ${verb === 'add' ? 'added' : 'removed'}; ${list.members.length} now`,
          json: list,
        };
      },
    }),
  ),
  {
    words: ['list', 'set'],
    usage:
      'list set <list@domain> [--owner <address>] [--senders members|domain|anyone|<address,...>] [--moderated | --unmoderated]',
    options: {
      owner: { type: 'string' },
      senders: { type: 'string' },
      moderated: { type: 'boolean' },
      unmoderated: { type: 'boolean' },
    },
    positionals: [1, 1],
    async run(ctx, [address], values) {
      if (values.moderated && values.unmoderated)
        throw new UsageError('--moderated or --unmoderated, not both');
      const owner = str(values, 'owner');
      const settings = {
        ...(owner !== undefined ? { owner } : {}),
        ...sendersOption(str(values, 'senders')),
        ...(values.moderated ? { moderated: true } : values.unmoderated ? { moderated: false } : {}),
      };
      if (Object.keys(settings).length === 0) {
        throw new UsageError('give --owner, --senders, --moderated or --unmoderated');
      }
      const list = await ctx.directory.setListSettings(ctx.actor, address ?? '', settings);
      return { text: listText(list), json: list };
    },
  },
  {
    words: ['list', 'show'],
    usage: 'list show <list@domain>',
    positionals: [1, 1],
    async run(ctx, [address]) {
      const list = await ctx.directory.getList(ctx.actor, address ?? '');
      return { text: listText(list), json: list };
    },
  },
  {
    words: ['list', 'pending'],
    usage: 'list pending <list@domain>',
    positionals: [1, 1],
    async run(ctx, [address]) {
      const { view, m } = await moderationFor(ctx, address ?? '');
      const posts = await m.pending(view.address);
      return { text: posts.length ? posts.map(postLine).join('\n') : '(nothing held)', json: posts };
    },
  },
  {
    words: ['list', 'approve'],
    usage: 'list approve <list@domain> <id>',
    positionals: [2, 2],
    run: (ctx, [address, id]) => decide(ctx, address ?? '', id ?? '', true),
  },
  {
    words: ['list', 'reject'],
    usage: 'list reject <list@domain> <id>',
    positionals: [2, 2],
    run: (ctx, [address, id]) => decide(ctx, address ?? '', id ?? '', false),
  },
  {
    words: ['list', 'remove'],
    usage: 'list remove <address>',
    positionals: [1, 1],
    async run(ctx, [address]) {
      // A built-in list, or a distribution-list alias (`list add`): both go by this name.
      if (await ctx.directory.lookupList(address ?? ''))
        await ctx.directory.removeList(ctx.actor, address ?? '');
      else await ctx.directory.removeAlias(ctx.actor, address ?? '');
      return { text: `removed ${address}`, json: { address, removed: true } };
    },
  },
];
