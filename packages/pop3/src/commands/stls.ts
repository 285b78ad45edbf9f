/**
 * STLS: RFC 2595 §4. AUTHORIZATION state only; -ERR once TLS is active. Input pipelined after STLS is
 * discarded before the handshake (no plain-text command injection, CVE-2011-0411), and the session goes
 * back to the start of AUTHORIZATION (a pending USER is forgotten).
 */
import { command } from '../context.js';
import { splitArguments } from '../parser.js';
import { pop3Error } from '../replies.js';

export const stls = command({
  name: 'STLS',
  states: ['AUTHORIZATION'],
  parse(rest) {
    splitArguments(rest, 0, 0);
    return {};
  },
  async handle(ctx) {
    if (ctx.tls) throw pop3Error('tlsActive');
    ctx.pendingUser = null;
    await ctx.startTls();
  },
});
