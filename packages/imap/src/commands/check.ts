/** CHECK: RFC 3501 §6.4.1 (removed by RFC 9051, kept as NOOP). The store is always checkpointed. */
import { command } from '../context.js';
import { ArgReader } from '../parser/args.js';

export const check = command({
  name: 'CHECK',
  states: ['selected'],
  parse(args) {
    new ArgReader(args).end();
    return {};
  },
  async handle() {
    return undefined;
  },
});
