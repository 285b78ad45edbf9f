/** UNSELECT: RFC 3691 (RFC 9051 §6.4.2). Back to the authenticated state, nothing expunged. */
import { command } from '../context.js';
import { ArgReader } from '../parser/args.js';

export const unselect = command({
  name: 'UNSELECT',
  states: ['selected'],
  parse(args) {
    new ArgReader(args).end();
    return {};
  },
  async handle(ctx) {
    await ctx.select(null);
    return undefined;
  },
});
