/**
 * STATUS mailbox (items): RFC 9051 §6.3.11, with HIGHESTMODSEQ (RFC 7162 §3.1.6: using it enables
 * CONDSTORE) and SIZE (RFC 8438).
 */
import { command } from '../context.js';
import { enableCondstore } from '../mailbox/condstore.js';
import { parseStatusItems, type StatusItem, statusValues } from '../mailbox/status.js';
import { ArgReader } from '../parser/args.js';

export const status = command<{ mailbox: string; items: StatusItem[] }>({
  name: 'STATUS',
  states: ['authenticated', 'selected'],
  parse(args, env) {
    const r = new ArgReader(args, env);
    const mailbox = r.mailbox();
    const items = parseStatusItems(r.list('status items'));
    r.end();
    return { mailbox, items };
  },
  async handle(ctx, { mailbox, items }) {
    if (items.includes('HIGHESTMODSEQ')) await enableCondstore(ctx);
    const { backend } = ctx.services;
    const info = await backend.folderInfo(ctx.user.id, mailbox);
    const values = await statusValues(backend, ctx.user.id, info, items, ctx.services.recent);
    await ctx.untagged(['STATUS ', ctx.mailboxName(info.name), ` (${values})`]);
    return undefined;
  },
});
