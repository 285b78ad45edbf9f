/**
 * DELETE mailbox: RFC 9051 §6.3.5. INBOX cannot be deleted; inferiors stay (they are then listed under a
 * \Noselect parent). Deleting the selected mailbox unselects it first.
 */
import { command } from '../context.js';
import { refused } from '../errors.js';
import { ArgReader } from '../parser/args.js';

export const del = command({
  name: 'DELETE',
  states: ['authenticated', 'selected'],
  parse(args, env) {
    const r = new ArgReader(args, env);
    const mailbox = r.mailbox();
    r.end();
    return { mailbox };
  },
  async handle(ctx, { mailbox }) {
    if (mailbox === 'INBOX') throw refused('CANNOT', 'INBOX cannot be deleted.');
    const { backend } = ctx.services;
    // Fails with [NONEXISTENT] before anything changes.
    await backend.folderInfo(ctx.user.id, mailbox);
    if (ctx.selectedOrNull?.folder === mailbox) {
      await ctx.select(null);
      await ctx.untagged('OK [CLOSED] Mailbox closed.');
    }
    await backend.deleteFolder(ctx.user.id, mailbox);
    return undefined;
  },
});
