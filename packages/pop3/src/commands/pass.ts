/** PASS string: RFC 1939 §7. Only right after a successful USER. */
import { passwordLogin } from '@delegato/sasl';
import { command } from '../context.js';
import { ArgumentError } from '../parser.js';
import { pop3Error } from '../replies.js';
import { logAuthFailure } from './login-outcome.js';
import { finishLogin } from './proxy-login.js';

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
    const { credentials, rateLimiter } = ctx.services;
    const outcome = await passwordLogin({
      mechanism: 'USER',
      login,
      password,
      credentials,
      rateLimiter,
      address: ctx.remoteAddress,
      onFailure: logAuthFailure(ctx, 'login'),
    });
    await finishLogin(ctx, outcome);
  },
});
