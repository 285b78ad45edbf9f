/** USER name: RFC 1939 §7 (optional command), advertised by the USER capability (RFC 2449 §6.2). */
import { command } from '../context.js';
import { ArgumentError } from '../parser.js';
import { pop3Error } from '../replies.js';

export const user = command({
  name: 'USER',
  states: ['AUTHORIZATION'],
  parse(rest) {
    // Only the line length bounds the name: addresses are often longer than RFC 2449's 40 characters.
    const name = rest.trim();
    if (name.length === 0) throw new ArgumentError('Missing user name');
    return { name };
  },
  async handle(ctx, { name }) {
    // RFC 2595 §2.1: plain-text credentials only over TLS (or a trusted local connection).
    if (!ctx.secure) throw pop3Error('plaintextDisallowed');
    // Whether the name exists is never said here (RFC 1939 §7 allows either; saying it helps guessing).
    ctx.pendingUser = name;
    ctx.ok('Send your password');
  },
});
