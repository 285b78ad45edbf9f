/** RETR msg: RFC 1939 §5. Dot-stuffed; a large message is streamed from the store, never buffered whole. */
import { command } from '../context.js';
import { parseMessageNumber, splitArguments } from '../parser.js';

export const retr = command({
  name: 'RETR',
  states: ['TRANSACTION'],
  parse(rest) {
    const [msg = ''] = splitArguments(rest, 1, 1);
    return { msg: parseMessageNumber(msg) };
  },
  async handle(ctx, { msg }) {
    const m = ctx.maildrop.get(msg);
    await ctx.sendMessage(m, `${m.size} octets`);
    ctx.maildrop.markRetrieved(msg);
  },
});
