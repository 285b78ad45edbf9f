/** NOOP: RFC 9051 §6.1.2. Any state; in the selected state the pending updates go out (the session flushes). */
import { command } from '../context.js';
import { ArgReader } from '../parser/args.js';

export const noop = command({
  name: 'NOOP',
  states: ['not-authenticated', 'authenticated', 'selected'],
  parse(args) {
    new ArgReader(args).end();
    return {};
  },
  async handle() {
    return undefined;
  },
});
