/**
 * CLOSE: RFC 9051 §6.4.1. Expunges the messages marked \Deleted (read-write only) without sending EXPUNGE
 * responses, and returns to the authenticated state.
 */
import { command } from '../context.js';
import { ArgReader } from '../parser/args.js';

export const close = command({
  name: 'CLOSE',
  states: ['selected'],
  parse(args) {
    new ArgReader(args).end();
    return {};
  },
  async handle(ctx) {
    const view = ctx.selected;
    if (!view.readOnly) await ctx.services.backend.expunge(ctx.user.id, view.folder);
    await ctx.select(null);
    return undefined;
  },
});
