/**
 * ID: RFC 2971. Any state. The client's field list (or NIL) is checked for shape and otherwise ignored
 * (not logged: it may identify the user's software, nothing we need); the answer names the server.
 */
import { command } from '../context.js';
import { badCommand } from '../errors.js';
import { ArgReader } from '../parser/args.js';
import { str } from '../wire.js';

/** RFC 2971 §3.3: at most 30 field-value pairs, fields at most 30 octets, values at most 1024. */
const MAX_PAIRS = 30;

export const id = command({
  name: 'ID',
  states: ['not-authenticated', 'authenticated', 'selected'],
  parse(args) {
    const r = new ArgReader(args);
    const a = r.any('parameter list');
    r.end();
    if (a.kind === 'atom' && a.value.toUpperCase() === 'NIL') return {};
    if (a.kind !== 'list') throw badCommand('Invalid ID parameters: list or NIL expected');
    if (a.items.length % 2 !== 0 || a.items.length > MAX_PAIRS * 2) throw badCommand('Invalid ID parameters');
    a.items.forEach((item, i) => {
      if (item.kind === 'list') throw badCommand('Invalid ID parameters');
      if (i % 2 === 0 && item.kind === 'atom')
        throw badCommand('Invalid ID parameters: field names are strings');
      if (item.kind === 'atom' && item.value.toUpperCase() !== 'NIL')
        throw badCommand('Invalid ID parameters');
    });
    return {};
  },
  async handle(ctx) {
    await ctx.untagged(['ID (', str('name'), ' ', str(ctx.services.implementation), ')']);
    return undefined;
  },
});
