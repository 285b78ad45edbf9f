/** RSET: RFC 1939 §5, unmarks every message marked as deleted. */
import { command } from '../context.js';
import { splitArguments } from '../parser.js';

export const rset = command({
  name: 'RSET',
  states: ['TRANSACTION'],
  parse(rest) {
    splitArguments(rest, 0, 0);
    return {};
  },
  async handle(ctx) {
    const drop = ctx.maildrop;
    drop.rset();
    const { count, size } = drop.stat();
    ctx.ok(`Maildrop has ${count} messages (${size} octets)`);
  },
});
