/** NAMESPACE: RFC 2342 / RFC 9051 §6.3.10. One personal namespace with prefix "" and delimiter "/". */
import { FOLDER_DELIMITER } from '../backend.js';
import { command } from '../context.js';
import { ArgReader } from '../parser/args.js';
import { quoted } from '../wire.js';

export const namespace = command({
  name: 'NAMESPACE',
  states: ['authenticated', 'selected'],
  parse(args) {
    new ArgReader(args).end();
    return {};
  },
  async handle(ctx) {
    await ctx.untagged(`NAMESPACE (("" ${quoted(FOLDER_DELIMITER)})) NIL NIL`);
    return undefined;
  },
});
