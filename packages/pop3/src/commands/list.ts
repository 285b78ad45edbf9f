/** LIST [msg]: RFC 1939 §5 ("+OK n m" for one message, else a scan listing of every undeleted one). */
import { command } from '../context.js';
import { parseMessageNumber, splitArguments } from '../parser.js';

export const list = command({
  name: 'LIST',
  states: ['TRANSACTION'],
  parse(rest) {
    const [msg] = splitArguments(rest, 0, 1);
    return { msg: msg === undefined ? undefined : parseMessageNumber(msg) };
  },
  async handle(ctx, { msg }) {
    const drop = ctx.maildrop;
    if (msg !== undefined) {
      const m = drop.get(msg);
      ctx.ok(`${m.number} ${m.size}`);
      return;
    }
    const { count, size } = drop.stat();
    await ctx.multiline(
      `${count} messages (${size} octets)`,
      drop.live().map((m) => `${m.number} ${m.size}`),
    );
  },
});
