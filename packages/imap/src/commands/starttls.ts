/**
 * STARTTLS: RFC 9051 §6.2.1. Not authenticated state only; BAD once TLS is active. The tagged OK goes out
 * before the handshake; input pipelined after the command is discarded (no plain-text command injection,
 * CVE-2011-0411), and the client must ask for the capabilities again (they change).
 */
import { command } from '../context.js';
import { badCommand } from '../errors.js';
import { ArgReader } from '../parser/args.js';

export const starttls = command({
  name: 'STARTTLS',
  states: ['not-authenticated'],
  parse(args) {
    new ArgReader(args).end();
    return {};
  },
  async handle(ctx) {
    if (ctx.tls) throw badCommand('TLS is already active.');
    await ctx.tagged('OK', 'Begin TLS negotiation now.');
    await ctx.startTls();
    return { answered: true };
  },
});
