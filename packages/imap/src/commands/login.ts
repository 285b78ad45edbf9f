/**
 * LOGIN userid password: RFC 9051 §6.2.3. Refused on an insecure connection (LOGINDISABLED,
 * `NO [PRIVACYREQUIRED]`), rate limited (`NO [UNAVAILABLE]`), `NO [AUTHENTICATIONFAILED]` on wrong
 * credentials; the tagged OK carries the new capabilities (RFC 9051 §6.2.3).
 */
import { command } from '../context.js';
import { ERRORS } from '../errors.js';
import { ArgReader } from '../parser/args.js';

export const login = command({
  name: 'LOGIN',
  states: ['not-authenticated'],
  parse(args) {
    const r = new ArgReader(args);
    const user = r.astring('user name');
    const password = r.astring('password');
    r.end();
    return { user, password };
  },
  async handle(ctx, { user, password }) {
    if (!ctx.secure) throw ERRORS.plaintextDisallowed();
    const limiter = ctx.services.rateLimiter;
    const decision = limiter?.check(ctx.remoteAddress, user);
    if (decision && !decision.allowed) {
      ctx.log?.info(
        {
          event: 'imap.auth_failed',
          user,
          client: ctx.remoteAddress,
          mechanism: 'LOGIN',
          reason: 'rate-limited',
        },
        'imap login refused',
      );
      throw ERRORS.loginDelay();
    }
    const account = await ctx.services.credentials.verifyPassword(user, password);
    if (!account) {
      limiter?.fail(ctx.remoteAddress, user);
      // The name typed and the client; never the password.
      ctx.log?.info(
        { event: 'imap.auth_failed', user, client: ctx.remoteAddress, mechanism: 'LOGIN' },
        'imap login failed',
      );
      throw ERRORS.authFailed();
    }
    limiter?.succeed(ctx.remoteAddress, user);
    await ctx.login(account);
    return { code: `CAPABILITY ${ctx.capabilities().join(' ')}`, text: 'Logged in' };
  },
});
