/** NOOP: RFC 1939 §5. */
import { command } from '../context.js';
import { splitArguments } from '../parser.js';

export const noop = command({
  name: 'NOOP',
  states: ['TRANSACTION'],
  parse(rest) {
    splitArguments(rest, 0, 0);
    return {};
  },
  async handle(ctx) {
    ctx.ok();
  },
});
