/**
 * IDLE: RFC 2177 (RFC 9051 §6.3.13). `+ idling`, then mailbox updates (EXISTS, EXPUNGE/VANISHED, FETCH
 * FLAGS) as they happen, until the client sends DONE. Anything else than DONE ends the IDLE with BAD.
 * Authenticated state too (RFC 9051 §6.3.13): nothing to report there but the keepalives.
 */
import { command } from '../context.js';
import { badCommand } from '../errors.js';
import { ArgReader } from '../parser/args.js';

export const idle = command({
  name: 'IDLE',
  states: ['authenticated', 'selected'],
  parse(args) {
    new ArgReader(args).end();
    return {};
  },
  async handle(ctx) {
    const outcome = await ctx.idle();
    if (outcome === 'closed') return { answered: true };
    if (outcome === 'bad') throw badCommand('Expected DONE.');
    return { text: 'Idle completed.' };
  },
});
