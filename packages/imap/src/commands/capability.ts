/** CAPABILITY: RFC 9051 §6.1.1. Any state. */
import { command } from '../context.js';
import { ArgReader } from '../parser/args.js';

export const capability = command({
  name: 'CAPABILITY',
  states: ['not-authenticated', 'authenticated', 'selected'],
  parse(args) {
    new ArgReader(args).end();
    return {};
  },
  async handle(ctx) {
    await ctx.untagged(`CAPABILITY ${ctx.capabilities().join(' ')}`);
    return undefined;
  },
});
