/** RETR msg: RFC 1939 §5. Streamed from the store, dot-stuffed; never buffered whole. */
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
    await ctx.sendMessage(m.uid, `${m.size} octets`);
    ctx.maildrop.markRetrieved(msg);
  },
});
