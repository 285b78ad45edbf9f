/** DELE msg: RFC 1939 §5. Marks only; the UPDATE state (QUIT) removes. */
import { command } from '../context.js';
import { parseMessageNumber, splitArguments } from '../parser.js';

export const dele = command({
  name: 'DELE',
  states: ['TRANSACTION'],
  parse(rest) {
    const [msg = ''] = splitArguments(rest, 1, 1);
    return { msg: parseMessageNumber(msg) };
  },
  async handle(ctx, { msg }) {
    ctx.maildrop.dele(msg);
    ctx.ok(`Message ${msg} deleted`);
  },
});
