/**
 * LOGIN userid password: RFC 9051 §6.2.3. Refused on an insecure connection (LOGINDISABLED,
 * `NO [PRIVACYREQUIRED]`), rate limited (`NO [UNAVAILABLE]`), `NO [AUTHENTICATIONFAILED]` on wrong
 * credentials; the tagged OK carries the new capabilities (RFC 9051 §6.2.3).
 */
import { passwordLogin } from '@delegato/sasl';
import { command } from '../context.js';
import { ERRORS } from '../errors.js';
import { ArgReader } from '../parser/args.js';
import { logAuthFailure } from './login-outcome.js';
import { finishLogin } from './proxy-login.js';

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
    const { credentials, rateLimiter } = ctx.services;
    const outcome = await passwordLogin({
      mechanism: 'LOGIN',
      login: user,
      password,
      credentials,
      rateLimiter,
      address: ctx.remoteAddress,
      onFailure: logAuthFailure(ctx, 'login'),
    });
    return finishLogin(ctx, outcome);
  },
});
