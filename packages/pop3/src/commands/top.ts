/** TOP msg n: RFC 1939 §7, the header block, the blank line, then n lines of the body. */
import { command } from '../context.js';
import { parseLineCount, parseMessageNumber, splitArguments } from '../parser.js';

export const top = command({
  name: 'TOP',
  states: ['TRANSACTION'],
  parse(rest) {
    const [msg = '', lines = ''] = splitArguments(rest, 2, 2);
    return { msg: parseMessageNumber(msg), lines: parseLineCount(lines) };
  },
  async handle(ctx, { msg, lines }) {
    const m = ctx.maildrop.get(msg);
    await ctx.sendMessage(m, 'Top of message follows', lines);
  },
});
