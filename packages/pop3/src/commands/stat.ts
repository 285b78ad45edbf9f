/** STAT: RFC 1939 §5, "+OK nn mm" (messages not marked as deleted, and their octets). */
import { command } from '../context.js';
import { splitArguments } from '../parser.js';

export const stat = command({
  name: 'STAT',
  states: ['TRANSACTION'],
  parse(rest) {
    splitArguments(rest, 0, 0);
    return {};
  },
  async handle(ctx) {
    const { count, size } = ctx.maildrop.stat();
    ctx.ok(`${count} ${size}`);
  },
});
