/** SETQUOTA: RFC 9208 §4.1. Limits come from the directory; users cannot set them. */
import { command } from '../context.js';
import { refused } from '../errors.js';
import { ArgReader } from '../parser/args.js';

export const setquota = command({
  name: 'SETQUOTA',
  states: ['authenticated', 'selected'],
  parse(args) {
    const r = new ArgReader(args);
    r.astring('quota root');
    r.list('resource limits');
    r.end();
    return {};
  },
  async handle() {
    throw refused('NOPERM', 'Quota limits are set by the administrator.');
  },
});
