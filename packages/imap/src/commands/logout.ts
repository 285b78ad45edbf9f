/** LOGOUT: RFC 9051 §6.1.3. `* BYE`, then the tagged OK, then the connection closes. */
import { command } from '../context.js';
import { ArgReader } from '../parser/args.js';

export const logout = command({
  name: 'LOGOUT',
  states: ['not-authenticated', 'authenticated', 'selected'],
  parse(args) {
    new ArgReader(args).end();
    return {};
  },
  async handle(ctx) {
    await ctx.logout();
    return { text: 'Logout completed.' };
  },
});
