/** PASS string: RFC 1939 §7. Only right after a successful USER. */
import { command } from '../context.js';
import { ArgumentError } from '../parser.js';
import { pop3Error } from '../replies.js';

export const pass = command({
  name: 'PASS',
  states: ['AUTHORIZATION'],
  parse(rest) {
    // RFC 1939 §7: "the server may treat the space as part of the password": the whole rest of the line.
    if (rest.length === 0) throw new ArgumentError('Missing password');
    return { password: rest };
  },
  async handle(ctx, { password }) {
    const login = ctx.pendingUser;
    if (login === null) throw pop3Error('passWithoutUser');
    // RFC 1939 §7: after a failed PASS the client starts again with USER.
    ctx.pendingUser = null;
    if (!ctx.secure) throw pop3Error('plaintextDisallowed');
    const limiter = ctx.services.rateLimiter;
    const decision = limiter?.check(ctx.remoteAddress, login);
    if (decision && !decision.allowed) {
      ctx.log?.info(
        {
          event: 'pop3.auth_failed',
          user: login,
          client: ctx.remoteAddress,
          mechanism: 'USER',
          reason: 'rate-limited',
        },
        'pop3 login refused',
      );
      throw pop3Error('loginDelay');
    }
    const user = await ctx.services.credentials.verifyPassword(login, password);
    if (!user) {
      limiter?.fail(ctx.remoteAddress, login);
      // The name typed and the client; never the password.
      ctx.log?.info(
        { event: 'pop3.auth_failed', user: login, client: ctx.remoteAddress, mechanism: 'USER' },
        'pop3 login failed',
      );
      throw pop3Error('authFailed');
    }
    limiter?.succeed(ctx.remoteAddress, login);
    await ctx.login(user);
  },
});
