/** SUBSCRIBE mailbox: RFC 9051 §6.3.7. The mailbox must exist. */
import { command } from '../context.js';
import { ArgReader } from '../parser/args.js';

export const subscribe = command({
  name: 'SUBSCRIBE',
  states: ['authenticated', 'selected'],
  parse(args, env) {
    const r = new ArgReader(args, env);
    const mailbox = r.mailbox();
    r.end();
    return { mailbox };
  },
  async handle(ctx, { mailbox }) {
    await ctx.services.backend.setSubscribed(ctx.user.id, mailbox, true);
    return undefined;
  },
});
